// How a coordinator asks its shards (docs/scale-out.md "What is pushed down"): the statement
// postgres_fdw would push down for each shard, sent directly on postgres_fdw's connections
// (pg/fdw_gather.hpp, docs/scale-out-speed.md round 5); else one query, a UNION ALL of
// ducache_shard_partial_bin(date, request) over every shard's foreign table, which postgres_fdw
// pushes down whole per shard and runs concurrently.
//
// Plain C-style function (it raises PostgreSQL ERRORs): C++ callers run it in pg_call.
#pragma once

#include "pg/postgres.hpp"

#include <string_view>

namespace ducache::pg {

// Every shard's non-NULL answer to `request` (a jsonb Datum) over its rows in [from, to],
// copied into the caller's memory context. The range checks of the local reads first (22008,
// 22023). A shard that fails ends the call with a class-08 ERROR naming it; never a partial
// answer.
struct ShardParts {
    int n;
    bytea **p;
};
ShardParts gather_shard_parts(Oid extension_schema, Datum request, DateADT from, DateADT to);

// The request of a read (a jsonb Datum: kind, start, end and the three filters as arrays or
// null) from the caller's arguments: the dates at start_arg and start_arg + 1 (not NULL: the
// caller checks), user_ids, model_ids, api_key_aliases after them. The range checks first.
// C++ (runs its PostgreSQL calls in pg_call).
Datum shard_request(FunctionCallInfo fcinfo, std::string_view kind, int start_arg);

}  // namespace ducache::pg
