// On a coordinator (ducache_shards holds rows: docs/scale-out.md), a read function does not read
// the local daily_usage_cache: it hands its arguments to its coordinator version
// (ducache_coord_*, src/sql/62_coordinator_reads.sql), which asks every shard at once and
// merges, and returns that version's rows unchanged. On a plain database this costs one
// catalog lookup and the size of an empty table.
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

// Whether this database is a coordinator (ducache_shards, in the schema of the function
// called, has a row visible to the current snapshot).
bool is_coordinator(FunctionCallInfo fcinfo);

// If this database is a coordinator, runs `coord_fn` (a function of the extension's schema
// taking `coord_nargs` arguments: the caller's, then NULLs for the trailing filters an older
// declaration lacks) and returns true with its result in *result: its rows put into the
// caller's materialized output (set-returning callers) or its one row as the caller's
// composite (`composite` true). Returns false on a plain database.
bool forward_to_coordinator(FunctionCallInfo fcinfo, const char *coord_fn, int coord_nargs, bool composite,
                            Datum *result);

// An ERROR (0A000) naming `fn` on a coordinator: a read not yet coordinator-aware must not
// answer from the coordinator's empty local table.
void refuse_on_coordinator(FunctionCallInfo fcinfo, const char *fn);

}  // namespace ducache::pg
