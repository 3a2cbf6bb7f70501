#include "core/breakdown_partial.hpp"
#include "core/error.hpp"
#include "core/parallel_rule.hpp"

#include "pg/boundary.hpp"
#include "pg/day_claims.hpp"
#include "pg/parallel_breakdown.hpp"
#include "pg/parallel_trace.hpp"
#include "pg/partial_dsa.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "access/parallel.h"
#include "jit/jit.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
}

#include <unistd.h>

namespace ducache::pg {

namespace {

// Days the workers read in this backend's last user breakdown; -1: it took the serial path.
int32 last_worker_days = -1;
// Days claimed in its query (pg/day_claims.hpp; every participant's); -1: no query ran. And
// whether the leader read every row (so workers could leave it the last days): 1, 0; -1.
int32 last_days_claimed = -1;
int32 last_leader_reads = -1;

// take_partial_handoff()'s target and the caller's output; set only while
// parallel_user_breakdown's query runs.
core::BreakdownPartial *handoff_target = nullptr;
PartialEmit *handoff_emit = nullptr;
// The error context of the breakdown's own call: the output run inside the query reports its
// errors as the serial path's output does (without the partial query's SPI context line).
ErrorContextCallback *handoff_error_context = nullptr;

struct HandoffScope {
    HandoffScope(core::BreakdownPartial &out, PartialEmit *emit)
    {
        handoff_target = &out;
        handoff_emit = emit;
        handoff_error_context = error_context_stack;
    }
    ~HandoffScope()  // also when the query raised an error
    {
        handoff_target = nullptr;
        handoff_emit = nullptr;
        handoff_error_context = nullptr;
    }
    HandoffScope(const HandoffScope &) = delete;
    HandoffScope &operator=(const HandoffScope &) = delete;
};

DateADT month_start(DateADT d)
{
    int y, m, day;
    j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
    return date2j(y, m, 1) - POSTGRES_EPOCH_JDATE;
}

DateADT next_month(DateADT first)
{
    int y, m, day;
    j2date(first + POSTGRES_EPOCH_JDATE, &y, &m, &day);
    return m == 12 ? date2j(y + 1, 1, 1) - POSTGRES_EPOCH_JDATE : date2j(y, m + 1, 1) - POSTGRES_EPOCH_JDATE;
}

DateADT previous_month(DateADT first)
{
    int y, m, day;
    j2date(first + POSTGRES_EPOCH_JDATE, &y, &m, &day);
    return m == 1 ? date2j(y - 1, 12, 1) - POSTGRES_EPOCH_JDATE : date2j(y, m - 1, 1) - POSTGRES_EPOCH_JDATE;
}

// Whether CacheScan could read a rollup row for [start, end]: a month rollup built for a whole
// month inside the range, or a day block built wholly inside it (fresh ones are a subset).
// Run read-only, so with the statement's snapshot, the one the breakdown's query uses too.
bool rollup_built_in(const RollupAccess &rollups, DateADT start, DateADT end)
{
    DateADT first_month = month_start(start) == start ? start : next_month(month_start(start));
    DateADT last_month = previous_month(month_start(end + 1));
    const char *sql = psprintf(
        "SELECT EXISTS (SELECT FROM %s r WHERE r.built AND r.month OPERATOR(pg_catalog.>=) $3"
        " AND r.month OPERATOR(pg_catalog.<=) $4)"
        " OR EXISTS (SELECT FROM %s b WHERE b.built AND b.block OPERATOR(pg_catalog.>=) $1"
        " AND b.block OPERATOR(pg_catalog.<=) $2 AND b.last_day OPERATOR(pg_catalog.<=) $2)",
        rollups.rollups, rollups.blocks);
    Oid types[4] = {DATEOID, DATEOID, DATEOID, DATEOID};
    Datum args[4] = {DateADTGetDatum(start), DateADTGetDatum(end), DateADTGetDatum(first_month),
                     DateADTGetDatum(last_month)};
    bool built = false;
    as_rollup_owner(rollups.owner, [&] {
        if (SPI_execute_with_args(sql, 4, types, args, nullptr, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
            elog(ERROR, "ducache: the rollup check failed");
        bool isnull;
        built = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
    });
    return built;
}

// The range's stored bytes of aggregated_by_user: each row's pg_column_size, which a TOAST
// pointer holds (nothing is fetched from the TOAST table or decompressed).
int64 range_stored_bytes(const char *table, DateADT start, DateADT end)
{
    const char *sql = psprintf("SELECT pg_catalog.sum(pg_catalog.pg_column_size(aggregated_by_user))::int8 FROM %s"
                               " WHERE date OPERATOR(pg_catalog.>=) $1 AND date OPERATOR(pg_catalog.<=) $2",
                               table);
    Oid types[2] = {DATEOID, DATEOID};
    Datum args[2] = {DateADTGetDatum(start), DateADTGetDatum(end)};
    if (SPI_execute_with_args(sql, 2, types, args, nullptr, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
        elog(ERROR, "ducache: the range size query failed");
    bool isnull;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    return isnull ? 0 : DatumGetInt64(d);
}

// Whether ducache_user_partial is declared next to the calling function: the library also runs
// under an older version's declarations until ALTER EXTENSION ducache UPDATE.
bool partial_aggregate_declared(Oid schema)
{
    Oid types[3] = {JSONBOID, DATEOID, DATEOID};
    List *name = list_make2(makeString(get_namespace_name(schema)), makeString(pstrdup("ducache_user_partial")));
    return OidIsValid(LookupFuncName(name, 3, types, true));
}

// The aggregate over the range's days, `scans` whole-range scans under a UNION ALL
// (core::parallel_scans: one a participant). Parallel Append gives each scan wholly to one
// participant (Parallel Seq Scans, where the planner picks them, share their rows instead), and
// the transition reads a day only if it claims it first (pg/day_claims.hpp), so the
// participants take the days one by one as they come free. Every scan reads the latest day
// first: the serial read and the detoast floor read in date order, after which a table larger
// than the buffer pool holds its last days there, and reading them first hits them before the
// reads of the other days evict them (the nested LiteMaaS year at L, 919 MB against 512 MB of
// shared_buffers: ~19,000-27,000 buffers read a call, against ~32,000-36,000 with round 10's
// date chunks and ~47,000-55,000 with the leader's scan in date order and the worker's from the
// end; round 18 of issue 13). $3 and $4 are not in the text: the workers read them from the
// query's parameters (pg/partial_dsa.hpp, pg/day_claims.hpp).
const char *partial_query(const char *schema, const char *table, int scans)
{
    StringInfoData q;
    initStringInfo(&q);
    appendStringInfo(&q, "SELECT %s.ducache_user_partial(d.aggregated_by_user, d.date, $1) FROM (", schema);
    for (int c = 0; c < scans; c++)
        appendStringInfo(&q,
                         "%s(SELECT date, aggregated_by_user FROM %s"
                         " WHERE date OPERATOR(pg_catalog.>=) $1 AND date OPERATOR(pg_catalog.<=) $2"
                         " ORDER BY date USING OPERATOR(pg_catalog.>))",
                         c ? " UNION ALL " : "", table);
    appendStringInfoString(&q, ") d");
    return q.data;
}

// The CPUs online, asked once per backend (0: unknown).
int cpus_online()
{
    static long cpus = -2;
    if (cpus == -2)
        cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus > 0 && cpus < 1 << 20 ? int(cpus) : 0;
}

// Runs the partial query read-only (the statement's snapshot, as CacheScan's cursor; SPI plans
// it with parallel workers allowed, CURSOR_OPT_PARALLEL_OK) with max_parallel_workers_per_gather
// lowered to `workers` for the query alone when that is fewer (core::parallel_workers_for): a
// GUC nest level of its own, popped on return and on error, as a function's SET clause.
// `args` holds the two dates, the own-query marker ($3, unused by the text: it tells the
// workers to hand their partials over in the query's shared memory, pg/partial_dsa.hpp) and
// the day claims' token ($4, unused by the text too: pg/day_claims.hpp).
// JIT is off for the query alone too (round 18 of issue 13): its cost is the transition's
// declared cost a row (COST 100000), so a plan over a year and more passes jit_above_cost, and
// compiling its expressions took ~5 ms in the leader and ~25 ms in a worker before its first row;
// all of the query's time is in the C transition, which JIT cannot speed up.
void run_partial_query(const char *sql, Datum *args, int workers)
{
    Oid types[4] = {DATEOID, DATEOID, INT8OID, INT8OID};
    const bool fewer = workers < max_parallel_workers_per_gather;
    const int nest = fewer || jit_enabled ? NewGUCNestLevel() : -1;
    if (fewer)
        (void)set_config_option("max_parallel_workers_per_gather", psprintf("%d", workers), PGC_USERSET,
                                PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    if (jit_enabled)
        (void)set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
    PG_TRY();
    {
        if (SPI_execute_with_args(sql, 4, types, args, nullptr, true, 0) != SPI_OK_SELECT || SPI_processed != 1)
            elog(ERROR, "ducache: the parallel user breakdown query failed");
    }
    PG_CATCH();
    {
        if (nest >= 0)
            AtEOXact_GUC(false, nest);
        PG_RE_THROW();
    }
    PG_END_TRY();
    if (nest >= 0)
        AtEOXact_GUC(true, nest);
}

}  // namespace

core::BreakdownPartial *partial_handoff_target()
{
    return IsParallelWorker() ? nullptr : handoff_target;
}

void run_partial_emit(core::BreakdownPartial &complete)
{
    PartialEmit *e = IsParallelWorker() ? nullptr : handoff_emit;
    if (!e || !e->fn || e->emitted || &complete != handoff_target || complete.failed)
        return;
    handoff_emit = nullptr;  // once, even if the output raises
    struct ContextSwap {  // restored on return and when the output throws
        ErrorContextCallback *saved = error_context_stack;
        ~ContextSwap() { error_context_stack = saved; }
    } swap;
    error_context_stack = handoff_error_context;
    e->fn(e->ctx, complete);
    e->emitted = true;
}

core::BreakdownPartial *take_partial_handoff()
{
    core::BreakdownPartial *t = IsParallelWorker() ? nullptr : handoff_target;
    if (t)
        handoff_target = nullptr;
    return t;
}

bool parallel_user_breakdown(FunctionCallInfo fcinfo, const char *table, DateADT start, DateADT end,
                             const RollupAccess &rollups, core::BreakdownPartial &out, PartialEmit *emit)
{
    last_worker_days = -1;
    last_days_claimed = -1;
    last_leader_reads = -1;
    reset_partial_dsa_reads();
    trace_parallel("call start");
    const int min_days = parallel_min_days_setting(), min_kb = parallel_min_kb_setting();
    const int days = end - start + 1;
    core::ParallelPlan plan = core::plan_parallel_breakdown(days, min_days, -1, min_kb);
    if (!plan.workers)
        return false;
    if (max_parallel_workers_per_gather <= 0 || IsInParallelMode())
        return false;
    const bool ask_bytes = core::parallel_needs_bytes(days, min_days, min_kb);
    const char *data = nullptr;
    size_t len = 0;
    HandoffScope handoff(out, emit);
    bool ran = pg_call([&] {
        MemoryContext caller = CurrentMemoryContext;
        Oid schema_oid = get_func_namespace(fcinfo->flinfo->fn_oid);
        if (!partial_aggregate_declared(schema_oid))
            return false;
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        if (rollups.usable() && rollup_built_in(rollups, start, end)) {
            SPI_finish();
            MemoryContextSwitchTo(caller);
            return false;
        }
        // The byte minimum (core/parallel_rule.hpp): a range whose stored bytes are few stays serial.
        if (ask_bytes && !core::plan_parallel_breakdown(days, min_days, range_stored_bytes(table, start, end), min_kb).workers) {
            SPI_finish();
            MemoryContextSwitchTo(caller);
            return false;
        }
        // The day claims (pg/day_claims.hpp); none to be had (the DSM slots full): serial.
        DayClaimsSegment claims = create_day_claims(days);
        if (!claims.seg) {
            SPI_finish();
            MemoryContextSwitchTo(caller);
            return false;
        }
        const int workers = core::parallel_workers_for(max_parallel_workers_per_gather, cpus_online(),
                                                       parallel_leader_participation);
        const char *schema = quote_identifier(get_namespace_name(schema_oid));
        const char *sql = partial_query(schema, table, core::parallel_scans(workers, parallel_leader_participation));
        Datum args[4] = {DateADTGetDatum(start), DateADTGetDatum(end), Int64GetDatum(kPartialDsaMarker),
                         Int64GetDatum(claims.token)};
        trace_parallel("query start");
        run_partial_query(sql, args, workers);
        trace_parallel("query end");
        last_days_claimed = int32(days_claimed(claims.shared));
        last_leader_reads = leader_reads_all(claims.shared) ? 1 : 0;
        release_day_claims(claims);
        bool isnull;
        Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
        if (!isnull) {
            bytea *b = DatumGetByteaPP(d);
            data = VARDATA_ANY(b);
            len = VARSIZE_ANY_EXHDR(b);
        }
        MemoryContextSwitchTo(caller);
        return true;
    });
    if (!ran)
        return false;
    // The final function combined the state into `out` and returned NULL (the hand-off), or
    // the bytes of a state that did not come through it live in SPI's memory until SPI_finish.
    bool ok = data == nullptr ? !out.failed : !core::serialized_partial_failed(data, len);
    try {
        if (ok && data)
            core::deserialize_breakdown_partial(data, len, out);
    } catch (const core::Error &) {
        pg_call([&] { SPI_finish(); });
        throw;
    }
    pg_call([&] { SPI_finish(); });
    if (ok)
        last_worker_days = out.worker_days;
    return ok;
}

}  // namespace ducache::pg

#ifdef DUCACHE_TEST_HOOKS
// Test hook: the days parallel workers read in this backend's last user breakdown (-1: serial).
DUCACHE_FUNCTION(ducache_test_parallel_worker_days)
{
    PG_RETURN_INT32(ducache::pg::last_worker_days);
}

// Test hook: the days claimed in this backend's last parallel user breakdown query, by every
// participant (pg/day_claims.hpp; each day of the range that has a row, once); -1: none ran.
DUCACHE_FUNCTION(ducache_test_parallel_days_claimed)
{
    PG_RETURN_INT32(ducache::pg::last_days_claimed);
}

// Test hook: whether the leader of that query read every row, so its workers could leave it the
// last days (1), or its plan shared rows out or it read none (0); -1: none ran.
DUCACHE_FUNCTION(ducache_test_parallel_leader_reads)
{
    PG_RETURN_INT32(ducache::pg::last_leader_reads);
}
#endif
