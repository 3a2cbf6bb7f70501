// The unfiltered user breakdown over many days with parallel workers (issue 13): one SPI
// query runs the ducache_user_partial aggregate over the range's days, one whole-range scan a
// participant (the leader and its workers) under a UNION ALL, so PostgreSQL's Parallel Append
// gives each its own; each reads the days it claims first (pg/day_claims.hpp; until round 18
// the range was split in date chunks, one participant a chunk), builds a partial state
// (core/breakdown_partial.hpp), and the leader combines them. The result is the serial path's,
// exactly.
#pragma once

#include "core/breakdown_partial.hpp"

#include "pg/postgres.hpp"
#include "pg/rollup_access.hpp"

namespace ducache::pg {

// Sums aggregated_by_user over [start, end] into `out` with parallel workers and returns true;
// returns false when the path does not apply (`out` then holds no key): a short range
// (ducache.parallel_min_days), no workers to ask for (max_parallel_workers_per_gather = 0, or
// already inside a parallel query), a rollup or day block built in the range (CacheScan reads
// those), or a partial that came back failed (a value the serial order must judge: the serial
// path then re-reads the days and raises what it finds).
//
// `emit` (optional): the caller's output of the complete state, run by the leader's final
// function when every partial is in `out` and none failed (round 13 of issue 13): the output
// (the users table, the sort, the rows) then runs while the executor still has to wait for the
// worker processes to exit (~3 ms after their last row on the 2-CPU machine), instead of after
// that wait. It runs inside the query, in parallel mode: read-only work only. `*emitted` tells
// whether it ran (false: the caller writes the output itself, as for a serial read).
struct PartialEmit {
    void (*fn)(void *ctx, core::BreakdownPartial &complete) = nullptr;
    void *ctx = nullptr;
    bool emitted = false;
};
bool parallel_user_breakdown(FunctionCallInfo fcinfo, const char *table, DateADT start, DateADT end,
                             const RollupAccess &rollups, core::BreakdownPartial &out, PartialEmit *emit = nullptr);

// The final function's call of the breakdown's PartialEmit with the complete hand-off target
// (once; nothing when none is set, in a worker, or when the state failed).
void run_partial_emit(core::BreakdownPartial &complete);

// The breakdown's own state while parallel_user_breakdown's query runs, in the leader (nullptr
// in a worker, and in a query of the aggregate's own). The leader's aggregate works in it
// directly (round 13 of issue 13): its transition adds its rows there, its own partial crosses
// the Gather as a marker instead of its keys, each worker's partial is read straight into it,
// and the final function has nothing left to hand over.
core::BreakdownPartial *partial_handoff_target();

// The same, taken (cleared) by the first final function that asks: a final whose state is not
// the target combines its keys into it instead of serializing them for the breakdown to read back.
core::BreakdownPartial *take_partial_handoff();

}  // namespace ducache::pg
