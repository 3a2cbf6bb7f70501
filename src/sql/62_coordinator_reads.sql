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

-- Users are disjoint across shards: rows keyed by a user come whole from one shard.

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_user_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (user_id text, username text, email text, role text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, last_active date)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM @extschema@.ducache_coord_merge_rows(ARRAY(
             SELECT p FROM @extschema@.ducache_coord_partials_bin('user', start_date, end_date, user_ids, model_ids, api_key_aliases) p
             WHERE start_date IS NOT NULL AND end_date IS NOT NULL)) AS r(user_id text, username text, email text, role text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint,
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
    SELECT r.* FROM @extschema@.ducache_coord_merge_rows(ARRAY(
             SELECT p FROM @extschema@.ducache_coord_partials_bin('user_model', start_date, end_date, user_ids, model_ids, api_key_aliases) p
             WHERE start_date IS NOT NULL AND end_date IS NOT NULL)) AS r(user_id text, model text, provider text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer)
    WHERE start_date IS NOT NULL AND end_date IS NOT NULL
    -- No ORDER BY: ducache_coord_merge_rows emits these columns merged by user_id (bytewise),
    -- each shard's rows in one node's order (user_id, total_cost DESC, model), users disjoint
    -- across shards: that is the order (pg/shard_rows.cpp; a sort here cost ~20% of the call).
$$;

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_api_key_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (key_alias text, key_name text, user_id text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, last_used date)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.* FROM @extschema@.ducache_coord_merge_rows(ARRAY(
             SELECT p FROM @extschema@.ducache_coord_partials_bin('api_key', start_date, end_date, user_ids, model_ids, api_key_aliases) p
             WHERE start_date IS NOT NULL AND end_date IS NOT NULL)) AS r(key_alias text, key_name text, user_id text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, last_used date)
    WHERE start_date IS NOT NULL AND end_date IS NOT NULL
    ORDER BY r.total_cost DESC, r.key_alias COLLATE "C", r.user_id COLLATE "C"
$$;

-- Models and providers repeat across shards: sums add, day sets are united, user sets are
-- united (a user may sit in a home day's entry on shard 0 and in a split day's entry on its
-- own shard), a provider's models are united. The shards send binary partials (bytea, built
-- and merged by ducache's C++: src/sql/61_shard_partial_bin.sql). A model's provider is its
-- own field (the latest in the range, whichever shard saw it), else the name rule.

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_model_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (model text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, provider text, users integer)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.* FROM @extschema@.ducache_coord_merge_models(ARRAY(
               SELECT p FROM @extschema@.ducache_coord_partials_bin('model', start_date, end_date, user_ids, model_ids, api_key_aliases) p
               WHERE start_date IS NOT NULL AND end_date IS NOT NULL)) m
    WHERE start_date IS NOT NULL AND end_date IS NOT NULL
    ORDER BY m.total_cost DESC, m.model COLLATE "C"
$$;

-- Providers. Unfiltered, the shards' provider partials (a day's providers are its own: stored,
-- or derived from its models). Filtered, the passing models (filtered model partials) summed
-- by their merged provider.
CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_provider_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (provider text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, models integer, users integer)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m.* FROM @extschema@.ducache_coord_merge_providers(ARRAY(
               SELECT p FROM @extschema@.ducache_coord_partials_bin('provider', start_date, end_date, user_ids, model_ids, api_key_aliases) p
               WHERE start_date IS NOT NULL AND end_date IS NOT NULL),
           @extschema@.ducache_shard_filtered(user_ids, model_ids, api_key_aliases)) m
    WHERE start_date IS NOT NULL AND end_date IS NOT NULL
    ORDER BY m.total_cost DESC, m.provider COLLATE "C"
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
    FROM @extschema@.ducache_coord_merge_rows(ARRAY(
             SELECT p FROM @extschema@.ducache_coord_partials_bin('trend', start_date, end_date, user_ids, model_ids, api_key_aliases) p
             WHERE start_date IS NOT NULL AND end_date IS NOT NULL)) AS r(date date, active_users integer, total_requests bigint, total_tokens bigint,
                                              prompt_tokens bigint, completion_tokens bigint, total_cost numeric)
    WHERE start_date IS NOT NULL AND end_date IS NOT NULL
    GROUP BY r.date ORDER BY r.date
$$;

-- One period's totals (ducache_analytics calls it twice): days_cached = the union of the
-- shards' cached days; users add; the top user is the best of the shards' top users; the top
-- model has the largest summed cost (ties: smallest key, byte order). Binary partials, merged
-- in C++ (src/sql/61_shard_partial_bin.sql).
CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_period_summary(start_date date, end_date date, with_top boolean,
    user_ids text[], model_ids text[], api_key_aliases text[],
    OUT days_cached integer, OUT active_users integer, OUT total_requests bigint,
    OUT total_tokens bigint, OUT prompt_tokens bigint, OUT completion_tokens bigint,
    OUT total_cost numeric, OUT successful_requests bigint, OUT failed_requests bigint,
    OUT top_user text, OUT top_model text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.* FROM @extschema@.ducache_coord_merge_summary(ARRAY(
               SELECT p FROM @extschema@.ducache_coord_partials_bin(CASE WHEN with_top THEN 'summary_top' ELSE 'summary' END,
                                                                    start_date, end_date, user_ids, model_ids, api_key_aliases) p
               WHERE start_date IS NOT NULL AND end_date IS NOT NULL),
           COALESCE(with_top, false), start_date IS NOT NULL AND end_date IS NOT NULL) s
$$;
