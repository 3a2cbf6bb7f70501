-- ducache install script: scale-out over user-hash shards (CONTRACT §8; docs/scale-out.md).
-- Part 1, on every database (a shard answers with it): the per-shard aggregate the coordinator
-- pushes down whole through postgres_fdw, and ducache_add_shards (the coordinator's setup).

-- ducache_shard_partial(date, request jsonb) -> jsonb, request = {"kind", "start", "end",
-- "user_ids", "model_ids", "api_key_aliases"} (one jsonb, not text arguments: postgres_fdw does
-- not push down an aggregate whose input has a collation, and text and text[] constants do).
-- Aggregated over a shard's daily_usage_cache rows in [start, end] (only to give postgres_fdw
-- an aggregate to push down: one round trip per shard), its final function runs ducache's own
-- read of `kind` on the shard, rollups included, and returns the partial the coordinator merges
-- (rows, plus the day sets of keys that repeat across shards). No row in range: NULL, which
-- the coordinator reads as an empty partial.
CREATE OR REPLACE FUNCTION @extschema@.ducache_shard_partial_step(state jsonb, day date, request jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT COALESCE(state, request) $$;

-- The request's filter: NULL stays NULL, elements (JSON nulls too) as they were.
CREATE OR REPLACE FUNCTION @extschema@.ducache_shard_filter(request jsonb, field text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN jsonb_typeof(request -> field) = 'array'
                THEN ARRAY(SELECT x #>> '{}' FROM jsonb_array_elements(request -> field) WITH ORDINALITY AS t(x, o) ORDER BY o) END
$$;

CREATE OR REPLACE FUNCTION @extschema@.ducache_shard_partial_final(state jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kind text := state ->> 'kind';
    s date := (state ->> 'start')::date;
    e date := (state ->> 'end')::date;
    u text[] := @extschema@.ducache_shard_filter(state, 'user_ids');
    m text[] := @extschema@.ducache_shard_filter(state, 'model_ids');
    k text[] := @extschema@.ducache_shard_filter(state, 'api_key_aliases');
    fn text;
    rows jsonb;
    days jsonb := NULL;
    extra jsonb := '{}'::jsonb;
BEGIN
    IF state IS NULL THEN
        RETURN NULL;
    END IF;
    -- Run here only on a shard: on a coordinator the reads below would ask the shards again.
    IF EXISTS (SELECT 1 FROM @extschema@.ducache_shard_list()) THEN
        RAISE EXCEPTION 'ducache_shard_partial ran on a coordinator, not on a shard' USING ERRCODE = '55000',
            HINT = 'postgres_fdw pushes it down only when the server''s extensions option lists ducache.';
    END IF;
    fn := CASE kind WHEN 'user' THEN 'ducache_user_breakdown' WHEN 'model' THEN 'ducache_model_breakdown'
                    WHEN 'provider' THEN 'ducache_provider_breakdown' WHEN 'trend' THEN 'ducache_daily_trend'
                    WHEN 'user_model' THEN 'ducache_user_model_breakdown' WHEN 'api_key' THEN 'ducache_api_key_breakdown'
                    WHEN 'summary' THEN 'ducache_period_summary' END;
    IF fn IS NULL THEN
        RAISE EXCEPTION 'unknown ducache shard partial kind %', kind USING ERRCODE = '22023';
    END IF;
    IF kind = 'summary' THEN
        EXECUTE format('SELECT to_jsonb(t) FROM @extschema@.ducache_period_summary($1, $2, false, $3, $4, $5) t')
            INTO rows USING s, e, u, m, k;
        -- Users are disjoint across shards: the top user is the best of the shards' first rows.
        EXECUTE 'SELECT to_jsonb(t) FROM (SELECT user_id, total_cost FROM @extschema@.ducache_user_breakdown($1, $2, $3, $4, $5) LIMIT 1) t'
            INTO extra USING s, e, u, m, k;
        EXECUTE 'SELECT jsonb_agg(jsonb_build_array(model, total_cost)) FROM @extschema@.ducache_model_breakdown($1, $2, $3, $4, $5)'
            INTO days USING s, e, u, m, k;
        RETURN jsonb_build_object('row', rows, 'top_user', extra, 'models', COALESCE(days, '[]'),
            'dates', (SELECT COALESCE(jsonb_agg(c.date), '[]') FROM @extschema@.daily_usage_cache c
                      WHERE c.date BETWEEN s AND e));
    END IF;
    EXECUTE format('SELECT COALESCE(jsonb_agg(to_jsonb(t)), ''[]'') FROM @extschema@.%I($1, $2, $3, $4, $5) t', fn)
        INTO rows USING s, e, u, m, k;
    IF kind IN ('model', 'provider') THEN
        -- Models and providers repeat across shards: each key's days, to be united. One call per
        -- cached day of the shard in the range (a day's presence is the read's own rule).
        EXECUTE format('SELECT jsonb_object_agg(key, days) FROM (
                            SELECT t.%I AS key, jsonb_agg(c.date ORDER BY c.date) AS days
                            FROM @extschema@.daily_usage_cache c,
                                 LATERAL @extschema@.%I(c.date, c.date, $3, $4, $5) t
                            WHERE c.date BETWEEN $1 AND $2 GROUP BY 1) x', kind, fn)
            INTO days USING s, e, u, m, k;
        IF kind = 'provider' THEN
            EXECUTE 'SELECT COALESCE(jsonb_agg(jsonb_build_array(provider, model)), ''[]'') FROM @extschema@.ducache_model_breakdown($1, $2, $3, $4, $5)'
                INTO extra USING s, e, u, m, k;
            RETURN jsonb_build_object('rows', rows, 'days', COALESCE(days, '{}'), 'models', extra);
        END IF;
    END IF;
    RETURN jsonb_build_object('rows', rows, 'days', COALESCE(days, '{}'));
END
$$;

CREATE OR REPLACE AGGREGATE @extschema@.ducache_shard_partial(date, jsonb) (
    SFUNC = @extschema@.ducache_shard_partial_step,
    STYPE = jsonb,
    FINALFUNC = @extschema@.ducache_shard_partial_final
);
COMMENT ON AGGREGATE @extschema@.ducache_shard_partial(date, jsonb) IS
    'Scale-out: a shard''s partial answer for one read (pushed down whole by postgres_fdw; docs/scale-out.md).';
