#include "core/rollup_blocks.hpp"  // before PostgreSQL headers (pg/rollup_blocks.hpp uses it)

#include "pg/cache_scan.hpp"

#include "pg/boundary.hpp"
#include "pg/toast_read.hpp"
#include "pg/table_shape.hpp"
#include "pg/cache_table.hpp"
#include "pg/rollup_blocks.hpp"

#include <stdexcept>
#include <utility>

extern "C" {
#include "catalog/namespace.h"
#include "common/hashfn.h"
#include "commands/extension.h"
#include "lib/stringinfo.h"
#include "utils/lsyscache.h"
}

namespace ducache::pg {

namespace {
constexpr int kMaxColumns = 7;  // the dashboard's range: six documents of a rollup row and its user_pack
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

namespace {

DateADT month_start(DateADT d)
{
    int y, m, day;
    j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
    return date2j(y, m, 1) - POSTGRES_EPOCH_JDATE;
}

DateADT add_months(DateADT first, int n)
{
    int y, m, day;
    j2date(first + POSTGRES_EPOCH_JDATE, &y, &m, &day);
    int k = y * 12 + (m - 1) + n;
    int year = k >= 0 ? k / 12 : -((-k + 11) / 12);  // floor: BC years are negative
    return date2j(year, k - year * 12 + 1, 1) - POSTGRES_EPOCH_JDATE;
}

}  // namespace

// ducache_month_of(col) and ducache_block_of(col) (src/sql/12_rollup_tables.sql,
// 13_rollup_block_tables.sql) as expressions of built-in functions: their bodies with the column
// put in. PostgreSQL does not inline them (a STRICT SQL function whose body, a CASE, is not
// strict), so each call ran the function's own query through fmgr_sql: ~16K instructions, once
// for every day row of a scan (~7.5 M of a 90-day dashboard; docs/rollups.md "Round 14").
// sql/79_scan_month_of compares them with the functions (DUCACHE_TEST_HOOKS).
const char *month_of_sql(const char *col)
{
    return psprintf("(CASE WHEN NOT pg_catalog.isfinite(%s) THEN NULL::pg_catalog.date"
                    " WHEN %s OPERATOR(pg_catalog.<) '4714-12-01 BC'::pg_catalog.date"
                    " THEN '4714-11-24 BC'::pg_catalog.date"
                    " ELSE %s OPERATOR(pg_catalog.-) (EXTRACT(day FROM %s)::pg_catalog.int4 OPERATOR(pg_catalog.-) 1)"
                    " END)",
                    col, col, col, col);
}

const char *block_of_sql(const char *col)
{
    return psprintf("(CASE WHEN NOT pg_catalog.isfinite(%s) THEN NULL::pg_catalog.date"
                    " WHEN %s OPERATOR(pg_catalog.<) '4714-12-01 BC'::pg_catalog.date"
                    " THEN '4714-11-24 BC'::pg_catalog.date"
                    " WHEN EXTRACT(day FROM %s)::pg_catalog.int4 OPERATOR(pg_catalog.>=) 25"
                    " THEN %s OPERATOR(pg_catalog.-) (EXTRACT(day FROM %s)::pg_catalog.int4 OPERATOR(pg_catalog.-) 25)"
                    " ELSE %s OPERATOR(pg_catalog.-) ((EXTRACT(day FROM %s)::pg_catalog.int4 OPERATOR(pg_catalog.-) 1)"
                    " OPERATOR(pg_catalog.%%) 8)"
                    " END)",
                    col, col, col, col, col, col, col);
}

namespace {

// "p.a, p.b" from "a, b" (trusted constant column lists; NULL::type stays as it is).
const char *prefixed(const char *prefix, const char *columns)
{
    StringInfoData out;
    initStringInfo(&out);
    const char *p = columns;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        // "NULL::jsonb": a column one side of a rollup scan does not have
        bool constant = strncmp(p, "NULL", 4) == 0;
        appendStringInfo(&out, "%s%s%s%.*s", out.len ? ", " : "", constant ? "" : prefix, constant ? "" : ".",
                         int(e - p), p);
        p = e;
    }
    return out.data;
}

// The scans' statements, prepared once per backend and kept (SPI_keepplan: in CacheMemoryContext).
// Parsing, analyzing and planning the rollup statements at every scan cost ~2 ms CPU of an 8.5 ms
// month dashboard at S, two scans (docs/scale-out-speed.md, round 8). The key is everything the
// statement depends on: its text (columns, tables, the schema, every name in it quoted and schema-
// qualified: no OID is baked into it), the number of its parameters (all dates) and the role it is
// planned and run as (pg/rollup_access.hpp). What the text does not say, PostgreSQL's plan cache
// checks at every use of a kept plan: DDL on a table or function it uses (DROP EXTENSION and CREATE
// EXTENSION again, ALTER TABLE: the statement is analyzed again from its text, so the new tables
// are found by name), search_path, and row-level security for the role running it. The plan is the
// generic one (the dates as parameters) from the first scan on (CURSOR_OPT_GENERIC_PLAN): left to
// itself the plan cache plans a custom plan at each of a statement's first five scans, ~3 M
// instructions a statement at L, three statements a dashboard (docs/rollups.md "Round 14"). The
// generic plans read every table as the custom ones did (the date and month indexes of
// daily_usage_cache and ducache_rollups; the block and day tables have none), and the plan
// cache's own choice after five scans was the generic plan already (docs/scale-out-speed.md,
// round 8). A session's plan_cache_mode = force_custom_plan still forces custom plans.
struct KeptScanPlan {
    char *sql;  // TopMemoryContext; nullptr: a free slot
    uint32 hash;
    int nargs;
    Oid owner;
    SPIPlanPtr plan;
    uint64 used;  // the last use, for the least recently used to go first
};
// Distinct statements: a few dozen at most (each reader's columns, with or without rollups and
// day projections, per extension schema and owner); a backend that uses more replans the least
// recently used. A kept rollup statement with its generic plan takes ~170 kB of
// CacheMemoryContext (S), so at most ~5 MB a backend. A scan's plan stays valid while its portal
// is open even when freed here (the portal holds its own reference to the plan), and one call
// never opens this many scans anyway.
constexpr int kKeptPlans = 32;
KeptScanPlan kept_plans[kKeptPlans];
uint64 kept_plan_clock = 0;
const Oid kDateArgs[4] = {DATEOID, DATEOID, DATEOID, DATEOID};

// Inside SPI, as the role the scan runs as (owner: the rollups' owner, or InvalidOid).
SPIPlanPtr kept_scan_plan(const char *sql, int nargs, Oid owner)
{
    const uint32 hash = hash_bytes(reinterpret_cast<const unsigned char *>(sql), int(strlen(sql)));
    KeptScanPlan *slot = nullptr;  // the slot to fill: a free one, else the least recently used
    for (KeptScanPlan &k : kept_plans) {
        if (k.sql != nullptr && k.hash == hash && k.nargs == nargs && k.owner == owner && strcmp(k.sql, sql) == 0) {
            k.used = ++kept_plan_clock;
            return k.plan;
        }
        if (slot == nullptr || (slot->sql != nullptr && (k.sql == nullptr || k.used < slot->used)))
            slot = &k;
    }
    SPIPlanPtr plan = SPI_prepare_cursor(sql, nargs, const_cast<Oid *>(kDateArgs), CURSOR_OPT_GENERIC_PLAN);
    if (plan == nullptr)
        elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
    char *key = MemoryContextStrdup(TopMemoryContext, sql);
    if (slot->sql != nullptr) {
        SPI_freeplan(slot->plan);
        pfree(slot->sql);
        slot->sql = nullptr;
    }
    if (SPI_keepplan(plan) != 0)
        elog(ERROR, "ducache: keeping the scan's plan failed");
    *slot = KeptScanPlan{key, hash, nargs, owner, plan, ++kept_plan_clock};
    return plan;
}

}  // namespace

CacheScan::CacheScan(const char *table, const char *columns, int ncolumns, DateADT start, DateADT end,
                     bool fresh_snapshot)
    : ncolumns_(ncolumns), start_(start)
{
    if (ncolumns > kMaxColumns)
        throw std::logic_error("CacheScan: too many columns");
    const char *sql = pg_call([&] {
        return (const char *)psprintf("SELECT date, %s FROM %s WHERE date OPERATOR(pg_catalog.>=) $1 "
                                      "AND date OPERATOR(pg_catalog.<=) $2 ORDER BY date",
                                      columns, table);
    });
    Datum args[2] = {DateADTGetDatum(start), DateADTGetDatum(end)};
    open(sql, 2, args, fresh_snapshot);
}

CacheScan::CacheScan(const char *table, const char *columns, const char *rollup_columns, int ncolumns,
                     DateADT start, DateADT end, const RollupAccess &access, int bytea_columns)
    : ncolumns_(ncolumns), nbytea_(bytea_columns), start_(start)
{
    if (ncolumns > kMaxColumns || bytea_columns < 0 || bytea_columns > kMaxBytea || bytea_columns > ncolumns)
        throw std::logic_error("CacheScan: too many columns");
    // The whole calendar months inside [start, end]: from first_month to last_month (their
    // first days). start and end are finite (check_date_range), far from the date limits.
    DateADT first_month = month_start(start) == start ? start : add_months(month_start(start), 1);
    DateADT last_month = add_months(month_start(end + 1), -1);
    const bool day_projections = access.day_projections && access.days != nullptr;
    if (!access.usable() || (first_month > last_month && !range_holds_a_block(start, end) && !day_projections)) {
        const char *sql = pg_call([&] {
            return (const char *)psprintf("SELECT date, %s FROM %s WHERE date OPERATOR(pg_catalog.>=) $1 "
                                          "AND date OPERATOR(pg_catalog.<=) $2 ORDER BY date",
                                          columns, table);
        });
        Datum args[2] = {DateADTGetDatum(start), DateADTGetDatum(end)};
        open(sql, 2, args, false);
        return;
    }
    with_rollups_ = true;
    first_value_ = 5;
    owner_ = access.owner;
    // Everything schema-qualified, operators written OPERATOR(pg_catalog.x): the query runs as
    // the rollups' owner, maybe a superuser, whatever the caller's search_path.
    const char *sql = pg_call([&] {
        // The day projections (src/sql/16_rollup_day_tables.sql) of the days no fresh month or
        // block covers, when the reader asked for them: fresh when built, their month's rollup
        // row exists (they have no foreign key to it), and no change row of their month names
        // no block, their block without a day, or them.
        const char *days_cte = "", *days_rows = "", *days_skip = "";
        if (day_projections) {
            // The rollup rows and change rows of the months of [$1, $2] are read once each
            // (day_months, day_changes), not by an index scan per projection (~90 a 90-day
            // range): a projection's month is its day's (the table's CHECK), so inside them.
            const char *first = month_of_sql("$1");
            days_cte = psprintf(
                ", day_months AS MATERIALIZED ("
                " SELECT r.month FROM %s r"
                " WHERE r.month OPERATOR(pg_catalog.>=) %s AND r.month OPERATOR(pg_catalog.<=) $2),"
                " day_changes AS MATERIALIZED ("
                " SELECT c.month, c.block, c.day FROM %s c"
                " WHERE c.month OPERATOR(pg_catalog.>=) %s AND c.month OPERATOR(pg_catalog.<=) $2),"
                " fresh_days AS MATERIALIZED ("
                " SELECT p.day, p.month, p.days, %s FROM %s p"
                " WHERE p.built AND p.day OPERATOR(pg_catalog.>=) $1 AND p.day OPERATOR(pg_catalog.<=) $2"
                " AND EXISTS (SELECT FROM day_months r WHERE r.month OPERATOR(pg_catalog.=) p.month)"
                " AND NOT EXISTS (SELECT FROM fresh f WHERE f.month OPERATOR(pg_catalog.=) p.month)"
                " AND NOT EXISTS (SELECT FROM fresh_blocks k WHERE p.day OPERATOR(pg_catalog.>=) k.block"
                " AND p.day OPERATOR(pg_catalog.<=) k.last_day)"
                " AND NOT EXISTS (SELECT FROM day_changes c WHERE c.month OPERATOR(pg_catalog.=) p.month"
                " AND (c.block IS NULL OR (c.day IS NULL AND c.block OPERATOR(pg_catalog.=) %s)"
                " OR c.day OPERATOR(pg_catalog.=) p.day)))",
                access.rollups, first, access.changes, first, prefixed("p", rollup_columns), access.days,
                block_of_sql("p.day"));
            days_rows = psprintf(" UNION ALL SELECT p.day, p.month, true, p.days, %s FROM fresh_days p",
                                 prefixed("p", rollup_columns));
            days_skip = " AND NOT EXISTS (SELECT FROM fresh_days p WHERE p.day OPERATOR(pg_catalog.=) d.date)";
        }
        // The day blocks (pg/rollup_blocks.hpp) wholly inside the range whose month is not read
        // from a fresh month rollup: fresh when built and no change row of the month names them
        // or names no block. Rows come sorted by their first day; the second column is the
        // date their day masks count from (a rollup's month).
        return (const char *)psprintf(
            "WITH fresh AS MATERIALIZED ("
            " SELECT r.month, r.days, %s FROM %s r"
            " WHERE r.built AND r.month OPERATOR(pg_catalog.>=) $3 AND r.month OPERATOR(pg_catalog.<=) $4"
            " AND NOT EXISTS (SELECT FROM %s c WHERE c.month OPERATOR(pg_catalog.=) r.month)),"
            " fresh_blocks AS MATERIALIZED ("
            " SELECT b.block, b.last_day, b.month, b.days, %s FROM %s b"
            " WHERE b.built AND b.block OPERATOR(pg_catalog.>=) $1 AND b.block OPERATOR(pg_catalog.<=) $2"
            " AND b.last_day OPERATOR(pg_catalog.<=) $2"
            " AND NOT EXISTS (SELECT FROM fresh f WHERE f.month OPERATOR(pg_catalog.=) b.month)"
            " AND NOT EXISTS (SELECT FROM %s c WHERE c.month OPERATOR(pg_catalog.=) b.month"
            " AND (c.block IS NULL OR c.block OPERATOR(pg_catalog.=) b.block)))"
            "%s"
            " SELECT f.month, f.month, true, f.days, %s FROM fresh f"
            " UNION ALL"
            " SELECT k.block, k.month, true, k.days, %s FROM fresh_blocks k"
            "%s"
            " UNION ALL"
            " SELECT d.date, d.date, false, 1, %s FROM %s d"
            " WHERE d.date OPERATOR(pg_catalog.>=) $1 AND d.date OPERATOR(pg_catalog.<=) $2"
            " AND NOT EXISTS (SELECT FROM fresh f WHERE f.month OPERATOR(pg_catalog.=) %s)"
            " AND NOT EXISTS (SELECT FROM fresh_blocks k WHERE d.date OPERATOR(pg_catalog.>=) k.block"
            " AND d.date OPERATOR(pg_catalog.<=) k.last_day)%s"
            " ORDER BY 1",
            prefixed("r", rollup_columns), access.rollups, access.changes, prefixed("b", rollup_columns),
            access.blocks, access.changes, days_cte, prefixed("f", rollup_columns), prefixed("k", rollup_columns),
            days_rows, prefixed("d", columns), table, month_of_sql("d.date"), days_skip);
    });
    Datum args[4] = {DateADTGetDatum(start), DateADTGetDatum(end), DateADTGetDatum(first_month),
                     DateADTGetDatum(last_month)};
    open(sql, 4, args, false);
}

void CacheScan::open(const char *sql, int nargs, Datum *args, bool fresh_snapshot)
{
    portal_ = pg_call([&] {
        MemoryContext caller = CurrentMemoryContext;
        row_cxt_ = AllocSetContextCreate(CurrentMemoryContext, "ducache row", ALLOCSET_DEFAULT_SIZES);
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        // SPI leaves its own procedure context current after every call; that context lives
        // until SPI_finish, so anything the caller allocates while a scan is open would pile
        // up there. Each SPI call below switches back to the caller's context.
        MemoryContextSwitchTo(caller);
        Portal portal = nullptr;
        // Planned and started (privileges checked) as the owner when reading rollups; the
        // statement is parsed and planned once per backend (kept_scan_plan, above).
        as_rollup_owner(owner_, [&] {
            SPIPlanPtr plan = kept_scan_plan(sql, nargs, owner_);
            portal = SPI_cursor_open(nullptr, plan, args, nullptr, !fresh_snapshot);
        });
        MemoryContextSwitchTo(caller);
        return portal;
    });
    // The binary values are read in place: never trust a column's type to still be the
    // checked one (the shape check holds a lock, this is the second line of defence).
    check_result_column(portal_->tupDesc, 1, DATEOID);
    if (with_rollups_) {
        check_result_column(portal_->tupDesc, 2, DATEOID);
        check_result_column(portal_->tupDesc, 3, BOOLOID);
        check_result_column(portal_->tupDesc, 4, INT4OID);
    }
    for (int i = 0; i < ncolumns_; i++)
        check_result_column(portal_->tupDesc, i + first_value_, i >= ncolumns_ - nbytea_ ? BYTEAOID : JSONBOID);
}

void CacheScan::fetch_batch()
{
    pg_call([&] {
        MemoryContext caller = CurrentMemoryContext;
        if (batch_)
            SPI_freetuptable(batch_);
        as_rollup_owner(owner_, [&] { SPI_cursor_fetch(portal_, true, kBatch); });
        batch_ = SPI_tuptable;
        batch_size_ = SPI_processed;
        batch_pos_ = 0;
        MemoryContextSwitchTo(caller);
    });
    if (batch_size_ == 0)
        done_ = true;
}

bool CacheScan::next(ScanRow &row, const Jsonb **values)
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
        if (keep_previous_) {  // the previous row's context is left as it is: the other one is reused
            if (other_row_cxt_ == nullptr)
                other_row_cxt_ = AllocSetContextCreate(MemoryContextGetParent(row_cxt_), "ducache row",
                                                       ALLOCSET_DEFAULT_SIZES);
            else
                MemoryContextReset(other_row_cxt_);
            std::swap(row_cxt_, other_row_cxt_);
        } else {
            MemoryContextReset(row_cxt_);
        }
        MemoryContext old = MemoryContextSwitchTo(row_cxt_);
        bool isnull;
        row.date = DatumGetDateADT(SPI_getbinval(tuple, desc, 1, &isnull));
        row.rollup = false;
        row.days = 1;
        if (with_rollups_) {
            row.date = DatumGetDateADT(SPI_getbinval(tuple, desc, 2, &isnull));  // a block: its month
            row.rollup = DatumGetBool(SPI_getbinval(tuple, desc, 3, &isnull));
            Datum days = SPI_getbinval(tuple, desc, 4, &isnull);
            row.days = isnull ? 0 : uint32(DatumGetInt32(days));
        }
        for (int i = 0; i < ncolumns_ - nbytea_; i++) {
            Datum d = SPI_getbinval(tuple, desc, i + first_value_, &isnull);
            values[i] = isnull ? nullptr : detoast_jsonb(d);  // detoasts into row_cxt_ (pg/toast_read.hpp)
        }
        for (int k = 0; k < nbytea_; k++) {
            const int i = ncolumns_ - nbytea_ + k;
            Datum d = SPI_getbinval(tuple, desc, i + first_value_, &isnull);
            values[i] = nullptr;
            bytea_[k] = isnull ? nullptr : DatumGetByteaPP(d);  // detoasts into row_cxt_
        }
        MemoryContextSwitchTo(old);
    });
    row.base = row.date - start_;
    rows_++;
    if (row.rollup) {
        rollup_rows_++;
        rollup_rows_total_++;
    }
    return true;
}

bool CacheScan::next(DateADT &date, const Jsonb **values)
{
    ScanRow row;
    if (!next(row, values))
        return false;
    date = row.date;
    return true;
}

CacheScan::~CacheScan()
{
    if (finished_ || portal_ == nullptr || PgError::in_flight())
        return;
    try {
        finish();
    } catch (...) {
        // A failure to close is left to the transaction's abort, which releases SPI too.
    }
}

void CacheScan::finish()
{
    finished_ = true;
    pg_call([&] {
        if (batch_)
            SPI_freetuptable(batch_);
        SPI_cursor_close(portal_);
        MemoryContextDelete(row_cxt_);
        if (other_row_cxt_ != nullptr)
            MemoryContextDelete(other_row_cxt_);
        SPI_finish();
    });
}

}  // namespace ducache::pg
