-- ducache install script, part 4: analytics and the daily trend.

-- One period's totals (internal: ducache_analytics calls it for the period and the one before).
CREATE OR REPLACE FUNCTION @extschema@.ducache_period_summary(start_date date, end_date date, with_top boolean,
    user_ids text[], model_ids text[], api_key_aliases text[],
    OUT days_cached integer, OUT active_users integer, OUT total_requests bigint,
    OUT total_tokens bigint, OUT prompt_tokens bigint, OUT completion_tokens bigint,
    OUT total_cost numeric, OUT successful_requests bigint, OUT failed_requests bigint,
    OUT top_user text, OUT top_model text)
AS 'MODULE_PATHNAME', 'ducache_period_summary'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_period_summary(date, date, boolean, text[], text[], text[]) IS
    'Internal to ducache_analytics: totals over aggregated_by_user for one period, and optionally its top user and model by cost.';

CREATE OR REPLACE FUNCTION @extschema@.ducache_analytics(start_date date, end_date date, user_ids text[] DEFAULT NULL,
    model_ids text[] DEFAULT NULL, api_key_aliases text[] DEFAULT NULL)
RETURNS TABLE (days_cached integer, active_users integer, total_requests bigint,
               total_tokens bigint, prompt_tokens bigint, completion_tokens bigint,
               total_cost numeric, successful_requests bigint, failed_requests bigint,
               top_user text, top_model text, requests_change_pct numeric,
               cost_change_pct numeric, tokens_change_pct numeric, users_change_pct numeric)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- The previous period has the same length and ends the day before start_date.
    -- A change is 100 * (current - previous) / previous, rounded to 2 places; NULL when the
    -- previous value is 0.
    SELECT cur.days_cached, cur.active_users, cur.total_requests, cur.total_tokens,
           cur.prompt_tokens, cur.completion_tokens, cur.total_cost, cur.successful_requests,
           cur.failed_requests, cur.top_user, cur.top_model,
           CASE WHEN prev.total_requests OPERATOR(pg_catalog.<>) 0 THEN pg_catalog.round(
               100 OPERATOR(pg_catalog.*) (cur.total_requests OPERATOR(pg_catalog.-) prev.total_requests)::numeric
               OPERATOR(pg_catalog./) prev.total_requests, 2) END,
           CASE WHEN prev.total_cost OPERATOR(pg_catalog.<>) 0 THEN pg_catalog.round(
               100 OPERATOR(pg_catalog.*) (cur.total_cost OPERATOR(pg_catalog.-) prev.total_cost)
               OPERATOR(pg_catalog./) prev.total_cost, 2) END,
           CASE WHEN prev.total_tokens OPERATOR(pg_catalog.<>) 0 THEN pg_catalog.round(
               100 OPERATOR(pg_catalog.*) (cur.total_tokens OPERATOR(pg_catalog.-) prev.total_tokens)::numeric
               OPERATOR(pg_catalog./) prev.total_tokens, 2) END,
           CASE WHEN prev.active_users OPERATOR(pg_catalog.<>) 0 THEN pg_catalog.round(
               100 OPERATOR(pg_catalog.*) (cur.active_users OPERATOR(pg_catalog.-) prev.active_users)::numeric
               OPERATOR(pg_catalog./) prev.active_users, 2) END
    FROM @extschema@.ducache_period_summary(start_date, end_date, true, user_ids, model_ids, api_key_aliases) AS cur,
         -- A previous period that would start before the first date PostgreSQL has
         -- (4714-11-24 BC) is no period: NULL arguments, so the STRICT summary gives a row
         -- of NULLs and every change is NULL (CASE, so the date arithmetic never runs).
         @extschema@.ducache_period_summary(
             CASE WHEN (start_date OPERATOR(pg_catalog.-) '4714-11-24 BC'::date)
                       OPERATOR(pg_catalog.>=) (end_date OPERATOR(pg_catalog.-) start_date OPERATOR(pg_catalog.+) 1)
                  THEN start_date OPERATOR(pg_catalog.-) (end_date OPERATOR(pg_catalog.-) start_date OPERATOR(pg_catalog.+) 1) END,
             CASE WHEN start_date OPERATOR(pg_catalog.>) '4714-11-24 BC'::date
                  THEN start_date OPERATOR(pg_catalog.-) 1 END, false, user_ids, model_ids, api_key_aliases) AS prev
    -- A NULL date gives no row (as the STRICT function of 0.1 did).
    WHERE start_date IS NOT NULL AND end_date IS NOT NULL
$$;
COMMENT ON FUNCTION @extschema@.ducache_analytics(date, date, text[], text[], text[]) IS
    'Totals, active users, top user and model by cost, and changes against the previous period of equal length.';

CREATE OR REPLACE FUNCTION @extschema@.ducache_daily_trend(start_date date, end_date date, user_ids text[] DEFAULT NULL,
    model_ids text[] DEFAULT NULL, api_key_aliases text[] DEFAULT NULL)
RETURNS TABLE (date date, active_users integer, total_requests bigint, total_tokens bigint,
               prompt_tokens bigint, completion_tokens bigint, total_cost numeric)
AS 'MODULE_PATHNAME', 'ducache_daily_trend'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_daily_trend(date, date, text[], text[], text[]) IS
    'One row per cached day in the range: users active that day and their summed usage, ordered by date.';
