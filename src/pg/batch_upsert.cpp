// ducache_batch_upsert: every day of a batch written by one set-based statement.
// Everything is validated first (lengths, NULLs, duplicates, infinities, JSON shapes), so a
// bad batch writes nothing; then the writers' lock, then one INSERT .. ON CONFLICT over the
// arrays, rows in date order.
#include "core/error.hpp"
#include "core/aggregator.hpp"

#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/entry_reader.hpp"
#include "pg/srf_output.hpp"
#include "pg/writer_lock.hpp"

#include <algorithm>
#include <string>
#include <vector>

extern "C" {
#include "utils/array.h"
#include "utils/lsyscache.h"
}

namespace {

using namespace ducache;
using namespace ducache::pg;

constexpr int kArrays = 7;
const char *const kArrayNames[kArrays] = {"dates", "raw_data", "aggregated_by_user", "aggregated_by_model",
                                          "aggregated_by_provider", "total_metrics", "is_complete"};

struct Column {
    bool present = false;  // the argument (whole array) is not NULL
    int length = 0;
    Datum *values = nullptr;
    bool *nulls = nullptr;
};

[[noreturn]] void fail(const char *sqlstate, const std::string &message, const std::string &detail)
{
    throw core::Error(sqlstate, message, detail);
}

Column read_array(FunctionCallInfo fcinfo, int arg, Oid elemtype)
{
    Column c;
    if (PG_ARGISNULL(arg))
        return c;
    c.present = true;
    int ndim = 0;
    pg_call([&] {
        ArrayType *a = PG_GETARG_ARRAYTYPE_P(arg);
        ndim = ARR_NDIM(a);
        if (ndim > 1)
            return;
        int16 typlen;
        bool typbyval;
        char typalign;
        get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
        deconstruct_array(a, elemtype, typlen, typbyval, typalign, &c.values, &c.nulls, &c.length);
    });
    if (ndim > 1)
        fail("22023", std::string("ducache_batch_upsert: ") + kArrayNames[arg] + " must be a one-dimensional array",
             std::string(kArrayNames[arg]) + " has " + std::to_string(ndim) + " dimensions.");
    return c;
}

std::string index_text(int i) { return std::to_string(i + 1); }  // SQL arrays count from 1

bool is_object(Datum d)
{
    const Jsonb *j = reinterpret_cast<const Jsonb *>(DatumGetPointer(d));
    // deconstruct_array hands out detoasted elements (array elements are never compressed).
    return JB_ROOT_IS_OBJECT(j) && !JB_ROOT_IS_SCALAR(j);
}

}  // namespace

DUCACHE_FUNCTION(ducache_batch_upsert)
{
    const Oid types[kArrays] = {DATEOID, JSONBOID, JSONBOID, JSONBOID, JSONBOID, JSONBOID, BOOLOID};
    Column cols[kArrays];
    for (int i = 0; i < kArrays; i++)
        if (i < PG_NARGS())
            cols[i] = read_array(fcinfo, i, types[i]);

    // Whole arrays: dates and raw_data are required; the rest may be NULL (stored as NULLs).
    for (int i = 0; i < 2; i++)
        if (!cols[i].present)
            fail("22004", std::string("ducache_batch_upsert: ") + kArrayNames[i] + " must not be NULL",
                 std::string("The ") + kArrayNames[i] + " array is NULL.");
    int n = cols[0].length;
    for (int i = 1; i < kArrays; i++)
        if (cols[i].present && cols[i].length != n)
            fail("22023", "ducache_batch_upsert: arrays have different lengths",
                 "dates has " + std::to_string(n) + " elements, " + kArrayNames[i] + " has " +
                     std::to_string(cols[i].length) + ".");

    // Elements: dates and raw_data not NULL, dates finite, JSON values objects.
    for (int r = 0; r < n; r++) {
        if ((r & 1023) == 0)
            check_for_interrupts();
        for (int i = 0; i < 2; i++)
            if (cols[i].nulls[r])
                fail("22004", std::string("ducache_batch_upsert: NULL element in ") + kArrayNames[i],
                     std::string(kArrayNames[i]) + "[" + index_text(r) + "] is NULL.");
        DateADT d = DatumGetDateADT(cols[0].values[r]);
        if (DATE_NOT_FINITE(d))
            fail("22008", "ducache_batch_upsert: dates must be finite",
                 "dates[" + index_text(r) + "] is " + (DATE_IS_NOBEGIN(d) ? "-infinity." : "infinity."));
        for (int i = 1; i <= 5; i++)
            if (cols[i].present && !cols[i].nulls[r] && !is_object(cols[i].values[r]))
                fail("22023", std::string("ducache_batch_upsert: ") + kArrayNames[i] + " elements must be JSON objects",
                     std::string(kArrayNames[i]) + "[" + index_text(r) + "] (for " +
                         date_text(d) + ") is not a JSON object.");
    }
    // The same date twice would make ON CONFLICT touch a row twice: refuse it by name.
    std::vector<int> order(n);
    for (int r = 0; r < n; r++)
        order[r] = r;
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return DatumGetDateADT(cols[0].values[a]) < DatumGetDateADT(cols[0].values[b]);
    });
    for (int k = 1; k < n; k++)
        if (DatumGetDateADT(cols[0].values[order[k]]) == DatumGetDateADT(cols[0].values[order[k - 1]]))
            fail("21000", "ducache_batch_upsert: the same date appears twice in one batch",
                 "dates[" + index_text(order[k - 1]) + "] and dates[" + index_text(order[k]) + "] are both " +
                     date_text(DatumGetDateADT(cols[0].values[order[k]])) + ".");

    init_materialized_srf(fcinfo);
    if (n == 0)
        return (Datum)0;

    Oid table = cache_table_oid(fcinfo);
    const char *table_name = cache_table_name(fcinfo);
    const char *ts = timestamp_column(table);
    lock_cache_writers(table);

    // One statement for the whole batch, rows in date order (the same order in every writer).
    pg_call([&] {
        char *sql = psprintf(
            "INSERT INTO %s AS t (date, raw_data, aggregated_by_user, aggregated_by_model, "
            "aggregated_by_provider, total_metrics, is_complete, %s) "
            "SELECT u.d, u.r, u.au, u.am, u.ap, u.tm, COALESCE(u.c, true), pg_catalog.now() "
            "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), "
            "pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7)) AS u(d, r, au, am, ap, tm, c) "
            "ORDER BY u.d "
            "ON CONFLICT (date) DO UPDATE SET raw_data = EXCLUDED.raw_data, "
            "aggregated_by_user = EXCLUDED.aggregated_by_user, aggregated_by_model = EXCLUDED.aggregated_by_model, "
            "aggregated_by_provider = EXCLUDED.aggregated_by_provider, total_metrics = EXCLUDED.total_metrics, "
            "is_complete = EXCLUDED.is_complete, %s = EXCLUDED.%s "
            "RETURNING t.date, t.xmax OPERATOR(pg_catalog.=) '0'::pg_catalog.xid",
            table_name, quote_identifier(ts), quote_identifier(ts), quote_identifier(ts));
        Oid argtypes[kArrays] = {DATEARRAYOID, JSONBARRAYOID, JSONBARRAYOID, JSONBARRAYOID,
                                 JSONBARRAYOID, JSONBARRAYOID, BOOLARRAYOID};
        Datum args[kArrays];
        char argnulls[kArrays];
        for (int i = 0; i < kArrays; i++) {
            bool given = i < PG_NARGS() && !PG_ARGISNULL(i);
            args[i] = given ? PG_GETARG_DATUM(i) : (Datum)0;
            argnulls[i] = given ? ' ' : 'n';
        }
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        int rc = SPI_execute_with_args(sql, kArrays, argtypes, args, argnulls, false, 0);
        if (rc != SPI_OK_INSERT_RETURNING)
            elog(ERROR, "ducache_batch_upsert: insert failed: %s", SPI_result_code_string(rc));
        ReturnSetInfo *rs = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
        for (uint64 i = 0; i < SPI_processed; i++) {
            bool isnull;
            Datum values[2];
            bool nulls[2] = {false, false};
            values[0] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
            bool inserted = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
            values[1] = CStringGetTextDatum(inserted ? "inserted" : "updated");
            tuplestore_putvalues(rs->setResult, rs->setDesc, values, nulls);
        }
        SPI_finish();
    });
    return (Datum)0;
}
