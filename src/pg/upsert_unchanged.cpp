// Finding the days of an upsert that would change nothing. Cheap on purpose: the size of a
// stored value is known from its header or TOAST pointer without fetching it, so a day whose
// size differs costs no detoasting at all; otherwise each stored value is detoasted once and
// compared with memcmp. Equal bytes are equal JSONB; different bytes for equal JSON (which
// could only come from numerics written with different headers) just mean one needless write.
#include "pg/upsert_unchanged.hpp"

extern "C" {
#include "access/detoast.h"
#include "executor/spi.h"
#include "utils/array.h"
}

#include <cstring>

namespace ducache::pg {

namespace {

// Stored and given values of the same size: detoast the stored one (once) and compare.
bool same_bytes(Datum stored, Datum given)
{
    struct varlena *g = reinterpret_cast<struct varlena *>(DatumGetPointer(given));
    struct varlena *s = reinterpret_cast<struct varlena *>(DatumGetPointer(stored));
    struct varlena *plain = pg_detoast_datum_packed(s);
    bool same = std::memcmp(VARDATA_ANY(plain), VARDATA_ANY(g), VARSIZE_ANY_EXHDR(g)) == 0;
    if (plain != s)
        pfree(plain);
    return same;
}

bool given_null(const UpsertBatch &b, int k, int r) { return b.json[k] == nullptr || b.json_nulls[k][r]; }

// Two passes: first what needs no fetching (is_complete, NULLs, every value's size, from its
// header or TOAST pointer), then the bytes; so a day that changed in size anywhere costs no
// detoasting at all, and a day that differs only in bytes detoasts up to the first difference.
bool same_row(HeapTuple row, TupleDesc desc, const UpsertBatch &b, int r)
{
    bool isnull;
    Datum complete = SPI_getbinval(row, desc, 7, &isnull);
    bool given_complete = b.complete == nullptr || b.complete_nulls[r] || DatumGetBool(b.complete[r]);
    if (isnull || DatumGetBool(complete) != given_complete)
        return false;
    Datum stored[5];
    bool stored_null[5];
    for (int k = 0; k < 5; k++) {
        stored[k] = SPI_getbinval(row, desc, k + 2, &stored_null[k]);
        if (stored_null[k] != given_null(b, k, r))
            return false;
        if (!stored_null[k] &&
            toast_raw_datum_size(stored[k]) != VARSIZE_ANY_EXHDR(DatumGetPointer(b.json[k][r])) + VARHDRSZ)
            return false;
    }
    for (int k = 0; k < 5; k++)
        if (!stored_null[k] && !same_bytes(stored[k], b.json[k][r]))
            return false;
    return true;
}

}  // namespace

int find_day(const UpsertBatch &b, DateADT d)
{
    int lo = 0, hi = b.n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (DatumGetDateADT(b.dates[b.order[mid]]) < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < b.n && DatumGetDateADT(b.dates[b.order[lo]]) == d ? b.order[lo] : -1;
}

int mark_unchanged_days(const char *table_name, Datum dates_array, const UpsertBatch &b, bool *unchanged)
{
    char *sql = psprintf(
        "SELECT t.date, t.raw_data, t.aggregated_by_user, t.aggregated_by_model, t.aggregated_by_provider, "
        "t.total_metrics, t.is_complete FROM %s AS t WHERE t.date OPERATOR(pg_catalog.=) ANY ($1) "
        "ORDER BY t.date FOR UPDATE OF t",
        table_name);
    Oid argtype = DATEARRAYOID;
    int rc = SPI_execute_with_args(sql, 1, &argtype, &dates_array, nullptr, false, 0);
    if (rc != SPI_OK_SELECT)
        elog(ERROR, "ducache_batch_upsert: reading the stored days failed: %s", SPI_result_code_string(rc));
    TupleDesc desc = SPI_tuptable->tupdesc;
    // A table whose columns are not of the expected types is not compared: the write reports it.
    for (int k = 2; k <= 6; k++)
        if (SPI_gettypeid(desc, k) != JSONBOID)
            return 0;
    if (SPI_gettypeid(desc, 7) != BOOLOID)
        return 0;
    int count = 0;
    for (uint64 i = 0; i < SPI_processed; i++) {
        if ((i & 63) == 0)
            CHECK_FOR_INTERRUPTS();
        HeapTuple row = SPI_tuptable->vals[i];
        bool isnull;
        Datum d = SPI_getbinval(row, desc, 1, &isnull);
        int r = isnull ? -1 : find_day(b, DatumGetDateADT(d));
        if (r >= 0 && same_row(row, desc, b, r)) {
            unchanged[r] = true;
            count++;
        }
    }
    SPI_freetuptable(SPI_tuptable);
    return count;
}

void touch_days(const char *table_name, const char *timestamp_column, Datum dates_array)
{
    char *sql = psprintf("UPDATE %s AS t SET %s = pg_catalog.now() WHERE t.date OPERATOR(pg_catalog.=) ANY ($1)",
                         table_name, quote_identifier(timestamp_column));
    Oid argtype = DATEARRAYOID;
    int rc = SPI_execute_with_args(sql, 1, &argtype, &dates_array, nullptr, false, 0);
    if (rc != SPI_OK_UPDATE)
        elog(ERROR, "ducache_batch_upsert: touching unchanged days failed: %s", SPI_result_code_string(rc));
}

}  // namespace ducache::pg
