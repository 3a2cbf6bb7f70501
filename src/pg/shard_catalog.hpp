// The coordinator's own tables, read and written by ducache's C code as their owner (they are
// closed to PUBLIC): ducache_shards (src/sql/14_shard_tables.sql) and the decision rows of
// two-phase commits, ducache_shard_xacts (src/sql/15_shard_xact_tables.sql).
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

// The servers of ducache_shards in shard order (palloc'd); 0 in a plain database.
int coordinator_servers(Oid extension_schema, char ***servers);

// Inserts the decision row of gid in the current transaction.
void record_shard_decision(Oid extension_schema, const char *gid, int nshards, const char *const *servers);

}  // namespace ducache::pg
