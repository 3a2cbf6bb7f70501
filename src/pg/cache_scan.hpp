// Reads the cached days of a date range, in date order, through the date index and with the
// caller's rights (row-level security applies). One detoasted row at a time: memory stays
// bounded by the aggregation's keys, never by the number of days.
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

// Validates a range argument pair: ±infinity → 22008, start > end → 22023.
void check_date_range(DateADT start, DateADT end);

class CacheScan {
public:
    // columns: a comma-separated list of (trusted, constant) column names after "date".
    // fresh_snapshot: writers read with a snapshot taken now (after their lock), not the
    // statement's, so they never compute from rows older than the ones they overwrite.
    CacheScan(const char *table, const char *columns, int ncolumns, DateADT start, DateADT end,
              bool fresh_snapshot = false);
    // Next day; values[i] are detoasted jsonb (or NULL) valid until the next call.
    bool next(DateADT &date, const Jsonb **values);
    // Closes the cursor and SPI; call once after the last row.
    void finish();
    int rows() const { return rows_; }

private:
    void fetch_batch();

    int ncolumns_;
    Portal portal_ = nullptr;
    MemoryContext row_cxt_ = nullptr;
    SPITupleTable *batch_ = nullptr;
    uint64 batch_pos_ = 0, batch_size_ = 0;
    bool done_ = false;
    int rows_ = 0;
};

}  // namespace ducache::pg
