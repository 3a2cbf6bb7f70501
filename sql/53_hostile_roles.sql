-- Hostile roles and names (issue 16): identity tables shadowed on search_path, temporary
-- identity tables under parallel plans, row-level security on every writer and reader, the
-- widest date ranges, errors inside parallel workers.
TRUNCATE daily_usage_cache;
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider)
SELECT d, jsonb_build_object('user-' || (d - date '2025-05-01') % 3,
              jsonb_build_object('username', 'from-entry', 'metrics', jsonb_build_object('api_requests', 2, 'spend', 0.25))),
       '{"m": {"totalRequests": 2, "totalCost": 0.25}}', '{"p": {"totalRequests": 2, "totalCost": 0.25}}'
FROM generate_series(date '2025-05-01', date '2025-06-30', interval '1 day') AS g, LATERAL (SELECT g::date AS d) AS x;

-- Identity: the configured name is resolved in ducache's schema (public here), never on the
-- caller's search_path. A "users" view earlier on search_path, whose function would record
-- that it ran, is not used.
CREATE TABLE public.users (id text, username text, email text, role text);
INSERT INTO public.users VALUES ('user-1', 'configured', 'c@example.com', 'user');
CREATE SCHEMA shadow;
CREATE TABLE shadow.ran (what text, who name);
CREATE FUNCTION shadow.spy(t text) RETURNS text LANGUAGE sql
AS $$ INSERT INTO shadow.ran VALUES (t, current_user) RETURNING 'IMPOSTOR' $$;
CREATE VIEW shadow.users AS SELECT id, shadow.spy(username) AS username, email, role FROM public.users;
CREATE TABLE shadow.only_here (id text, username text, email text, role text);
SET search_path = shadow, public;
RESET ducache.users_table;  -- 'users'
SELECT b.user_id, b.username, b.username IS NOT DISTINCT FROM u.username AS equals_configured_table
FROM ducache_user_breakdown('2025-05-01', '2025-06-30') AS b LEFT JOIN public.users AS u ON u.id = b.user_id
ORDER BY b.user_id;
SELECT count(*) AS shadow_functions_that_ran FROM shadow.ran;
-- An unqualified name that exists only on the search_path is not found.
SET ducache.users_table = 'only_here';
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2025-05-01', '2025-06-30')$$) AS unqualified_elsewhere;
-- A schema-qualified name is used as given: the view's function runs, as the caller (SECURITY
-- INVOKER; docs/hardening.md: name only tables you trust).
SET ducache.users_table = 'shadow.users';
SELECT DISTINCT username FROM ducache_user_breakdown('2025-05-01', '2025-06-30') WHERE user_id = 'user-1';
SELECT count(*) > 0 AS spy_ran, bool_and(who = current_user) AS as_the_caller FROM shadow.ran;
RESET search_path;
RESET ducache.users_table;
-- Without a users table in ducache's schema the identity comes from the entries, even with a
-- "users" on the search_path.
DROP TABLE public.users CASCADE;
SET search_path = shadow, public;
SELECT DISTINCT username FROM ducache_user_breakdown('2025-05-01', '2025-06-30') ORDER BY 1;
RESET search_path;
DROP SCHEMA shadow CASCADE;

-- A temporary identity table (explicitly pg_temp.) works in a serial plan; a parallel worker
-- cannot read it (the functions are PARALLEL SAFE): a 25000 naming the setting and the way out.
CREATE TEMP TABLE tusers (id text, username text, email text, role text);
INSERT INTO tusers VALUES ('user-1', 'temporary', 't@example.com', 'user');
SET ducache.users_table = 'pg_temp.tusers';
SELECT DISTINCT username FROM ducache_user_breakdown('2025-05-01', '2025-06-30') WHERE user_id = 'user-1';
SET force_parallel_mode = on;
SELECT line FROM ducache_test.plan_of($$SELECT * FROM ducache_user_breakdown('2025-05-01', '2025-06-30')$$) AS line
WHERE line ~ 'Gather|Function Scan';
\set VERBOSITY default
SELECT * FROM ducache_user_breakdown('2025-05-01', '2025-06-30');
RESET force_parallel_mode;
RESET ducache.users_table;
DROP TABLE tusers;

-- An error inside a parallel worker: ducache_merge(jsonb, date) names the row's date, the same
-- in a parallel and a serial plan; the one-argument form can only name a position in the
-- input of the process that read the row (documented in docs/hardening.md).
CREATE TABLE merge_in AS
SELECT date '2000-01-01' + g AS d, jsonb_build_object('k', jsonb_build_object('totalRequests', g)) AS j
FROM generate_series(1, 20000) AS g;
UPDATE merge_in SET j = '{"k": {"totalRequests": "lots"}}' WHERE d = date '2000-01-01' + 15000;
ANALYZE merge_in;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off;
SELECT bool_or(line ~ 'Partial Aggregate') AS parallel_plan FROM ducache_test.plan_of('SELECT ducache_merge(j, d) FROM merge_in') AS line;
SELECT ducache_test.error_of('SELECT ducache_merge(j, d) FROM merge_in') AS parallel_dated;
SELECT ducache_test.error_of('SELECT ducache_merge(j) FROM merge_in') ~ 'input row [0-9]+' AS parallel_undated_names_a_position;
SET max_parallel_workers_per_gather = 0;
SELECT ducache_test.error_of('SELECT ducache_merge(j, d) FROM merge_in') AS serial_dated;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather; RESET parallel_leader_participation;
DROP TABLE merge_in;

-- Row-level security on every writer and reader. The writer may insert
-- and update only May; readers see only days up to June 10. Plain SQL as the same role is
-- the reference.
CREATE ROLE ducache_rls_writer;
GRANT SELECT, INSERT, UPDATE ON daily_usage_cache TO ducache_rls_writer;
ALTER TABLE daily_usage_cache ENABLE ROW LEVEL SECURITY;
CREATE POLICY read_to_june_10 ON daily_usage_cache FOR SELECT TO ducache_rls_writer USING (date <= '2025-06-10');
CREATE POLICY insert_may ON daily_usage_cache FOR INSERT TO ducache_rls_writer WITH CHECK (date < '2025-06-01');
CREATE POLICY update_may ON daily_usage_cache FOR UPDATE TO ducache_rls_writer USING (date < '2025-06-01') WITH CHECK (date < '2025-06-01');
SET ROLE ducache_rls_writer;
SELECT (SELECT count(*) FROM ducache_daily_trend('2025-01-01', '2025-12-31')) = (SELECT count(*) FROM daily_usage_cache) AS trend_equals_sql,
       (SELECT sum(total_requests) FROM ducache_model_breakdown('2025-01-01', '2025-12-31'))
     = (SELECT sum((aggregated_by_model->'m'->>'totalRequests')::bigint) FROM daily_usage_cache) AS models_equal_sql,
       (SELECT sum(total_requests) FROM ducache_provider_breakdown('2025-01-01', '2025-12-31'))
     = (SELECT sum((aggregated_by_provider->'p'->>'totalRequests')::bigint) FROM daily_usage_cache) AS providers_equal_sql,
       (SELECT days_cached FROM ducache_analytics('2025-05-01', '2025-12-31')) = (SELECT count(*) FROM daily_usage_cache) AS analytics_equals_sql,
       (SELECT ducache_merge(aggregated_by_model)->'m'->>'requests' FROM daily_usage_cache)
     = (SELECT sum((aggregated_by_model->'m'->>'totalRequests')::bigint)::text FROM daily_usage_cache) AS merge_equals_sql;
-- A batch with one day the policies forbid: 42501, nothing of it written.
SELECT ducache_test.error_of($$SELECT * FROM ducache_batch_upsert(ARRAY['2025-05-02', '2025-06-02']::date[], ARRAY['{}', '{}']::jsonb[],
    ARRAY['{"x": {"totalRequests": 9}}', '{"x": {"totalRequests": 9}}']::jsonb[], NULL, NULL)$$) AS batch_with_forbidden_day;
SELECT count(*) AS rows_with_x FROM daily_usage_cache WHERE aggregated_by_user ? 'x';
SELECT * FROM ducache_batch_upsert(ARRAY['2025-05-02', '2025-04-01']::date[], ARRAY['{}', '{}']::jsonb[],
    ARRAY['{"x": {"totalRequests": 9}}', '{"x": {"totalRequests": 9}}']::jsonb[], NULL, NULL) ORDER BY 1;
SELECT count(*) AS rows_with_x FROM daily_usage_cache WHERE aggregated_by_user ? 'x';
RESET ROLE;
ALTER TABLE daily_usage_cache DISABLE ROW LEVEL SECURITY;
DROP POLICY read_to_june_10 ON daily_usage_cache;
DROP POLICY insert_may ON daily_usage_cache;
DROP POLICY update_may ON daily_usage_cache;
REVOKE ALL ON daily_usage_cache FROM ducache_rls_writer;
DROP ROLE ducache_rls_writer;

-- The widest ranges: every date PostgreSQL has, and 0001..9999. Equal to plain SQL; the
-- analytics' previous period would start before 4714-11-24 BC, so its changes are NULL.
SELECT r.s, r.e,
       (SELECT count(*) FROM ducache_daily_trend(r.s, r.e)) = (SELECT count(*) FROM daily_usage_cache) AS trend_equals_sql,
       (SELECT sum(total_requests) FROM ducache_user_breakdown(r.s, r.e))
     = (SELECT sum((e.value->'metrics'->>'api_requests')::bigint) FROM daily_usage_cache, jsonb_each(aggregated_by_user) AS e
        WHERE NOT e.value ? 'totalRequests')
     + (SELECT COALESCE(sum((e.value->>'totalRequests')::bigint), 0) FROM daily_usage_cache, jsonb_each(aggregated_by_user) AS e
        WHERE e.value ? 'totalRequests') AS users_equal_sql,
       a.days_cached = (SELECT count(*) FROM daily_usage_cache) AS analytics_days_equal_sql,
       a.requests_change_pct, a.cost_change_pct, a.tokens_change_pct, a.users_change_pct
FROM (VALUES (date '0001-01-01', date '9999-12-31'), (date '4714-11-24 BC', date '5874897-12-31'),
             (date '4714-11-25 BC', date '5874897-12-31')) AS r(s, e),
     ducache_analytics(r.s, r.e) AS a;
-- At the first date PostgreSQL has: a day whose previous day exists gets its change, the
-- first day itself gets NULL (there is no previous period), no 22008.
INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES
    ('4714-11-24 BC', '{"old": {"totalRequests": 2}}'), ('4714-11-25 BC', '{"old": {"totalRequests": 4}}');
SELECT r.s, a.total_requests, a.requests_change_pct,
       a.requests_change_pct IS NOT DISTINCT FROM r.expected AS equals_plain_arithmetic
FROM (VALUES (date '4714-11-25 BC', round(100 * (4 - 2)::numeric / 2, 2)), (date '4714-11-24 BC', NULL)) AS r(s, expected),
     ducache_analytics(r.s, r.s) AS a;
SELECT count(*) = (SELECT count(*) FROM daily_usage_cache) AS rebuilt_every_row
FROM ducache_rebuild('4714-11-24 BC', '5874897-12-31');
TRUNCATE daily_usage_cache;
