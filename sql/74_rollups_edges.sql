-- CONTRACT §7 at the edges: errors raised the same way with and without rollups (a bad value
-- and an overflow inside a month: no rollup; an overflow only across two months' rollups), a
-- month that becomes incomplete, and callers who may not read every row (row-level security,
-- column privileges, no privilege): they never get a rollup's answer. Own rows (the cache
-- emptied first and last); needs 00_setup (ducache_test.error_of) and the extension.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
DELETE FROM daily_usage_cache;
SELECT count(*) >= 0 AS emptied FROM ducache_refresh_rollups();

-- The error of a statement without rollups (ducache.use_rollups = off: the days' own error),
-- and whether the call with rollups (the default) raises the same SQLSTATE and message, and the
-- same DETAIL (which names the day where a sum overflows).
CREATE FUNCTION pg_temp.errors(stmt text, OUT without_rollups text, OUT same_message boolean, OUT same_detail boolean)
LANGUAGE plpgsql AS $$
DECLARE
    with_rollups text;
BEGIN
    with_rollups := ducache_test.error_of(stmt);
    PERFORM set_config('ducache.use_rollups', 'off', false);
    without_rollups := ducache_test.error_of(stmt);
    PERFORM set_config('ducache.use_rollups', 'on', false);
    same_message := split_part(with_rollups, E'\n', 1) = split_part(without_rollups, E'\n', 1);
    same_detail := with_rollups = without_rollups;
END $$;

-- June: a bad value; July: a count sum that overflows within the month (no rollup for either,
-- the refresh warns); August and September: 5e18 requests each, fine per month, overflowing
-- only when both months are summed.
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model) VALUES
    ('2025-06-01', '{"u": {"totalRequests": 5}}', '{}'),
    ('2025-06-02', '{"u": {"totalRequests": "many"}}', '{}'),
    ('2025-07-01', '{"u": {"totalRequests": 5000000000000000000}}', '{}'),
    ('2025-07-02', '{"u": {"totalRequests": 5000000000000000000}}', '{}'),
    ('2025-08-10', '{"u": {"totalRequests": 5000000000000000000, "totalCost": 1.5}}',
                   '{"m": {"totalRequests": 5000000000000000000}}'),
    ('2025-08-20', '{"hidden": {"totalRequests": 7, "totalCost": 0.25}}', '{}'),
    ('2025-09-10', '{"u": {"totalRequests": 5000000000000000000, "totalCost": 2.5}}',
                   '{"m": {"totalRequests": 5000000000000000000}}');
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;
SELECT month, built FROM ducache_rollups ORDER BY month;
SELECT s, e, fn, x.without_rollups, x.same_message, x.same_detail
FROM (VALUES (date '2025-06-01', date '2025-06-30', 'user_breakdown'),
             ('2025-06-01', '2025-06-30', 'analytics'),
             ('2025-07-01', '2025-07-31', 'user_breakdown'),
             ('2025-08-01', '2025-09-30', 'user_breakdown'),
             ('2025-08-01', '2025-09-30', 'model_breakdown'),
             ('2025-08-01', '2025-09-30', 'analytics'),
             ('2025-08-05', '2025-09-30', 'user_breakdown'),
             ('2025-08-01', '2025-09-15', 'user_breakdown')) AS t(s, e, fn),
     LATERAL pg_temp.errors(format('SELECT * FROM ducache_%s(%L, %L)', fn, s, e)) x
ORDER BY s, e, fn;
DELETE FROM daily_usage_cache WHERE date < '2025-08-01';

-- August becomes incomplete: a logged change; the refresh drops its rollup; readers read days.
UPDATE daily_usage_cache SET is_complete = false WHERE date = '2025-08-20';
SELECT month, action FROM ducache_refresh_rollups('2025-08-01', '2025-08-31');
SELECT built, days, aggregated_by_user IS NULL AS no_document FROM ducache_rollups WHERE month = '2025-08-01';
SELECT user_id, total_requests, total_cost, active_days, last_active FROM ducache_user_breakdown('2025-08-01', '2025-08-31');
UPDATE daily_usage_cache SET is_complete = true WHERE date = '2025-08-20';
SELECT month, action FROM ducache_refresh_rollups('2025-08-01', '2025-08-31');

-- Callers who may not read every row never get the rollup's answer. Row-level security hides
-- 08-20 (user "hidden") from ducache_rd_rls: August's rollup holds it, the days it may read do not.
CREATE ROLE ducache_rd_rls;
CREATE ROLE ducache_rd_cols;
CREATE ROLE ducache_rd_none;
GRANT SELECT ON daily_usage_cache TO ducache_rd_rls;
GRANT SELECT (date, aggregated_by_user) ON daily_usage_cache TO ducache_rd_cols;
ALTER TABLE daily_usage_cache ENABLE ROW LEVEL SECURITY;
CREATE POLICY ducache_rd_before_15th ON daily_usage_cache FOR SELECT TO ducache_rd_rls USING (extract(day FROM date) < 15);
SET ROLE ducache_rd_rls;
SELECT user_id, total_requests, total_cost, active_days FROM ducache_user_breakdown('2025-08-01', '2025-08-31');
SELECT days_cached, active_users, total_cost FROM ducache_analytics('2025-08-01', '2025-08-31');
SELECT date, active_users, total_cost FROM ducache_daily_trend('2025-08-01', '2025-08-31');
RESET ROLE;
DROP POLICY ducache_rd_before_15th ON daily_usage_cache;
ALTER TABLE daily_usage_cache DISABLE ROW LEVEL SECURITY;
-- Column privileges only: the days (all of them), the same answer as the table's owner.
SET ROLE ducache_rd_cols;
SELECT user_id, total_requests, total_cost, active_days FROM ducache_user_breakdown('2025-08-01', '2025-08-31');
RESET ROLE;
-- No privilege: the error of reading the table, with rollups or without.
SET ROLE ducache_rd_none;
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2025-08-01', '2025-08-31')$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_analytics('2025-08-01', '2025-08-31')$$);
RESET ROLE;
REVOKE ALL ON daily_usage_cache FROM ducache_rd_rls, ducache_rd_cols;
DROP ROLE ducache_rd_rls;
DROP ROLE ducache_rd_cols;
DROP ROLE ducache_rd_none;

-- Every way of writing a day stops its month's rollup from being used: a tampered rollup (no
-- change logged) answers wrong until INSERT .. ON CONFLICT, COPY, an UPDATE moving a day to
-- another month, or an UPDATE under session_replication_role = replica logs the month.
-- pg_temp.tamper: 1000 added to every user's cost in the month's rollup (as the superuser).
CREATE FUNCTION pg_temp.tamper(m date) RETURNS void LANGUAGE sql AS $$
    UPDATE ducache_rollups r
    SET aggregated_by_user = (SELECT jsonb_object_agg(u.key, jsonb_set(u.value, '{metrics,totalCost}',
                                  to_jsonb((u.value -> 'metrics' ->> 'totalCost')::numeric + 1000)))
                              FROM jsonb_each(r.aggregated_by_user) u)
    WHERE r.month = m AND r.built
$$;
-- Whether the user breakdown of [s, e] with rollups equals the same without.
CREATE FUNCTION pg_temp.right_answer(s date, e date) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    a text;
    b text;
BEGIN
    SELECT string_agg(t::text, ',') INTO a FROM ducache_user_breakdown(s, e) t;
    PERFORM set_config('ducache.use_rollups', 'off', false);
    SELECT string_agg(t::text, ',') INTO b FROM ducache_user_breakdown(s, e) t;
    PERFORM set_config('ducache.use_rollups', 'on', false);
    RETURN a IS NOT DISTINCT FROM b;
END $$;
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;
SELECT pg_temp.tamper('2025-08-01'), pg_temp.tamper('2025-09-01');
SELECT pg_temp.right_answer('2025-08-01', '2025-08-31') AS august_right, pg_temp.right_answer('2025-09-01', '2025-09-30') AS september_right;
-- A reader that is not a superuser, with SELECT on the table and no row-level security, reads
-- the rollups too (the tampered answer: 1001.5 for user u).
CREATE ROLE ducache_rd_all;
GRANT SELECT ON daily_usage_cache TO ducache_rd_all;
SET ROLE ducache_rd_all;
SELECT user_id, total_cost FROM ducache_user_breakdown('2025-08-01', '2025-08-31') ORDER BY user_id;
SET ducache.use_rollups = off;
SELECT user_id, total_cost FROM ducache_user_breakdown('2025-08-01', '2025-08-31') ORDER BY user_id;
RESET ducache.use_rollups;
RESET ROLE;
REVOKE ALL ON daily_usage_cache FROM ducache_rd_all;
DROP ROLE ducache_rd_all;
INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES ('2025-08-20', '{"hidden": {"totalRequests": 8}}')
ON CONFLICT (date) DO UPDATE SET aggregated_by_user = EXCLUDED.aggregated_by_user;
SELECT pg_temp.right_answer('2025-08-01', '2025-08-31') AS august_right_after_on_conflict;
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;
SELECT pg_temp.tamper('2025-08-01');
COPY daily_usage_cache (date, aggregated_by_user) FROM stdin;
2025-08-21	{"late": {"totalRequests": 3, "totalCost": 0.125}}
\.
SELECT pg_temp.right_answer('2025-08-01', '2025-08-31') AS august_right_after_copy;
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;
SELECT pg_temp.tamper('2025-08-01'), pg_temp.tamper('2025-09-01');
UPDATE daily_usage_cache SET date = '2025-10-05' WHERE date = '2025-09-10';
SELECT pg_temp.right_answer('2025-08-01', '2025-08-31') AS august_still_tampered,
       pg_temp.right_answer('2025-09-01', '2025-09-30') AS september_right_after_move,
       pg_temp.right_answer('2025-10-01', '2025-10-31') AS october_right;
SET session_replication_role = replica;
UPDATE daily_usage_cache SET total_metrics = '{}' WHERE date = '2025-08-10';
RESET session_replication_role;
SELECT pg_temp.right_answer('2025-08-01', '2025-08-31') AS august_right_after_replica_update;
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;

-- Odd values the entry rules skip or read in their own way, in months with a rollup: an empty
-- or non-string username/email/role/keyName/provider on the latest day, a users object missing
-- on some days, non-object documents, numbers written as strings. Every reader answers (or
-- fails) the same with and without rollups.
CREATE FUNCTION pg_temp.answer(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v text;
    det text;
BEGIN
    EXECUTE format('SELECT string_agg(t::text, %L) FROM (%s) t', E'\n', q) INTO v;
    RETURN coalesce(v, '(no rows)');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS det = PG_EXCEPTION_DETAIL;
    RETURN 'ERROR ' || SQLSTATE || ': ' || SQLERRM || ' / ' || det;
END $$;
CREATE FUNCTION pg_temp.same_without_rollups(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    a text := pg_temp.answer(q);
    b text;
BEGIN
    PERFORM set_config('ducache.use_rollups', 'off', false);
    b := pg_temp.answer(q);
    PERFORM set_config('ducache.use_rollups', 'on', false);
    RETURN a = b;
END $$;
DELETE FROM daily_usage_cache;
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider) VALUES
    ('2025-11-03', '{"u1": {"username": "b", "email": "b@x", "role": "r1", "metrics": {"api_requests": 3, "spend": 0.5},
                     "models": {"m1": {"metrics": {"api_requests": 3, "spend": 0.5},
                                       "api_keys": {"k1": {"keyName": "K1", "metrics": {"api_requests": 3, "spend": 0.5}}}}}}}',
                   '{"m1": {"provider": "p1", "users": {"u1": {"username": "b"}}, "metrics": {"api_requests": 3, "spend": 0.5}}}', '{}'),
    ('2025-11-10', '{"u1": {"username": "", "email": 5, "role": null, "metrics": {"api_requests": 4, "spend": 0.25},
                     "models": {"m1": {"metrics": {"api_requests": 4, "spend": 0.25},
                                       "api_keys": {"k1": {"keyName": 7, "metrics": {"api_requests": 4, "spend": 0.25}}}}}},
                     "u2": {"username": 9, "totalRequests": 1}}',
                   '{"m1": {"provider": "", "metrics": {"api_requests": 4, "spend": 0.25}}, "m2": {"provider": 3, "users": {}}}', NULL),
    ('2025-11-12', '{"u1": {"email": "", "metrics": {"api_requests": 1}, "models": {"m1": {"metrics": {"api_requests": 1},
                                       "api_keys": {"k1": {"keyName": "", "metrics": {"api_requests": 1}}}}}}}',
                   '{"m1": {"metrics": {"api_requests": 1}, "users": {"u1": {"username": ""}}}}', '{"p9": {"metrics": {"api_requests": 1}}}'),
    ('2026-01-15', '[]', '"x"', '[]'),
    ('2025-12-01', '{"u": {"totalRequests": "12", "totalCost": "0.5"}}', '{"m": {"totalRequests": "3"}}', '{}'),
    ('2026-01-16', '{"u": {"metrics": "x", "totalRequests": 2}}', '{}', '{}');
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;
SELECT f.fn, count(*) AS calls, count(*) FILTER (WHERE NOT pg_temp.same_without_rollups(f.q)) AS differ
FROM (SELECT fn, format('SELECT * FROM ducache_%s(%L, %L, %L, %L, %L)', fn, r.s, r.e, u, m, k) AS q
      FROM unnest(ARRAY['user_breakdown', 'model_breakdown', 'provider_breakdown', 'user_model_breakdown',
                        'api_key_breakdown', 'analytics', 'daily_trend']) AS fn,
           (VALUES (date '2025-11-01', date '2025-11-30'), ('2025-11-01', '2025-12-31'), ('2025-12-01', '2025-12-31'),
                   ('2025-12-01', '2026-01-31')) AS r(s, e),
           (VALUES (NULL::text[], NULL::text[], NULL::text[]), ('{u1}', NULL, NULL), (NULL, '{m1}', NULL), (NULL, NULL, '{k1}')) AS x(u, m, k)
      UNION ALL
      SELECT 'dashboard', format('SELECT ducache_dashboard(%L, %L)', s, e) FROM (VALUES (date '2025-11-01', date '2025-11-30')) AS r(s, e)
      UNION ALL
      SELECT 'filter_options', format('SELECT ducache_filter_options(%L, %L)', s, e) FROM (VALUES (date '2025-11-01', date '2025-11-30')) AS r(s, e)) f
GROUP BY f.fn ORDER BY f.fn;
-- u1 by the documented rule (the latest non-empty string of each field): b, b@x, r1.
SELECT user_id, username, email, role, total_requests FROM ducache_user_breakdown('2025-11-01', '2025-11-30');

DELETE FROM daily_usage_cache;
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;
