-- Hardening: cancellation, memory across many calls, row-level security, hostile search_path.
TRUNCATE daily_usage_cache;
-- The table's three GIN indexes (LiteMaaS's, jsonb_ops: every key and value of every document)
-- are not what this file tests (ducache reads and writes by date) and cost most of its time:
-- maintaining them for the load below took ~45 s of CPU, the load itself ~7 s. Dropped for the
-- file; put back as they were (their definitions read from the catalog here) at its end.
CREATE TEMP TABLE gin_indexes AS
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
WHERE i.indrelid = 'daily_usage_cache'::regclass AND am.amname = 'gin';
SELECT count(*) AS gin_indexes FROM gin_indexes;
SELECT format('DROP INDEX %s', name) FROM gin_indexes ORDER BY name \gexec
-- 10,000 users x 366 days (nested shape; one day's object reused, so loading is quick): every
-- call below takes far longer than 100 ms.
CREATE TEMP TABLE day_users AS
SELECT jsonb_object_agg('user-' || u, jsonb_build_object('username', 'u' || u, 'metrics',
           jsonb_build_object('api_requests', u % 17, 'total_tokens', u * 3, 'spend', round(u * 0.0001, 4)))) AS users,
       jsonb_build_object('breakdown', jsonb_build_object('models', jsonb_build_object('m', jsonb_build_object(
           'metrics', jsonb_build_object('api_requests', 1),
           'api_keys', jsonb_object_agg('k' || u, jsonb_build_object('metrics', jsonb_build_object('api_requests', 1))))))) AS raw
FROM generate_series(1, 10000) AS u;
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, raw_data)
SELECT date '2024-01-01' + d, users || jsonb_build_object('day-' || d, jsonb_build_object('totalRequests', d)),
       jsonb_build_object('m', jsonb_build_object('totalRequests', d)), raw
FROM day_users, generate_series(0, 365) AS d;

-- statement_timeout stops a long call promptly with 57014: every loop over days, entries and
-- elements checks for interrupts. The handler catches only query_canceled (57014), so any other
-- error still fails the test, and measures clock_timestamp() - statement_timestamp() past the
-- 100 ms deadline. NULL would mean the call finished before the deadline.
CREATE FUNCTION pg_temp.cancel_latency(q text) RETURNS interval LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN NULL;
EXCEPTION WHEN query_canceled THEN
    RETURN clock_timestamp() - statement_timestamp() - current_setting('statement_timeout')::interval;
END $$;
-- A large upsert: 31 days of 10,000 users each, moved 100 years on so that nothing collides.
CREATE TEMP TABLE big_batch AS
SELECT array_agg(date + 36525 ORDER BY date) AS d, array_agg(raw_data ORDER BY date) AS r,
       array_agg(aggregated_by_user ORDER BY date) AS u, array_agg(aggregated_by_model ORDER BY date) AS m,
       array_agg(aggregated_by_provider ORDER BY date) AS p
FROM daily_usage_cache WHERE date < '2024-02-01';
-- The timer covers a whole top-level statement, so each call is a statement of its own: \gexec
-- runs each generated INSERT as one (not echoed; cancel_calls lists them). Each call is timed
-- three times and its least latency is judged: on a loaded machine one wall-clock sample can
-- measure the scheduler (a backend waiting for a core after the timer fired), while a loop that
-- misses its interrupt checks is late at every try.
CREATE TEMP TABLE cancel_latency (call text, latency interval);
CREATE TEMP TABLE cancel_calls (call text, q text);
INSERT INTO cancel_calls VALUES
    ('user breakdown', $q$SELECT count(*) FROM ducache_user_breakdown('2024-01-01', '2024-12-31')$q$),
    ('daily trend', $q$SELECT count(*) FROM ducache_daily_trend('2024-01-01', '2024-12-31')$q$),
    ('analytics', $q$SELECT count(*) FROM ducache_analytics('2024-01-01', '2024-12-31')$q$),
    ('merge', $q$SELECT ducache_merge(aggregated_by_user) IS NULL FROM daily_usage_cache$q$),
    ('rebuild', $q$SELECT count(*) FROM ducache_rebuild('2024-01-01', '2024-12-31')$q$),
    ('batch upsert', $q$SELECT count(*) FROM big_batch, ducache_batch_upsert(d, r, u, m, p)$q$);
SET statement_timeout = '100ms';
\set ECHO none
SELECT format('INSERT INTO cancel_latency SELECT %L, pg_temp.cancel_latency(%L)', call, q)
FROM cancel_calls, generate_series(1, 3) ORDER BY generate_series, call \gexec
\set ECHO all
RESET statement_timeout;
-- The batch upsert's arguments (31 days of 10,000 users' documents) are detoasted by PostgreSQL
-- before ducache runs, in code that does not check for interrupts: under load that alone can
-- pass 50 ms, so its bound is 250 ms (uninterrupted, the call takes far longer).
SELECT call, count(*) AS tries, bool_and(coalesce(latency > interval '0', false)) AS always_cancelled,
       min(latency) < CASE call WHEN 'batch upsert' THEN interval '250 ms' ELSE interval '50 ms' END AS stopped_promptly
FROM cancel_latency GROUP BY call ORDER BY call;
SELECT count(*) AS rows_of_cancelled_upsert FROM daily_usage_cache WHERE date > '2100-01-01';
SELECT count(*) AS rows_untouched_by_cancelled_rebuild FROM daily_usage_cache WHERE aggregated_by_user ? 'user-1';

-- Memory: 1,000 calls that fail on the last day's bad value and 1,000 that succeed, in one
-- session: the backend does not grow.
INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES ('2025-01-02', '{"bad": {"totalRequests": "lots"}}');
CREATE FUNCTION pg_temp.calls(n int, s date, e date) RETURNS int LANGUAGE plpgsql AS $$
DECLARE failed int := 0;
BEGIN
    FOR i IN 1..n LOOP
        BEGIN
            PERFORM count(*) FROM ducache_user_breakdown(s, e);
        EXCEPTION WHEN invalid_text_representation THEN
            failed := failed + 1;
        END;
    END LOOP;
    RETURN failed;
END $$;
SELECT pg_temp.calls(20, '2024-12-30', '2025-01-02') AS warmup_failures;
SELECT ducache_test.backend_rss_kb() AS rss_before \gset
SELECT pg_temp.calls(1000, '2024-12-30', '2025-01-02') AS failed_calls,
       pg_temp.calls(1000, '2024-12-28', '2024-12-30') AS failed_of_good_calls;
SELECT ducache_test.backend_rss_kb() - :rss_before < 10240 AS rss_grew_less_than_10mb;
DELETE FROM daily_usage_cache WHERE date = '2025-01-02';

-- Row-level security: a policy hiding some days gives what plain SQL gives as that role, and
-- a bad value in a hidden row never raises.
CREATE ROLE ducache_analyst;
GRANT SELECT ON daily_usage_cache TO ducache_analyst;
INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES ('2024-06-15', '{"x": 1}')
ON CONFLICT (date) DO UPDATE SET aggregated_by_user = '{"hidden-bad": {"totalRequests": "lots"}}';
ALTER TABLE daily_usage_cache ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_first_half_of_june ON daily_usage_cache FOR SELECT TO ducache_analyst
    USING (date BETWEEN '2024-06-01' AND '2024-06-14');
SET ROLE ducache_analyst;
SELECT count(*) AS visible_days FROM daily_usage_cache;
SELECT (SELECT count(*) FROM ducache_user_breakdown('2024-06-01', '2024-06-30')) AS users,
       (SELECT sum(total_requests) FROM ducache_user_breakdown('2024-06-01', '2024-06-30'))
     = (SELECT sum(COALESCE(e.value->'metrics'->>'api_requests', e.value->>'totalRequests')::bigint)
        FROM daily_usage_cache, jsonb_each(aggregated_by_user) AS e
        WHERE date BETWEEN '2024-06-01' AND '2024-06-30') AS equals_sql_as_this_role,
       (SELECT max(active_days) FROM ducache_user_breakdown('2024-06-01', '2024-06-30')) AS max_active_days;
SELECT ducache_test.error_of($$SELECT * FROM ducache_rebuild('2024-06-01', '2024-06-02')$$) AS rebuild_without_update_right;
RESET ROLE;
ALTER TABLE daily_usage_cache DISABLE ROW LEVEL SECURITY;
DROP POLICY only_first_half_of_june ON daily_usage_cache;
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2024-06-01', '2024-06-30')$$) AS now_visible_bad_row;
DELETE FROM daily_usage_cache WHERE date = '2024-06-15';
REVOKE ALL ON daily_usage_cache FROM ducache_analyst;
DROP ROLE ducache_analyst;

-- A hostile schema first on search_path shadows now(), jsonb_each, unnest, sum(numeric), the
-- = operator and a "users" table: every function still gives the normal results and none of
-- the shadowing objects runs.
CREATE SCHEMA hostile;
CREATE TABLE hostile.ran (what text);
CREATE FUNCTION hostile.now() RETURNS timestamptz LANGUAGE sql AS $$ INSERT INTO hostile.ran VALUES ('now') RETURNING '2000-01-01'::timestamptz $$;
CREATE FUNCTION hostile.jsonb_each(jsonb) RETURNS SETOF record LANGUAGE sql AS $$ INSERT INTO hostile.ran VALUES ('jsonb_each') RETURNING NULL::record $$;
CREATE FUNCTION hostile.unnest(anyarray) RETURNS SETOF anyelement LANGUAGE sql AS $$ INSERT INTO hostile.ran VALUES ('unnest') RETURNING NULL $$;
CREATE FUNCTION hostile.round(numeric, integer) RETURNS numeric LANGUAGE sql AS $$ INSERT INTO hostile.ran VALUES ('round') RETURNING 0::numeric $$;
CREATE FUNCTION hostile.dateeq(date, date) RETURNS boolean LANGUAGE sql AS $$ INSERT INTO hostile.ran VALUES ('=') RETURNING true $$;
CREATE OPERATOR hostile.= (LEFTARG = date, RIGHTARG = date, FUNCTION = hostile.dateeq);
CREATE FUNCTION hostile.datege(date, date) RETURNS boolean LANGUAGE sql AS $$ INSERT INTO hostile.ran VALUES ('>=') RETURNING true $$;
CREATE OPERATOR hostile.>= (LEFTARG = date, RIGHTARG = date, FUNCTION = hostile.datege);
CREATE TABLE hostile.users (id text, username text, email text, role text);
INSERT INTO hostile.users VALUES ('user-1', 'IMPOSTOR', 'x@evil', 'admin');
CREATE TABLE hostile.daily_usage_cache (LIKE daily_usage_cache);
SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) AS normal_user FROM ducache_user_breakdown('2024-03-01', '2024-03-31') AS t \gset
SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) AS normal_analytics FROM ducache_analytics('2024-03-01', '2024-03-31') AS t \gset
SET search_path = hostile, public;
SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) = :'normal_user' AS user_breakdown_unchanged
FROM ducache_user_breakdown('2024-03-01', '2024-03-31') AS t;
SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) = :'normal_analytics' AS analytics_unchanged
FROM ducache_analytics('2024-03-01', '2024-03-31') AS t;
SELECT count(*) AS trend_days FROM ducache_daily_trend('2024-03-01', '2024-03-31');
SELECT count(*) AS upserted FROM ducache_batch_upsert(ARRAY['2030-01-01']::date[], ARRAY['{}']::jsonb[], NULL, NULL, NULL);
SELECT count(*) AS rebuilt FROM ducache_rebuild('2024-03-01', '2024-03-02');
SELECT count(*) AS rows_in_hostile_table FROM hostile.daily_usage_cache;
RESET search_path;
SELECT count(*) AS shadowing_objects_that_ran FROM hostile.ran;
DROP SCHEMA hostile CASCADE;
TRUNCATE daily_usage_cache;
SELECT definition FROM gin_indexes ORDER BY name \gexec
SELECT (SELECT array_agg(pg_get_indexdef(indexrelid) ORDER BY indexrelid::regclass::text) FROM pg_index
        WHERE indrelid = 'daily_usage_cache'::regclass AND indexrelid::regclass::text IN (SELECT name FROM gin_indexes))
       = (SELECT array_agg(definition ORDER BY name) FROM gin_indexes) AS gin_indexes_back;
