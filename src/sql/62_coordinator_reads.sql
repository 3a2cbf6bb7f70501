-- ducache install script: scale-out, part 3: the read functions on a coordinator. The C read
-- functions hand their arguments to these when ducache_shards has rows
-- (src/pg/coordinator_forward.cpp). Each asks every shard ONE aggregate query, pushed down
-- whole by postgres_fdw and run concurrently (an Append of Async Foreign Scans), then merges:
-- users are disjoint across shards (their rows just add), models, providers and dates are not
-- (sums add, day sets are united). docs/scale-out.md.
--
-- The others are PL/pgSQL, not SQL: a SQL function with SET search_path is parsed and planned
-- again at every call, a PL/pgSQL one keeps its plan for the session (most of a one-day call's
-- fixed cost on the coordinator; docs/scale-out-speed.md, round 6). `#variable_conflict
-- use_column`: the result columns are also variables, and the merge functions' columns carry
-- the same names.

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

-- Users are disjoint across shards: rows keyed by a user come whole from one shard. These
-- three and the daily trend are C (src/pg/shard_rows.cpp): the shards' typed rows decoded, put
-- in the one-node order by one sort in C++ (core/shard_rows_merge.hpp), the trend's rows of a
-- date added, and written once into the result (docs/scale-out-speed.md, round 6).

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_user_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (user_id text, username text, email text, role text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, last_active date)
AS 'MODULE_PATHNAME', 'ducache_coord_user_breakdown'
LANGUAGE C STABLE;

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_user_model_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (user_id text, model text, provider text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer)
AS 'MODULE_PATHNAME', 'ducache_coord_user_model_breakdown'
LANGUAGE C STABLE;

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_api_key_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (key_alias text, key_name text, user_id text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, last_used date)
AS 'MODULE_PATHNAME', 'ducache_coord_api_key_breakdown'
LANGUAGE C STABLE;

-- Models and providers repeat across shards: sums add, day sets are united, user sets are
-- united (a user may sit in a home day's entry on shard 0 and in a split day's entry on its
-- own shard), a provider's models are united. The shards send binary partials (bytea, built
-- and merged by ducache's C++: src/sql/61_shard_partial_bin.sql). A model's provider is its
-- own field (the latest in the range, whichever shard saw it), else the name rule.

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_model_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (model text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, provider text, users integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY SELECT m.* FROM @extschema@.ducache_coord_merge_models(ARRAY(
               SELECT p FROM @extschema@.ducache_coord_partials_bin('model', start_date, end_date, user_ids, model_ids, api_key_aliases) p
               WHERE start_date IS NOT NULL AND end_date IS NOT NULL)) m
    WHERE start_date IS NOT NULL AND end_date IS NOT NULL
    ORDER BY m.total_cost DESC, m.model COLLATE "C";
END
$$;

-- Providers. Unfiltered, the shards' provider partials (a day's providers are its own: stored,
-- or derived from its models). Filtered, the passing models (filtered model partials) summed
-- by their merged provider.
CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_provider_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (provider text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, models integer, users integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY SELECT m.* FROM @extschema@.ducache_coord_merge_providers(ARRAY(
               SELECT p FROM @extschema@.ducache_coord_partials_bin('provider', start_date, end_date, user_ids, model_ids, api_key_aliases) p
               WHERE start_date IS NOT NULL AND end_date IS NOT NULL),
           @extschema@.ducache_shard_filtered(user_ids, model_ids, api_key_aliases)) m
    WHERE start_date IS NOT NULL AND end_date IS NOT NULL
    ORDER BY m.total_cost DESC, m.provider COLLATE "C";
END
$$;

-- Dates repeat across shards: a day's figures add (its users are disjoint across shards), as
-- sum(...)::integer / ::bigint / sum(numeric) did.

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_daily_trend(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (date date, active_users integer, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric)
AS 'MODULE_PATHNAME', 'ducache_coord_daily_trend'
LANGUAGE C STABLE;

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
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    SELECT s.* INTO days_cached, active_users, total_requests, total_tokens, prompt_tokens, completion_tokens,
                    total_cost, successful_requests, failed_requests, top_user, top_model
    FROM @extschema@.ducache_coord_merge_summary(ARRAY(
               SELECT p FROM @extschema@.ducache_coord_partials_bin(CASE WHEN with_top THEN 'summary_top' ELSE 'summary' END,
                                                                    start_date, end_date, user_ids, model_ids, api_key_aliases) p
               WHERE start_date IS NOT NULL AND end_date IS NOT NULL),
           COALESCE(with_top, false), start_date IS NOT NULL AND end_date IS NOT NULL) s;
END
$$;
