// A coordinator read's one round trip per shard (docs/scale-out-speed.md, round 5): each
// shard's request sent directly on postgres_fdw's own connection to it (GetConnection: its
// connection cache, password rules, remote transaction, abort-time cancel and invalidation),
// all shards first, then every answer collected, the partial states in binary.
//
// Plain C-style functions (they raise PostgreSQL ERRORs): C++ callers run them in pg_call.
#pragma once

#include "pg/coordinator_gather.hpp"

namespace ducache::pg {

// What ducache_shard_partial_bin(date, request) over shard k's rows in [from, to] answers,
// for every shard with a non-NULL answer, copied into `into`. Returns false, having done
// nothing, when postgres_fdw's connection functions cannot be used (not exported by the
// installed postgres_fdw; or the test-only setting ducache.test_gather_via_query): then the
// caller runs the gather query instead. A shard that cannot be reached or fails on the way:
// a class-08 ERROR naming it; a shard's other ERRORs as postgres_fdw reports them.
bool fdw_gather(Oid extension_schema, int n, char **servers, Datum request, DateADT from, DateADT to,
                MemoryContext into, ShardParts *out);

}  // namespace ducache::pg
