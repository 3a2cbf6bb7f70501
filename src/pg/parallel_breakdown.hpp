// The unfiltered user breakdown over many days with parallel workers (issue 13): one SPI
// query runs the ducache_user_partial aggregate over the range's days, split in date chunks
// under a UNION ALL, so PostgreSQL's Parallel Append hands whole chunks to the participants
// (the leader and its workers), each builds a partial state (core/breakdown_partial.hpp) and
// the leader combines them. The result is the serial path's, exactly.
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
bool parallel_user_breakdown(FunctionCallInfo fcinfo, const char *table, DateADT start, DateADT end,
                             const RollupAccess &rollups, core::BreakdownPartial &out);

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
