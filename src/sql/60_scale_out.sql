-- ducache install script: scale-out over user-hash shards (CONTRACT §8; docs/scale-out.md).
-- Part 1, on every database (a shard answers with it): the request of the per-shard aggregate
-- the coordinator pushes down whole through postgres_fdw (61_shard_partial_bin.sql).

-- The step function of ducache_shard_partial_bin(date, request jsonb): keeps the request (one
-- jsonb, not text arguments: postgres_fdw does not push down an aggregate whose input has a
-- collation, and text and text[] constants do). The aggregate runs over a shard's
-- daily_usage_cache rows in the request's range only to give postgres_fdw an aggregate to push
-- down (one round trip per shard); its final function does the work. In C: it runs once per
-- cached day of the range.
CREATE OR REPLACE FUNCTION @extschema@.ducache_shard_request_step(state jsonb, day date, request jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'ducache_shard_request_step'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Is any of the three filters given (a non-empty array)?
CREATE OR REPLACE FUNCTION @extschema@.ducache_shard_filtered(u text[], m text[], k text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT COALESCE(cardinality(u), 0) + COALESCE(cardinality(m), 0) + COALESCE(cardinality(k), 0) > 0 $$;
