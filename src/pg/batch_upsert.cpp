// ducache_batch_upsert: every day of a batch written by one set-based statement.
// Everything is validated first (lengths, NULLs, duplicates, infinities, JSON shapes), so a
// bad batch writes nothing; then the writers' lock, then one INSERT .. ON CONFLICT over the
// arrays, rows in date order. Days whose stored row already holds exactly the given values
// are reported 'unchanged' and not written (src/pg/upsert_unchanged.*), or only have their
// timestamp bumped with touch_unchanged.
#include "core/error.hpp"
#include "core/aggregator.hpp"

#include "pg/cache_table.hpp"
#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/entry_reader.hpp"
#include "pg/rollup_refresh.hpp"
#include "pg/shard_catalog.hpp"
#include "pg/shard_upsert.hpp"
#include "pg/srf_output.hpp"
#include "pg/upsert_unchanged.hpp"
#include "pg/writer_lock.hpp"
#include "pg/date_text.hpp"

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

enum Action : char { kInserted, kUpdated, kUnchanged };
const char *const kActionNames[] = {"inserted", "updated", "unchanged"};

// One INSERT .. ON CONFLICT for every day to write (all of them, or those not marked in
// unchanged), rows in date order (the same order in every writer); records each day's action.
// Inside SPI and pg_call.
void write_days(FunctionCallInfo fcinfo, const char *table_name, const char *ts, const bool *unchanged, int n,
                const UpsertBatch &batch, char *action)
{
    char *sql = psprintf(
        "INSERT INTO %s AS t (date, raw_data, aggregated_by_user, aggregated_by_model, "
        "aggregated_by_provider, total_metrics, is_complete, %s) "
        "SELECT u.d, u.r, u.au, u.am, u.ap, u.tm, COALESCE(u.c, true), pg_catalog.now() "
        "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), "
        "pg_catalog.unnest($5), pg_catalog.unnest($6), pg_catalog.unnest($7), pg_catalog.unnest($8)) "
        "AS u(d, r, au, am, ap, tm, c, w) "
        "WHERE u.w IS NOT FALSE "
        "ORDER BY u.d "
        "ON CONFLICT (date) DO UPDATE SET raw_data = EXCLUDED.raw_data, "
        "aggregated_by_user = EXCLUDED.aggregated_by_user, aggregated_by_model = EXCLUDED.aggregated_by_model, "
        "aggregated_by_provider = EXCLUDED.aggregated_by_provider, total_metrics = EXCLUDED.total_metrics, "
        "is_complete = EXCLUDED.is_complete, %s = EXCLUDED.%s "
        "RETURNING t.date, t.xmax OPERATOR(pg_catalog.=) '0'::pg_catalog.xid",
        table_name, quote_identifier(ts), quote_identifier(ts), quote_identifier(ts));
    Oid argtypes[kArrays + 1] = {DATEARRAYOID, JSONBARRAYOID, JSONBARRAYOID, JSONBARRAYOID,
                                 JSONBARRAYOID, JSONBARRAYOID, BOOLARRAYOID, BOOLARRAYOID};
    Datum args[kArrays + 1];
    char argnulls[kArrays + 1];
    for (int i = 0; i < kArrays; i++) {
        bool given = i < PG_NARGS() && !PG_ARGISNULL(i);
        args[i] = given ? PG_GETARG_DATUM(i) : (Datum)0;
        argnulls[i] = given ? ' ' : 'n';
    }
    // The days to write: false where the stored row already holds the given values.
    args[kArrays] = (Datum)0;
    argnulls[kArrays] = 'n';
    if (unchanged != nullptr) {
        Datum *write = static_cast<Datum *>(palloc(sizeof(Datum) * n));
        for (int r = 0; r < n; r++)
            write[r] = BoolGetDatum(!unchanged[r]);
        args[kArrays] = PointerGetDatum(construct_array(write, n, BOOLOID, 1, true, TYPALIGN_CHAR));
        argnulls[kArrays] = ' ';
    }
    int rc = SPI_execute_with_args(sql, kArrays + 1, argtypes, args, argnulls, false, 0);
    if (rc != SPI_OK_INSERT_RETURNING)
        elog(ERROR, "ducache_batch_upsert: insert failed: %s", SPI_result_code_string(rc));
    for (uint64 i = 0; i < SPI_processed; i++) {
        bool isnull;
        Datum d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
        bool inserted = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
        int r = find_day(batch, DatumGetDateADT(d));
        if (r >= 0)
            action[r] = inserted ? kInserted : kUpdated;
    }
    SPI_freetuptable(SPI_tuptable);
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

    // A coordinator (ducache_shards filled) writes the days on its shards instead (§8).
    Oid schema = pg_call([&] { return get_func_namespace(fcinfo->flinfo->fn_oid); });
    char **servers = nullptr;
    int nshards = pg_call([&] { return coordinator_servers(schema, &servers); });
    if (nshards > 0) {
        ShardBatch sb{n, cols[0].values, order.data(), {}, !cols[6].present, (Datum)0, false};
        for (int c = 0; c < kSplitColumns; c++) {
            sb.json.present[c] = cols[c + 1].present;
            sb.json.values[c] = cols[c + 1].values;
            sb.json.nulls[c] = cols[c + 1].nulls;
        }
        if (cols[6].present)
            sb.complete = PG_GETARG_DATUM(6);
        sb.touch = PG_NARGS() > kArrays && !PG_ARGISNULL(kArrays) && PG_GETARG_BOOL(kArrays);
        write_through_shards(fcinfo, schema, nshards, servers, sb);
        return (Datum)0;
    }

    Oid table = cache_table_oid(fcinfo);
    const char *table_name = cache_table_name(fcinfo);
    const char *ts = timestamp_column(table);
    // Called through the 0.1.0 declaration (7 arguments), the 0.1.0 promise holds: every day is
    // written and its timestamp bumped. Through 0.2.0's, identical days are left alone.
    bool compare = PG_NARGS() > kArrays;
    bool touch = compare && !PG_ARGISNULL(kArrays) && PG_GETARG_BOOL(kArrays);
    UpsertBatch batch;
    batch.n = n;
    batch.dates = cols[0].values;
    batch.order = order.data();
    for (int k = 0; k < 5; k++)
        if (cols[k + 1].present) {
            batch.json[k] = cols[k + 1].values;
            batch.json_nulls[k] = cols[k + 1].nulls;
        }
    if (cols[6].present) {
        batch.complete = cols[6].values;
        batch.complete_nulls = cols[6].nulls;
    }
    std::vector<char> action(n, kUpdated);  // per input index
    bool *unchanged = static_cast<bool *>(palloc_or_throw(CurrentMemoryContext, sizeof(bool) * n, "the unchanged flags of a batch's days"));
    std::fill(unchanged, unchanged + n, false);
    lock_cache_writers(table);

    pg_call([&] {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        int same = compare ? mark_unchanged_days(table_name, PG_GETARG_DATUM(0), batch, unchanged) : 0;
        if (same < n)
            write_days(fcinfo, table_name, ts, same > 0 ? unchanged : nullptr, n, batch, action.data());
        if (same > 0) {
            Datum *days = static_cast<Datum *>(palloc(sizeof(Datum) * same));
            int k = 0;
            for (int r = 0; r < n; r++)
                if (unchanged[r]) {
                    days[k++] = cols[0].values[r];
                    action[r] = kUnchanged;
                }
            if (touch)
                touch_days(table_name, ts, PointerGetDatum(construct_array(days, same, DATEOID, 4, true, TYPALIGN_INT)));
        }
        SPI_finish();

        ReturnSetInfo *rs = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
        for (int k = 0; k < n; k++) {
            int r = order[k];
            Datum values[2] = {cols[0].values[r], CStringGetTextDatum(kActionNames[static_cast<int>(action[r])])};
            bool nulls[2] = {false, false};
            tuplestore_putvalues(rs->setResult, rs->setDesc, values, nulls);
        }
    });
    // The months of the days written (not the unchanged ones) get fresh rollups, in this
    // transaction (CONTRACT §7).
    std::vector<DateADT> written;
    for (int r = 0; r < n; r++)
        if (action[r] != kUnchanged)
            written.push_back(DatumGetDateADT(cols[0].values[r]));
    refresh_rollups_of_days(pg_call([&] { return get_func_namespace(fcinfo->flinfo->fn_oid); }), table_name, written);
    return (Datum)0;
}
