-- ducache install script, part 4: the shards of a coordinator (CONTRACT §8; docs/scale-out.md).
--
-- Empty in a plain ducache database. ducache_add_shards() fills it and so turns the database
-- into a coordinator: its read functions and ducache_batch_upsert then work on the shards
-- (shard k is the k-th postgres_fdw server given) instead of the local daily_usage_cache.
-- Configuration, not cache data: a member of the extension (DROP EXTENSION drops it and never
-- touches a shard), kept by pg_dump (pg_extension_config_dump). Only the extension's owner
-- reads or writes it directly.
CREATE TABLE @extschema@.ducache_shards (
    shard       integer     PRIMARY KEY CHECK (shard OPERATOR(pg_catalog.>=) 0),
    server      name        NOT NULL UNIQUE,   -- a postgres_fdw foreign server
    added_at    timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.ducache_shards IS
    'The shards of a ducache coordinator: shard k holds the users whose hash falls in slice k (docs/scale-out.md).';
REVOKE ALL ON @extschema@.ducache_shards FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ducache_shards', '');
