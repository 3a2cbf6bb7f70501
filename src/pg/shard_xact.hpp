// All or nothing across shards (docs/scale-out-writes.md): two-phase commit driven by the
// coordinator's own transaction.
//  * The first shard write of a transaction opens a remote transaction on every shard and
//    records the decision row (ducache_shard_xacts, gid) in the coordinator's transaction:
//    it is visible as committed exactly when the coordinator commits.
//  * Pre-commit: PREPARE TRANSACTION '<gid>_<k>' on every shard; any failure aborts the
//    coordinator's transaction (an ERROR naming the shard).
//  * Commit: COMMIT PREPARED on every shard; abort: ROLLBACK PREPARED (or close the
//    connection of a remote transaction not yet prepared). Failures there are WARNINGs: the
//    in-doubt transactions are left to ducache_resolve_shards().
// A rolled-back subtransaction that wrote to shards makes the whole transaction fail at
// commit (remote savepoints are not kept). PREPARE TRANSACTION of the coordinator itself is
// refused when it wrote to shards.
#pragma once

#include "pg/shard_conn.hpp"

namespace ducache::pg {

// The connections of this transaction to the shards (servers in shard order), opened and in
// a remote transaction; the decision row is written on first use. Raises on failure.
ShardConn *shard_xact_begin(Oid extension_schema, int nshards, const char *const *servers);

// "ducache_<system id>_<database oid>_": every gid of this coordinator database starts so.
char *shard_gid_prefix();

}  // namespace ducache::pg
