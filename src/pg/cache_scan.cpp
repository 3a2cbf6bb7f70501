#include "pg/cache_scan.hpp"

#include "pg/boundary.hpp"
#include "pg/table_shape.hpp"
#include "pg/cache_table.hpp"

#include <stdexcept>

extern "C" {
#include "catalog/namespace.h"
#include "commands/extension.h"
#include "utils/lsyscache.h"
}

namespace ducache::pg {

namespace {
constexpr int kMaxColumns = 5;  // the rebuild reads raw_data and the four documents it may rewrite
constexpr long kBatch = 16;
}  // namespace

void check_date_range(DateADT start, DateADT end)
{
    if (DATE_NOT_FINITE(start) || DATE_NOT_FINITE(end))
        pg_call([&] {
            ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
                            errmsg("date range bounds must be finite"),
                            errdetail("%s is %s.", DATE_NOT_FINITE(start) ? "start_date" : "end_date",
                                      DATE_IS_NOBEGIN(DATE_NOT_FINITE(start) ? start : end) ? "-infinity"
                                                                                            : "infinity")));
        });
    if (start > end)
        pg_call([&] {
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("start_date must not be after end_date"),
                            errdetail("start_date is %s, end_date is %s.",
                                      DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(start))),
                                      DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(end))))));
        });
}

CacheScan::CacheScan(const char *table, const char *columns, int ncolumns, DateADT start, DateADT end,
                     bool fresh_snapshot)
    : ncolumns_(ncolumns)
{
    if (ncolumns > kMaxColumns)
        throw std::logic_error("CacheScan: too many columns");
    portal_ = pg_call([&] {
        MemoryContext caller = CurrentMemoryContext;
        row_cxt_ = AllocSetContextCreate(CurrentMemoryContext, "ducache row", ALLOCSET_DEFAULT_SIZES);
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        // SPI leaves its own procedure context current after every call; that context lives
        // until SPI_finish, so anything the caller allocates while a scan is open would pile
        // up there. Each SPI call below switches back to the caller's context.
        MemoryContextSwitchTo(caller);
        char *sql = psprintf("SELECT date, %s FROM %s WHERE date OPERATOR(pg_catalog.>=) $1 "
                             "AND date OPERATOR(pg_catalog.<=) $2 ORDER BY date",
                             columns, table);
        Oid types[2] = {DATEOID, DATEOID};
        Datum args[2] = {DateADTGetDatum(start), DateADTGetDatum(end)};
        SPIPlanPtr plan = SPI_prepare(sql, 2, types);
        if (!plan)
            elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        Portal portal = SPI_cursor_open(nullptr, plan, args, nullptr, !fresh_snapshot);
        MemoryContextSwitchTo(caller);
        return portal;
    });
    // The binary values are read in place: never trust a column's type to still be the
    // checked one (the shape check holds a lock, this is the second line of defence).
    check_result_column(portal_->tupDesc, 1, DATEOID);
    for (int i = 0; i < ncolumns_; i++)
        check_result_column(portal_->tupDesc, i + 2, JSONBOID);
}

void CacheScan::fetch_batch()
{
    pg_call([&] {
        MemoryContext caller = CurrentMemoryContext;
        if (batch_)
            SPI_freetuptable(batch_);
        SPI_cursor_fetch(portal_, true, kBatch);
        batch_ = SPI_tuptable;
        batch_size_ = SPI_processed;
        batch_pos_ = 0;
        MemoryContextSwitchTo(caller);
    });
    if (batch_size_ == 0)
        done_ = true;
}

bool CacheScan::next(DateADT &date, const Jsonb **values)
{
    check_for_interrupts();
    if (done_)
        return false;
    if (batch_pos_ >= batch_size_) {
        fetch_batch();
        if (done_)
            return false;
    }
    HeapTuple tuple = batch_->vals[batch_pos_++];
    TupleDesc desc = batch_->tupdesc;
    pg_call([&] {
        MemoryContextReset(row_cxt_);
        MemoryContext old = MemoryContextSwitchTo(row_cxt_);
        bool isnull;
        date = DatumGetDateADT(SPI_getbinval(tuple, desc, 1, &isnull));
        for (int i = 0; i < ncolumns_; i++) {
            Datum d = SPI_getbinval(tuple, desc, i + 2, &isnull);
            values[i] = isnull ? nullptr : DatumGetJsonbP(d);  // detoasts into row_cxt_
        }
        MemoryContextSwitchTo(old);
    });
    rows_++;
    return true;
}

void CacheScan::finish()
{
    pg_call([&] {
        if (batch_)
            SPI_freetuptable(batch_);
        SPI_cursor_close(portal_);
        MemoryContextDelete(row_cxt_);
        SPI_finish();
    });
}

}  // namespace ducache::pg
