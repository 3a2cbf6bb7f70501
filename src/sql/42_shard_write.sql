-- ducache install script, part 6b: finishing writes through a coordinator (CONTRACT §8;
-- docs/scale-out-writes.md). ducache_batch_upsert itself (part 6) writes on the shards when
-- ducache_shards is filled.

CREATE OR REPLACE FUNCTION @extschema@.ducache_resolve_shards()
RETURNS TABLE (shard integer, server name, gid text, action text)
AS 'MODULE_PATHNAME', 'ducache_resolve_shards'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ducache_resolve_shards() IS
    'Finishes the prepared transactions a crashed or disconnected coordinator left on its shards: COMMIT PREPARED where the coordinator committed (its decision row is visible), ROLLBACK PREPARED where it did not; leaves those of running transactions. One row per transaction found (action committed|rolled back|in progress|failed).';
REVOKE ALL ON FUNCTION @extschema@.ducache_resolve_shards() FROM PUBLIC;
