// Reads the cached days of a date range, in date order, through the date index and with the
// caller's rights (row-level security applies). One detoasted row at a time: memory stays
// bounded by the aggregation's keys, never by the number of days.
//
// With rollups (CONTRACT §7): ONE query, so one snapshot, returns the fresh rollups of the whole
// calendar months inside the range (built, and no change of the month logged in
// ducache_rollup_changes visible to the snapshot) and the day rows of every other month, in
// date order. It runs as the rollups' owner, and only when pg/rollup_access.hpp allows it;
// otherwise it is the days-only query, as the caller. Each statement's SPI plan is kept for the
// backend (pg/cache_scan.cpp): parsed and planned once, revalidated by PostgreSQL's plan cache.
#pragma once

#include "pg/postgres.hpp"
#include "pg/rollup_access.hpp"

namespace ducache::pg {

// Validates a range argument pair: ±infinity → 22008, start > end → 22023.
void check_date_range(DateADT start, DateADT end);

// SQL text (palloc'd) for ducache_month_of(col) / ducache_block_of(col) written with built-in
// functions only, as the scans use it (col: a trusted column reference).
const char *month_of_sql(const char *col);
const char *block_of_sql(const char *col);

// One row of a scan: a cached day, or a month rollup.
struct ScanRow {
    DateADT date;     // the day; a rollup: its month's first day
    int32 base;       // date - the scan's start: the row's day offset base
    bool rollup;
    uint32 days;      // a rollup: its "days" column (bit d-1: day d cached); a day: 1
    int day_count() const { return __builtin_popcount(days); }
};

class CacheScan {
public:
    // Days only. columns: a comma-separated list of (trusted, constant) column names after
    // "date". fresh_snapshot: writers read with a snapshot taken now (after their lock), not
    // the statement's, so they never compute from rows older than the ones they overwrite.
    CacheScan(const char *table, const char *columns, int ncolumns, DateADT start, DateADT end,
              bool fresh_snapshot = false);
    // Days, and fresh rollups when `access` is usable: rollup_columns names the ducache_rollups
    // column that stands for each of `columns`, one for one (trusted constants).
    // bytea_columns: the last that many columns are bytea (user_pack), not jsonb: their
    // values[i] are nullptr, their values bytea_value(k) (k-th of them).
    CacheScan(const char *table, const char *columns, const char *rollup_columns, int ncolumns, DateADT start,
              DateADT end, const RollupAccess &access, int bytea_columns = 0);
    // Next row; values[i] are detoasted jsonb (or NULL) valid until the next call.
    bool next(ScanRow &row, const Jsonb **values);
    // The row's k-th bytea column, detoasted (short varlena header possible: VARDATA_ANY), or NULL.
    const bytea *bytea_value(int k) const { return bytea_[k]; }
    // From now on a row's values stay valid until the row after it is read (two row contexts
    // taking turns): the dashboard compares a pack row's blocks with the previous row's in
    // place (pg/dashboard_user_pack.hpp) instead of copying them.
    void keep_previous_row() { keep_previous_ = true; }
    bool next(DateADT &date, const Jsonb **values);
    // Closes the cursor and SPI; call once after the last row.
    void finish();
    // A scan left unfinished by a ducache error (core::Error) is closed here, so the call can
    // be run again (pg/rollup_retry.hpp); after a PostgreSQL ERROR the transaction's abort
    // cleans up instead.
    ~CacheScan();
    CacheScan(const CacheScan &) = delete;
    CacheScan &operator=(const CacheScan &) = delete;
    // Rollup rows all scans of this backend have returned (pg/rollup_retry.hpp compares).
    static uint64 rollup_rows_read() { return rollup_rows_total_; }
    int rows() const { return rows_; }
    // Rollup rows read so far.
    int rollup_rows() const { return rollup_rows_; }

private:
    void open(const char *sql, int nargs, Datum *args, bool fresh_snapshot);
    void fetch_batch();

    static constexpr int kMaxBytea = 1;
    int ncolumns_;
    int nbytea_ = 0;
    const bytea *bytea_[kMaxBytea] = {};
    int first_value_ = 2;  // attribute number of the first jsonb column
    bool with_rollups_ = false;
    Oid owner_ = InvalidOid;  // valid: the cursor runs as this role
    DateADT start_;
    Portal portal_ = nullptr;
    MemoryContext row_cxt_ = nullptr, other_row_cxt_ = nullptr;  // (the second: keep_previous_row)
    bool keep_previous_ = false;
    SPITupleTable *batch_ = nullptr;
    uint64 batch_pos_ = 0, batch_size_ = 0;
    bool done_ = false;
    int rows_ = 0, rollup_rows_ = 0;
    bool finished_ = false;
    static inline uint64 rollup_rows_total_ = 0;
};

}  // namespace ducache::pg
