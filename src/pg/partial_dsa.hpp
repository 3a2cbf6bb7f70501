// A parallel worker's user breakdown partial through the query's dynamic shared memory (round
// 14 of issue 13). Through the Gather's 64 KB tuple queue a worker's ~950 KB partial (10,000
// keys) took ~15 refills, each a wake-up of both processes, and the worker could not start
// exiting before the leader had drained it, which the leader does only after its own last
// chunk: the worker's exit (~5 ms on the flat year: the kernel unmapping the ~100 MB of shared
// buffers it touched) then came after everything else. Now a worker of the breakdown's own
// query writes its partial into the query's DSA area (es_query_dsa, set in every worker) and
// sends only its address; it exits while the leader still reads its last chunk. The leader
// reaches the same area through the Gather below its aggregate (the plan the breakdown builds:
// Finalize Aggregate -> Gather -> Partial Aggregate), reads the partial and frees it. Whatever
// is not read is freed with the area: at the query's end (ExecParallelCleanup) or on error,
// when the last process detaches from the parallel query's segment.
//
// A worker does so only in the breakdown's own query: the breakdown passes kPartialDsaMarker as
// a third parameter its query text does not use, and a worker gets the leader's parameters
// (PostgreSQL serializes them to every worker). A parameter costs nothing where a setting
// would (each custom setting adds ~670 K instructions to every backend's library load: round
// 13 of issue 13). In any other query (the aggregate's own), when the area
// is missing or full, and in test builds under ducache.test_partial_bytes, the worker sends the
// bytes as before; the leader reads whichever form it gets. A query that passes the marker
// itself gets its workers' partials through the area too, or, in a plan whose aggregate does
// not sit over exactly one Gather, an ERROR: never other bytes.
#pragma once

#include "core/breakdown_partial.hpp"

#include "pg/postgres.hpp"

namespace ducache::pg {

// The breakdown's query's third parameter (int8): "ducache\x01" in ASCII.
constexpr int64 kPartialDsaMarker = 0x6475636163686501;

// In a worker asked to (see above): `p` written into the query's DSA area, and the small bytea
// that names it; nullptr when it is not asked or the area cannot take it (send the bytes).
bytea *partial_into_dsa(FunctionCallInfo fcinfo, const core::BreakdownPartial &p);

// When `data` names a partial in the area (partial_into_dsa's bytea): reads it into `into`
// (core::deserialize_breakdown_partial), frees it and returns true; false for any other bytes.
bool partial_from_dsa(FunctionCallInfo fcinfo, const char *data, size_t len, core::BreakdownPartial &into);

// Test builds count the partials read through the area (ducache_test_partial_dsa_reads());
// the breakdown starts the count again at its start.
void reset_partial_dsa_reads();

}  // namespace ducache::pg
