-- ducache install script: scale-out, part 3: the read functions on a coordinator. The C read
-- functions hand their arguments to these when ducache_shards has rows
-- (src/pg/coordinator_forward.cpp). Each asks every shard ONE aggregate query, pushed down
-- whole by postgres_fdw and run concurrently (an Append of Async Foreign Scans), then merges:
-- users are disjoint across shards (their rows just add), models, providers and dates are not
-- (sums add, day sets are united). docs/scale-out.md.

-- The range checks of the local reads (pg/cache_scan.cpp), same SQLSTATEs and messages.
CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_check_range(start_date date, end_date date) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT isfinite(start_date) OR NOT isfinite(end_date) THEN
        RAISE EXCEPTION 'date range bounds must be finite' USING ERRCODE = '22008',
            DETAIL = format('%s is %s.', CASE WHEN NOT isfinite(start_date) THEN 'start_date' ELSE 'end_date' END,
                            CASE WHEN NOT isfinite(start_date) THEN start_date ELSE end_date END);
    END IF;
    IF start_date > end_date THEN
        RAISE EXCEPTION 'start_date must not be after end_date' USING ERRCODE = '22023',
            DETAIL = format('start_date is %s, end_date is %s.', start_date, end_date);
    END IF;
END
$$;

-- The partials of every shard for one read (empty partials left out). A shard that fails ends
-- the whole call with a class-08 ERROR naming it: never a partial answer.
CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_partials(kind text, start_date date, end_date date,
    user_ids text[], model_ids text[], api_key_aliases text[])
RETURNS SETOF jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    q text;
    sh record;
    st text; msg text; det text;
BEGIN
    PERFORM @extschema@.ducache_coord_check_range(start_date, end_date);
    SELECT string_agg(format('SELECT @extschema@.ducache_shard_partial(date, $1) AS p FROM %s WHERE date BETWEEN $2 AND $3',
                             l.foreign_table), ' UNION ALL ' ORDER BY l.shard)
    INTO q FROM @extschema@.ducache_shard_list() l;
    IF q IS NULL THEN
        RAISE EXCEPTION 'this database has no shards' USING ERRCODE = '55000';
    END IF;
    -- The planner must see the shards' aggregates as whole pushed-down aggregates.
    PERFORM set_config('enable_partitionwise_aggregate', 'on', true);
    BEGIN
        RETURN QUERY EXECUTE 'SELECT p FROM (' || q || ') s WHERE p IS NOT NULL'
            USING jsonb_build_object('kind', kind, 'start', start_date, 'end', end_date, 'user_ids', user_ids,
                                     'model_ids', model_ids, 'api_key_aliases', api_key_aliases),
                  start_date, end_date;
    EXCEPTION WHEN connection_exception OR sqlclient_unable_to_establish_sqlconnection
                   OR connection_failure OR connection_does_not_exist THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
        -- Which shard: the first that does not answer a trivial query now.
        FOR sh IN SELECT * FROM @extschema@.ducache_shard_list() LOOP
            BEGIN
                EXECUTE format('SELECT 1 FROM %s LIMIT 1', sh.foreign_table);
            EXCEPTION WHEN OTHERS THEN
                RAISE EXCEPTION 'ducache shard % (server "%") failed: %', sh.shard, sh.server, msg
                    USING ERRCODE = st, DETAIL = COALESCE(NULLIF(det, ''), 'The shard does not answer now.'),
                          HINT = 'No result was returned: a coordinator never answers from some of its shards.';
            END;
        END LOOP;
        RAISE EXCEPTION 'a ducache shard failed: %', msg USING ERRCODE = st,
            DETAIL = COALESCE(NULLIF(det, ''), 'Every shard answers now; the call may be retried.');
    END;
END
$$;

-- Users are disjoint across shards: rows keyed by a user come whole from one shard.

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_user_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (user_id text, username text, email text, role text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, last_active date)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM @extschema@.ducache_coord_partials('user', start_date, end_date, user_ids, model_ids, api_key_aliases) p,
         jsonb_to_recordset(p -> 'rows') AS r(user_id text, username text, email text, role text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint,
                                              active_days integer, last_active date)
    WHERE start_date IS NOT NULL AND end_date IS NOT NULL
    ORDER BY r.total_cost DESC, r.user_id COLLATE "C"
$$;

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_user_model_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (user_id text, model text, provider text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM @extschema@.ducache_coord_partials('user_model', start_date, end_date, user_ids, model_ids, api_key_aliases) p,
         jsonb_to_recordset(p -> 'rows') AS r(user_id text, model text, provider text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer)
    WHERE start_date IS NOT NULL AND end_date IS NOT NULL
    ORDER BY r.user_id COLLATE "C", r.total_cost DESC, r.model COLLATE "C"
$$;

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_api_key_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (key_alias text, key_name text, user_id text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, last_used date)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM @extschema@.ducache_coord_partials('api_key', start_date, end_date, user_ids, model_ids, api_key_aliases) p,
         jsonb_to_recordset(p -> 'rows') AS r(key_alias text, key_name text, user_id text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, last_used date)
    WHERE start_date IS NOT NULL AND end_date IS NOT NULL
    ORDER BY r.total_cost DESC, r.key_alias COLLATE "C", r.user_id COLLATE "C"
$$;

-- Models and providers repeat across shards: sums add, day sets are united, distinct users add
-- (users are disjoint), a provider's distinct models are united.

-- The models of the shards' model partials, merged. A model's provider is its own field (the
-- latest in the range, whichever shard saw it), else the shards' answer (the name rule, the
-- same everywhere). Users: filtered, from the cells (disjoint across shards: added);
-- unfiltered, the union of the aggregated_by_model[M].users keys (NULL: no shard had any).
CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_models(parts jsonb[], filtered boolean)
RETURNS TABLE (model text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, provider text, users integer)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH p AS (SELECT x AS p FROM unnest(parts) x),
    r AS (SELECT r.* FROM p, jsonb_to_recordset(p.p -> 'rows') AS r(model text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, provider text, users integer)),
    d AS (SELECT d.key, x.day FROM p, jsonb_each(p.p -> 'days') d, jsonb_array_elements_text(d.value) x(day)),
    f AS (SELECT DISTINCT ON (f.key) f.key, f.value ->> 1 AS provider FROM p, jsonb_each(p.p -> 'fields') f
          ORDER BY f.key, (f.value ->> 0)::date DESC),
    us AS (SELECT uu.key, x.id FROM p, jsonb_each(COALESCE(p.p -> 'users', '{}')) uu, jsonb_array_elements_text(uu.value) x(id)
           WHERE jsonb_typeof(p.p -> 'users') = 'object')
    SELECT r.model, sum(r.total_requests)::bigint, sum(r.total_tokens)::bigint, sum(r.prompt_tokens)::bigint,
           sum(r.completion_tokens)::bigint, sum(r.total_cost), sum(r.successful_requests)::bigint,
           sum(r.failed_requests)::bigint,
           (SELECT count(DISTINCT d.day) FROM d WHERE d.key = r.model)::integer,
           COALESCE((SELECT f.provider FROM f WHERE f.key = r.model), min(r.provider COLLATE "C")),
           CASE WHEN filtered THEN sum(r.users)::integer
                ELSE (SELECT CASE WHEN count(*) > 0 THEN count(DISTINCT us.id) END FROM us WHERE us.key = r.model)::integer END
    FROM r GROUP BY r.model
$$;

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_model_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (model text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, provider text, users integer)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.* FROM @extschema@.ducache_coord_models(ARRAY(
               SELECT p FROM @extschema@.ducache_coord_partials('model', start_date, end_date, user_ids, model_ids, api_key_aliases) p
               WHERE start_date IS NOT NULL AND end_date IS NOT NULL),
           @extschema@.ducache_shard_filtered(user_ids, model_ids, api_key_aliases)) m
    ORDER BY m.total_cost DESC, m.model COLLATE "C"
$$;

-- Providers. Unfiltered, day by day as the shards read them (a day's providers are its own):
-- rows add, days unite, models and users are the union of the derived days' pairs. Filtered,
-- the passing models summed by their (merged) provider, their days united, the distinct users
-- of the passing (user, model) pairs.
CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_provider_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (provider text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, models integer, users integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parts jsonb[];
BEGIN
    IF start_date IS NULL OR end_date IS NULL THEN
        RETURN;
    END IF;
    parts := ARRAY(SELECT p FROM @extschema@.ducache_coord_partials('provider', start_date, end_date, user_ids, model_ids, api_key_aliases) p);
    IF NOT @extschema@.ducache_shard_filtered(user_ids, model_ids, api_key_aliases) THEN
        RETURN QUERY
        WITH p AS (SELECT x AS p FROM unnest(parts) x),
        dl AS (SELECT x.* FROM p, jsonb_to_recordset(p.p -> 'daily') x(date date, provider text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint)),
        pairs AS (SELECT DISTINCT x ->> 0 AS provider, x ->> 1 AS model FROM p, jsonb_array_elements(p.p -> 'pairs') x),
        us AS (SELECT DISTINCT x ->> 0 AS provider, x ->> 1 AS id FROM p, jsonb_array_elements(p.p -> 'users') x),
        hu AS (SELECT DISTINCT x #>> '{}' AS provider FROM p, jsonb_array_elements(p.p -> 'has_users') x)
        SELECT dl.provider, sum(dl.total_requests)::bigint, sum(dl.total_tokens)::bigint, sum(dl.prompt_tokens)::bigint,
           sum(dl.completion_tokens)::bigint, sum(dl.total_cost), sum(dl.successful_requests)::bigint,
           sum(dl.failed_requests)::bigint, count(DISTINCT dl.date)::integer,
               NULLIF((SELECT count(*) FROM pairs WHERE pairs.provider = dl.provider), 0)::integer,
               CASE WHEN EXISTS (SELECT 1 FROM hu WHERE hu.provider = dl.provider)
                    THEN (SELECT count(*) FROM us WHERE us.provider = dl.provider) END::integer
        FROM dl GROUP BY dl.provider
        ORDER BY 6 DESC, dl.provider COLLATE "C";
        RETURN;
    END IF;
    RETURN QUERY
    WITH p AS (SELECT x AS p FROM unnest(parts) x),
    mm AS (SELECT * FROM @extschema@.ducache_coord_models(parts, true)),
    d AS (SELECT d.key, x.day FROM p, jsonb_each(p.p -> 'days') d, jsonb_array_elements_text(d.value) x(day)),
    pairs AS (SELECT DISTINCT x ->> 0 AS id, x ->> 1 AS model FROM p, jsonb_array_elements(p.p -> 'pairs') x)
    SELECT mm.provider, sum(mm.total_requests)::bigint, sum(mm.total_tokens)::bigint, sum(mm.prompt_tokens)::bigint,
           sum(mm.completion_tokens)::bigint, sum(mm.total_cost), sum(mm.successful_requests)::bigint,
           sum(mm.failed_requests)::bigint,
           (SELECT count(DISTINCT d.day) FROM d JOIN mm AS m2 ON m2.model = d.key WHERE m2.provider = mm.provider)::integer,
           count(*)::integer,
           (SELECT count(DISTINCT pairs.id) FROM pairs JOIN mm AS m2 ON m2.model = pairs.model WHERE m2.provider = mm.provider)::integer
    FROM mm GROUP BY mm.provider
    ORDER BY 6 DESC, mm.provider COLLATE "C";
END
$$;

-- Dates repeat across shards: a day's figures add (its users are disjoint across shards).

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_daily_trend(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (date date, active_users integer, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.date, sum(r.active_users)::integer, sum(r.total_requests)::bigint, sum(r.total_tokens)::bigint,
           sum(r.prompt_tokens)::bigint, sum(r.completion_tokens)::bigint, sum(r.total_cost)
    FROM @extschema@.ducache_coord_partials('trend', start_date, end_date, user_ids, model_ids, api_key_aliases) p,
         jsonb_to_recordset(p -> 'rows') AS r(date date, active_users integer, total_requests bigint, total_tokens bigint,
                                              prompt_tokens bigint, completion_tokens bigint, total_cost numeric)
    WHERE start_date IS NOT NULL AND end_date IS NOT NULL
    GROUP BY r.date ORDER BY r.date
$$;

-- One period's totals (ducache_analytics calls it twice): days_cached = the union of the
-- shards' cached days; users add; the top user is the best of the shards' top users; the top
-- model has the largest summed cost (ties: smallest key, byte order).
CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_period_summary(start_date date, end_date date, with_top boolean,
    user_ids text[], model_ids text[], api_key_aliases text[],
    OUT days_cached integer, OUT active_users integer, OUT total_requests bigint,
    OUT total_tokens bigint, OUT prompt_tokens bigint, OUT completion_tokens bigint,
    OUT total_cost numeric, OUT successful_requests bigint, OUT failed_requests bigint,
    OUT top_user text, OUT top_model text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH p AS (SELECT * FROM @extschema@.ducache_coord_partials('summary', start_date, end_date, user_ids, model_ids, api_key_aliases) p
               WHERE start_date IS NOT NULL AND end_date IS NOT NULL),
    r AS (SELECT r.* FROM p, jsonb_to_record(p.p -> 'row') AS r(active_users integer, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint))
    SELECT CASE WHEN start_date IS NOT NULL AND end_date IS NOT NULL THEN
               (SELECT count(DISTINCT x) FROM p, jsonb_array_elements_text(p.p -> 'dates') x)::integer END,
           CASE WHEN start_date IS NOT NULL AND end_date IS NOT NULL THEN COALESCE((SELECT sum(r.active_users) FROM r), 0)::integer END,
           CASE WHEN start_date IS NOT NULL AND end_date IS NOT NULL THEN COALESCE((SELECT sum(r.total_requests) FROM r), 0)::bigint END,
           CASE WHEN start_date IS NOT NULL AND end_date IS NOT NULL THEN COALESCE((SELECT sum(r.total_tokens) FROM r), 0)::bigint END,
           CASE WHEN start_date IS NOT NULL AND end_date IS NOT NULL THEN COALESCE((SELECT sum(r.prompt_tokens) FROM r), 0)::bigint END,
           CASE WHEN start_date IS NOT NULL AND end_date IS NOT NULL THEN COALESCE((SELECT sum(r.completion_tokens) FROM r), 0)::bigint END,
           CASE WHEN start_date IS NOT NULL AND end_date IS NOT NULL THEN COALESCE((SELECT sum(r.total_cost) FROM r), 0) END,
           CASE WHEN start_date IS NOT NULL AND end_date IS NOT NULL THEN COALESCE((SELECT sum(r.successful_requests) FROM r), 0)::bigint END,
           CASE WHEN start_date IS NOT NULL AND end_date IS NOT NULL THEN COALESCE((SELECT sum(r.failed_requests) FROM r), 0)::bigint END,
           CASE WHEN with_top THEN (SELECT p.p -> 'top_user' ->> 'user_id' FROM p WHERE jsonb_typeof(p.p -> 'top_user') = 'object'
                                    ORDER BY (p.p -> 'top_user' ->> 'total_cost')::numeric DESC,
                                             (p.p -> 'top_user' ->> 'user_id') COLLATE "C" LIMIT 1) END,
           CASE WHEN with_top THEN (SELECT x ->> 0 FROM p, jsonb_array_elements(p.p -> 'models') x
                                    GROUP BY x ->> 0 ORDER BY sum((x ->> 1)::numeric) DESC, (x ->> 0) COLLATE "C" LIMIT 1) END
$$;
