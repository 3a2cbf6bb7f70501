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

-- Is any of the three filters given (a non-empty array)?
CREATE OR REPLACE FUNCTION @extschema@.ducache_shard_filtered(u text[], m text[], k text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT COALESCE(cardinality(u), 0) + COALESCE(cardinality(m), 0) + COALESCE(cardinality(k), 0) > 0 $$;

-- The model partial: the range's rows, each model's days, its own provider field (the latest
-- in the range, [date, provider]: what a one-node read names the model's provider by), and
-- unfiltered each model's users (the keys of aggregated_by_model[M].users: the same user may
-- sit in a home day's entry on shard 0 and in a split day's entry on its own shard, so they
-- are united, not added). Unfiltered, a model's days are the days whose aggregated_by_model has
-- its key (the range read refuses any entry that is not an object); filtered, one read per
-- cached day (a day's passing usage is the read's own rule). Each day's aggregated_by_model is
-- detoasted once (the MATERIALIZED entries), not once per use.
CREATE OR REPLACE FUNCTION @extschema@.ducache_shard_model_part(s date, e date, u text[], m text[], k text[]) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH ent AS MATERIALIZED (
        SELECT c.date, mm.key, mm.value
        FROM @extschema@.daily_usage_cache c,
             jsonb_each(CASE WHEN jsonb_typeof(c.aggregated_by_model) = 'object' THEN c.aggregated_by_model ELSE '{}' END) mm
        WHERE c.date BETWEEN s AND e)
    SELECT jsonb_build_object(
        'rows', (SELECT COALESCE(jsonb_agg(to_jsonb(t)), '[]') FROM @extschema@.ducache_model_breakdown(s, e, u, m, k) t),
        'days', CASE WHEN @extschema@.ducache_shard_filtered(u, m, k) THEN
                (SELECT COALESCE(jsonb_object_agg(x.model, x.days), '{}')
                 FROM (SELECT t.model, jsonb_agg(c.date ORDER BY c.date) AS days
                       FROM @extschema@.daily_usage_cache c, LATERAL @extschema@.ducache_model_breakdown(c.date, c.date, u, m, k) t
                       WHERE c.date BETWEEN s AND e GROUP BY t.model) x)
                ELSE (SELECT COALESCE(jsonb_object_agg(x.key, x.days), '{}')
                      FROM (SELECT ent.key, jsonb_agg(ent.date ORDER BY ent.date) AS days FROM ent GROUP BY ent.key) x) END,
        'fields', (SELECT COALESCE(jsonb_object_agg(f.key, jsonb_build_array(f.date, f.provider)), '{}')
                   FROM (SELECT DISTINCT ON (ent.key) ent.key, ent.date, ent.value ->> 'provider' AS provider
                         FROM ent WHERE jsonb_typeof(ent.value) = 'object' AND jsonb_typeof(ent.value -> 'provider') = 'string'
                         ORDER BY ent.key, ent.date DESC) f),
        'users', CASE WHEN NOT @extschema@.ducache_shard_filtered(u, m, k) THEN
                 (SELECT COALESCE(jsonb_object_agg(x.key, x.users), '{}')
                  FROM (SELECT ent.key, jsonb_agg(DISTINCT uu) AS users
                        FROM ent, jsonb_object_keys(ent.value -> 'users') uu
                        WHERE jsonb_typeof(ent.value -> 'users') = 'object'
                        GROUP BY ent.key) x) END)
$$;

-- The unfiltered provider partial, day by day (a day's providers are its own: stored, or
-- derived from its models): each day's rows, and on derived days the (provider, model) and
-- (provider, user) pairs, and the providers that had per-user detail.
CREATE OR REPLACE FUNCTION @extschema@.ducache_shard_provider_part(s date, e date) RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH d AS (SELECT c.date, c.aggregated_by_model AS models,
                      (c.aggregated_by_provider IS NULL OR c.aggregated_by_provider = '{}'::jsonb) AS derived
               FROM @extschema@.daily_usage_cache c WHERE c.date BETWEEN s AND e),
    md AS (SELECT d.date, t.model, t.provider FROM d, LATERAL @extschema@.ducache_model_breakdown(d.date, d.date) t
           WHERE d.derived),
    mv AS (SELECT d.date, mm.key AS model, mm.value -> 'users' AS users
           FROM d, jsonb_each(CASE WHEN jsonb_typeof(d.models) = 'object' THEN d.models ELSE '{}' END) mm
           WHERE d.derived AND jsonb_typeof(mm.value -> 'users') = 'object'),
    mu AS (SELECT md.provider, x FROM md JOIN mv USING (date, model), jsonb_object_keys(mv.users) x)
    SELECT jsonb_build_object(
        'daily', (SELECT COALESCE(jsonb_agg(to_jsonb(t) || jsonb_build_object('date', d.date)), '[]')
                  FROM d, LATERAL @extschema@.ducache_provider_breakdown(d.date, d.date) t),
        'pairs', (SELECT COALESCE(jsonb_agg(DISTINCT jsonb_build_array(md.provider, md.model)), '[]') FROM md),
        'users', (SELECT COALESCE(jsonb_agg(DISTINCT jsonb_build_array(mu.provider, mu.x)), '[]') FROM mu),
        'has_users', (SELECT COALESCE(jsonb_agg(DISTINCT md.provider), '[]') FROM md JOIN mv USING (date, model)))
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
BEGIN
    IF state IS NULL THEN
        RETURN NULL;
    END IF;
    -- Run here only on a shard: on a coordinator the reads below would ask the shards again.
    IF EXISTS (SELECT 1 FROM @extschema@.ducache_shard_list()) THEN
        RAISE EXCEPTION 'ducache_shard_partial ran on a coordinator, not on a shard' USING ERRCODE = '55000',
            HINT = 'postgres_fdw pushes it down only when the server''s extensions option lists ducache.';
    END IF;
    IF kind = 'summary' THEN
        -- Users are disjoint across shards: the top user is the best of the shards' first rows;
        -- the top model needs every model's cost (models repeat); days are united.
        RETURN jsonb_build_object(
            'row', (SELECT to_jsonb(t) FROM @extschema@.ducache_period_summary(s, e, false, u, m, k) t),
            'top_user', (SELECT to_jsonb(t) FROM (SELECT user_id, total_cost FROM @extschema@.ducache_user_breakdown(s, e, u, m, k) LIMIT 1) t),
            'models', (SELECT COALESCE(jsonb_agg(jsonb_build_array(t.model, t.total_cost)), '[]') FROM @extschema@.ducache_model_breakdown(s, e, u, m, k) t),
            'dates', (SELECT COALESCE(jsonb_agg(c.date), '[]') FROM @extschema@.daily_usage_cache c WHERE c.date BETWEEN s AND e));
    ELSIF kind = 'model' THEN
        RETURN @extschema@.ducache_shard_model_part(s, e, u, m, k);
    ELSIF kind = 'provider' AND NOT @extschema@.ducache_shard_filtered(u, m, k) THEN
        RETURN @extschema@.ducache_shard_provider_part(s, e);
    ELSIF kind = 'provider' THEN
        -- Filtered, the coordinator sums the passing models by provider: their partial, and the
        -- (user, model) pairs for the distinct users.
        RETURN @extschema@.ducache_shard_model_part(s, e, u, m, k) || jsonb_build_object('pairs',
            (SELECT COALESCE(jsonb_agg(jsonb_build_array(t.user_id, t.model)), '[]')
             FROM @extschema@.ducache_user_model_breakdown(s, e, u, m, k) t));
    END IF;
    fn := CASE kind WHEN 'user' THEN 'ducache_user_breakdown' WHEN 'trend' THEN 'ducache_daily_trend'
                    WHEN 'user_model' THEN 'ducache_user_model_breakdown' WHEN 'api_key' THEN 'ducache_api_key_breakdown' END;
    IF fn IS NULL THEN
        RAISE EXCEPTION 'unknown ducache shard partial kind %', kind USING ERRCODE = '22023';
    END IF;
    EXECUTE format('SELECT COALESCE(jsonb_agg(to_jsonb(t)), ''[]'') FROM @extschema@.%I($1, $2, $3, $4, $5) t', fn)
        INTO rows USING s, e, u, m, k;
    RETURN jsonb_build_object('rows', rows);
END
$$;

CREATE OR REPLACE AGGREGATE @extschema@.ducache_shard_partial(date, jsonb) (
    SFUNC = @extschema@.ducache_shard_partial_step,
    STYPE = jsonb,
    FINALFUNC = @extschema@.ducache_shard_partial_final
);
COMMENT ON AGGREGATE @extschema@.ducache_shard_partial(date, jsonb) IS
    'Scale-out: a shard''s partial answer for one read (pushed down whole by postgres_fdw; docs/scale-out.md).';
