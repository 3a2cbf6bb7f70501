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

// The state ducache_user_partial's final function combines its result into, instead of
// serializing it for the breakdown to deserialize (10,000 keys written and read back): set by
// parallel_user_breakdown for the time of its query, in the leader; taken (cleared) by the
// first final function that asks. nullptr otherwise (a query of the aggregate's own).
core::BreakdownPartial *take_partial_handoff();

}  // namespace ducache::pg
