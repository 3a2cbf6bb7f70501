-- ducache install script, part 4b: the decision rows of writes through a coordinator
-- (CONTRACT §8; docs/scale-out-writes.md).
--
-- A write through the coordinator prepares a transaction on every shard ('<gid>_<shard>') and
-- inserts one row here in the coordinator's own transaction: the row is visible exactly when
-- the coordinator committed, so it is the decision ducache_resolve_shards() follows for
-- prepared transactions left in doubt by a crash (row visible: COMMIT PREPARED; no row and the
-- coordinator's transaction over: ROLLBACK PREPARED). The resolver deletes rows no shard needs.
-- Empty in a plain database; only ducache's own code (as the owner) reads or writes it.
CREATE TABLE @extschema@.ducache_shard_xacts (
    gid         text        PRIMARY KEY,   -- ducache_<system id>_<database oid>_<full xid>
    servers     name[]      NOT NULL,      -- the shards written, in shard order
    decided_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.ducache_shard_xacts IS
    'Commit decisions of writes through a ducache coordinator (two-phase commit over the shards; docs/scale-out-writes.md).';
REVOKE ALL ON @extschema@.ducache_shard_xacts FROM PUBLIC;
