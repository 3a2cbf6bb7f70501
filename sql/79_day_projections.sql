-- Day projections (docs/rollups.md "Day projections", src/sql/16_rollup_day_tables.sql): the
-- days of a range that no fresh month or block covers are read by ducache_dashboard
-- (unfiltered; the comparison period at the user level) from their one-day projections
-- (user_totals, model_totals, key_totals, aggregated_by_provider, models_unprovided, daily)
-- instead of the day rows' whole documents. On the multi-month fixture of
-- test/reference/rollups_fixture.sql:
--   * after a refresh every complete cached day has a built projection of exactly its own day
--     (its sums against plain SQL over the day row), the incomplete day none;
--   * dashboards over ranges that leave days at the ends equal plain SQL over the day rows and
--     the same call with rollups off;
--   * a tampered projection (no change logged) changes the answer of a range leaving that day
--     over (range or comparison period), not of a range where a month or block covers it, nor
--     of a filtered call's range: so projections are read;
--   * a write to that day, or a statement writing several days of its block, stops it from
--     being read (right again with no refresh); a write to another day of its block does not;
--     a refresh rebuilds it and it is read again;
--   * DROP EXTENSION leaves daily_usage_cache and its rows untouched (own database).
-- Own rows: the cache is emptied first and last.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
DELETE FROM daily_usage_cache;
\set ECHO none
SET client_min_messages = warning;
\i test/reference/rollups_fixture.sql
\i test/reference/cells.sql
\i test/reference/cells_materialized.sql
RESET client_min_messages;
\set ECHO all
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;

-- Every cached day has a projection row; built exactly when complete; its day mask is its day.
SELECT count(*) AS cached_days,
       count(p.day) AS projection_rows,
       count(*) FILTER (WHERE p.built IS DISTINCT FROM d.is_complete) AS built_not_complete,
       count(*) FILTER (WHERE p.built AND p.days <> 1 << (extract(day FROM d.date)::int - 1)) AS wrong_day_mask,
       count(*) FILTER (WHERE p.month <> date_trunc('month', d.date)::date) AS wrong_month
FROM daily_usage_cache d LEFT JOIN ducache_rollup_days p ON p.day = d.date;
SELECT day, built FROM ducache_rollup_days WHERE day BETWEEN '2025-04-01' AND '2025-04-05' ORDER BY day;
-- Their sums against plain SQL over the day rows: the users' requests and cost, the key
-- totals' requests and cost, the models' requests (test/reference/cells.sql).
CREATE TEMP VIEW projection_sums AS
SELECT p.day,
       (SELECT coalesce(sum((v -> 'metrics' ->> 'totalRequests')::numeric), 0) FROM jsonb_each(p.user_totals) u(k, v)) AS user_requests,
       (SELECT coalesce(sum((v -> 'metrics' ->> 'totalCost')::numeric), 0) FROM jsonb_each(p.user_totals) u(k, v)) AS user_cost,
       (SELECT coalesce(sum((a.v -> 'metrics' ->> 'totalRequests')::numeric), 0)
        FROM jsonb_each(p.key_totals) u(k, v), jsonb_each(u.v) a(k, v)) AS key_requests,
       (SELECT coalesce(sum((a.v -> 'metrics' ->> 'totalCost')::numeric), 0)
        FROM jsonb_each(p.key_totals) u(k, v), jsonb_each(u.v) a(k, v)) AS key_cost,
       (SELECT coalesce(sum((v -> 'metrics' ->> 'totalRequests')::numeric), 0) FROM jsonb_each(p.model_totals) m(k, v)) AS model_requests
FROM ducache_rollup_days p WHERE p.built;
CREATE TEMP VIEW reference_sums AS
SELECT d.date AS day,
       (SELECT coalesce(sum(c.requests), 0) FROM litemaas_ref.user_cells c WHERE c.date = d.date) AS user_requests,
       (SELECT coalesce(sum(c.cost), 0) FROM litemaas_ref.user_cells c WHERE c.date = d.date) AS user_cost,
       (SELECT coalesce(sum(c.requests), 0) FROM litemaas_ref.key_cells c WHERE c.date = d.date) AS key_requests,
       (SELECT coalesce(sum(c.cost), 0) FROM litemaas_ref.key_cells c WHERE c.date = d.date) AS key_cost,
       (SELECT coalesce(sum((litemaas_ref.m(m.value)).requests), 0)
        FROM jsonb_each(litemaas_ref.obj(d.aggregated_by_model)) m) AS model_requests
FROM daily_usage_cache d;
SELECT count(*) AS projections_checked,
       count(*) FILTER (WHERE (p.user_requests, p.user_cost) IS DISTINCT FROM (r.user_requests, r.user_cost)) AS users_differ,
       count(*) FILTER (WHERE (p.key_requests, p.key_cost) IS DISTINCT FROM (r.key_requests, r.key_cost)) AS keys_differ,
       count(*) FILTER (WHERE p.model_requests IS DISTINCT FROM r.model_requests) AS models_differ,
       count(*) FILTER (WHERE r.user_requests > 0 AND r.key_requests > 0) AS days_with_usage
FROM projection_sums p JOIN reference_sums r USING (day);

-- The unfiltered document's figures in plain SQL over the day rows (test/reference/dashboard_figures.sql).
\set ECHO none
\i test/reference/dashboard_figures.sql
\set ECHO all

-- Ranges leaving days over at one or both ends (of the range or of its comparison period).
CREATE TEMP TABLE ranges (s date, e date, what text);
INSERT INTO ranges VALUES
    ('2025-02-05', '2025-03-20', 'days 02-05..08, blocks, days 03-17..20; comparison ends with days 02-01..04'),
    ('2025-02-13', '2025-02-20', 'inside two blocks: projections only'),
    ('2025-01-22', '2025-03-04', 'January days, February whole, March days (03-01 missing)'),
    ('2025-03-28', '2025-04-05', 'March days (03-31 missing), April days with the incomplete 04-03'),
    ('2025-03-14', '2025-03-16', 'three days, 03-15 cached without usage');
SELECT r.what, litemaas_ref.dash_figures(ducache_dashboard(r.s, r.e)) = litemaas_ref.dash_ref(r.s, r.e) AS figures_equal_reference,
       (SELECT bool_and(jsonb_build_object('username', u -> 'username', 'email', u -> 'email', 'role', u -> 'role')
                        = litemaas_ref.identity_ref(u ->> 'userId', r.s, r.e))
        FROM jsonb_array_elements(ducache_dashboard(r.s, r.e) -> 'topUsers') u) AS top_users_identity_equal_reference,
       ducache_dashboard(r.s, r.e)::text = ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L)', r.s, r.e)) AS equal_rollups_off,
       (ducache_dashboard(r.s, r.e) ->> 'totalRequests')::bigint > 0 AS has_usage
FROM ranges r ORDER BY r.s, r.e;

-- Projections are read: tamper (as the superuser, in ducache's own table: no change logged)
-- with user3's requests in the projections of 03-18 (a day left over at the end of the first
-- range) and of 02-02 (one left over at the end of its comparison period).
CREATE FUNCTION pg_temp.tamper(d date) RETURNS void LANGUAGE sql AS $$
  UPDATE ducache_rollup_days
  SET user_totals = jsonb_set(user_totals, ARRAY[litemaas_ref.user_id(3), 'metrics', 'totalRequests'],
          to_jsonb((user_totals -> litemaas_ref.user_id(3) -> 'metrics' ->> 'totalRequests')::bigint + 1000000))
  WHERE day = d;
  -- and its user_pack, as the refresh derives it (the dashboard reads the pack when it has one)
  UPDATE ducache_rollup_days SET user_pack = ducache_user_pack(user_totals) WHERE day = d;
$$;
SELECT pg_temp.tamper('2025-03-18'), pg_temp.tamper('2025-02-02');
-- What a call adds to the days' answer: range requests, comparison-period requests.
CREATE TEMP VIEW tamper_seen AS
SELECT r.what, (d ->> 'totalRequests')::bigint - (off ->> 'totalRequests')::bigint AS requests_added,
       (d -> 'trends' -> 'requestsTrend' ->> 'previous')::bigint
         - (off -> 'trends' -> 'requestsTrend' ->> 'previous')::bigint AS previous_requests_added
FROM (SELECT r.*, ducache_dashboard(r.s, r.e, r.f) AS d,
             ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L, %L)', r.s, r.e, r.f))::jsonb AS off
      FROM (VALUES ('2025-02-05'::date, '2025-03-20'::date, '{}'::jsonb, 'leftover 03-18 in the range, 02-02 in the comparison'),
                   ('2025-03-17', '2025-03-24', '{}', 'the block 03-17..24 whole: the block is read'),
                   ('2025-03-01', '2025-03-31', '{}', 'March whole: the month is read'),
                   ('2025-03-18', '2025-03-18', '{}', 'the day alone'),
                   ('2025-02-05', '2025-03-20', jsonb_build_object('userIds', ARRAY[litemaas_ref.user_id(3)]), 'filtered: the range reads the days')
           ) AS r(s, e, f, what)) r;
SELECT * FROM tamper_seen;
-- A write to another day of 03-18's block (one day; the change row names that day): March and
-- the block 03-17..24 are stale, 03-18's projection is not: now every range holding 03-18 reads it.
UPDATE daily_usage_cache SET is_complete = is_complete WHERE date = '2025-03-17';
SELECT month, block, day FROM ducache_rollup_changes ORDER BY month, block;
SELECT * FROM tamper_seen;
-- A write to 03-18 itself: its projection is no longer read (right again with no refresh).
UPDATE daily_usage_cache SET is_complete = is_complete WHERE date = '2025-03-18';
SELECT * FROM tamper_seen;
-- A refresh rebuilds the two written days' projections (the other days' rows are left as they
-- are: 02-02 is still tampered), and they are read again.
CREATE TEMP TABLE before AS SELECT day, xmin::text AS x FROM ducache_rollup_days;
SELECT month, action FROM ducache_refresh_rollups('2025-03-01', '2025-03-31') ORDER BY month;
SELECT p.day FROM ducache_rollup_days p JOIN before o USING (day) WHERE p.xmin::text <> o.x ORDER BY p.day;
SELECT count(*) AS changes_logged FROM ducache_rollup_changes;
SELECT * FROM tamper_seen;
SELECT pg_temp.tamper('2025-03-18');
SELECT * FROM tamper_seen;
-- One statement writing two days of the block (the change row names the block, no day): every
-- projection of the block is stale, 03-18's too.
UPDATE daily_usage_cache SET is_complete = is_complete WHERE date IN ('2025-03-19', '2025-03-20');
SELECT month, block, day FROM ducache_rollup_changes ORDER BY month, block;
SELECT * FROM tamper_seen;
-- A change row naming no block (TRUNCATE, the update from 0.3.0) makes the month's days stale.
UPDATE daily_usage_cache SET is_complete = is_complete WHERE date = '2025-02-02';  -- 02-02 right again
SELECT pg_temp.tamper('2025-02-03');
SELECT (d ->> 'totalRequests')::bigint - (ducache_test.with_rollups_off($$SELECT ducache_dashboard('2025-02-03', '2025-02-06') ->> 'totalRequests'$$))::bigint AS tampered_02_03_added
FROM (SELECT ducache_dashboard('2025-02-03', '2025-02-06') AS d) x;
INSERT INTO ducache_rollup_changes (month) VALUES ('2025-02-01');
SELECT (d ->> 'totalRequests')::bigint - (ducache_test.with_rollups_off($$SELECT ducache_dashboard('2025-02-03', '2025-02-06') ->> 'totalRequests'$$))::bigint AS after_a_whole_month_change
FROM (SELECT ducache_dashboard('2025-02-03', '2025-02-06') AS d) x;
-- Refreshed: every projection again equal to plain SQL, every dashboard to the reference.
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;
SELECT count(*) AS projections_checked,
       count(*) FILTER (WHERE (p.user_requests, p.user_cost, p.key_requests, p.key_cost, p.model_requests)
                        IS DISTINCT FROM (r.user_requests, r.user_cost, r.key_requests, r.key_cost, r.model_requests)) AS differ
FROM projection_sums p JOIN reference_sums r USING (day);
SELECT r.what, litemaas_ref.dash_figures(ducache_dashboard(r.s, r.e)) = litemaas_ref.dash_ref(r.s, r.e) AS figures_equal_reference,
       ducache_dashboard(r.s, r.e)::text = ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L)', r.s, r.e)) AS equal_rollups_off
FROM ranges r ORDER BY r.s, r.e;

-- "Today" (LiteMaaS rewrites it every few minutes): an incomplete day gets no projection and
-- is read from its row; marked complete (one statement), the next refresh builds it.
UPDATE daily_usage_cache SET is_complete = false WHERE date = '2025-03-18';
SELECT month, action FROM ducache_refresh_rollups('2025-03-01', '2025-03-31') ORDER BY month;
SELECT day, built FROM ducache_rollup_days WHERE day BETWEEN '2025-03-17' AND '2025-03-19' ORDER BY day;
SELECT ducache_dashboard('2025-03-14', '2025-03-20')::text
       = ducache_test.with_rollups_off($$SELECT ducache_dashboard('2025-03-14', '2025-03-20')$$) AS equal_with_today;
UPDATE daily_usage_cache SET is_complete = true WHERE date = '2025-03-18';
SELECT month, action FROM ducache_refresh_rollups('2025-03-01', '2025-03-31') ORDER BY month;
SELECT day, built FROM ducache_rollup_days WHERE day BETWEEN '2025-03-17' AND '2025-03-19' ORDER BY day;
-- A deleted day loses its projection.
DELETE FROM daily_usage_cache WHERE date = '2025-03-19';
SELECT month, action FROM ducache_refresh_rollups('2025-03-01', '2025-03-31') ORDER BY month;
SELECT count(*) AS projection_of_the_deleted_day FROM ducache_rollup_days WHERE day = '2025-03-19';
-- Projections have no foreign key to their month's row (TRUNCATE ducache_rollups alone works):
-- without the row (deleted by hand) they are not read; the refresh deletes them and, putting
-- the month's row back, builds them again from the days (the tampered one is gone).
SELECT pg_temp.tamper('2025-01-30');
CREATE TEMP VIEW january_added AS
SELECT (ducache_dashboard('2025-01-29', '2025-01-31') ->> 'totalRequests')::bigint
       - (ducache_test.with_rollups_off($$SELECT ducache_dashboard('2025-01-29', '2025-01-31') ->> 'totalRequests'$$))::bigint AS added;
SELECT added AS tampered_read FROM january_added;
DELETE FROM ducache_rollups WHERE month = '2025-01-01';
SELECT added AS without_the_month_row FROM january_added;
SELECT month, action FROM ducache_refresh_rollups('2025-01-01', '2025-01-31') ORDER BY month;
SELECT added AS month_row_back FROM january_added;

DELETE FROM daily_usage_cache;
SELECT count(*) AS months FROM ducache_refresh_rollups();
SELECT count(*) AS projections_left FROM ducache_rollup_days;

-- DROP EXTENSION (own database): daily_usage_cache and its rows untouched, the projections
-- and the change triggers gone; CREATE EXTENSION again builds them on the next refresh.
SELECT current_database() AS regress_db \gset
SET client_min_messages = warning;
DROP DATABASE IF EXISTS ducache_day_projections;
RESET client_min_messages;
CREATE DATABASE ducache_day_projections;
\c ducache_day_projections
SET client_min_messages = warning;
CREATE EXTENSION ducache;
RESET client_min_messages;
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics)
SELECT d::date, '{}', jsonb_build_object('u' || (extract(day FROM d)::int % 3),
           jsonb_build_object('metrics', jsonb_build_object('totalRequests', 2, 'totalCost', 0.5))),
       '{}', '{}', '{}'
FROM generate_series(date '2025-01-27', date '2025-02-03', interval '1 day') AS d;
SELECT count(*) AS months FROM ducache_refresh_rollups();
SELECT count(*) FILTER (WHERE built) AS projections_built FROM ducache_rollup_days;
SELECT md5(string_agg(t::text, '|' ORDER BY date)) AS checksum_before, count(*) AS n FROM daily_usage_cache AS t \gset
DROP EXTENSION ducache;
SELECT md5(string_agg(t::text, '|' ORDER BY date)) = :'checksum_before' AS rows_kept, count(*) = :n AS row_count_kept
FROM daily_usage_cache AS t;
SELECT to_regclass('ducache_rollup_days') AS projections_table,
       (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'daily_usage_cache'::regclass) AS triggers_left;
SET client_min_messages = warning;
CREATE EXTENSION ducache;
RESET client_min_messages;
SELECT count(*) AS months FROM ducache_refresh_rollups();
SELECT count(*) FILTER (WHERE built) AS projections_built FROM ducache_rollup_days;
SELECT (ducache_dashboard('2025-01-29', '2025-02-02') ->> 'totalRequests')::bigint AS requests,
       (SELECT count(*) * 2 FROM daily_usage_cache WHERE date BETWEEN '2025-01-29' AND '2025-02-02') AS requests_reference;

-- Kept scan plans (pg/cache_scan.cpp keeps each scan's statement for the backend) across
-- DROP EXTENSION and CREATE EXTENSION in one session: the readers below (their day and rollup
-- statements) run once, the extension's tables are dropped and created again (new OIDs, same
-- names), and the same readers run again in this session: before a refresh (nothing built:
-- the days), after it, and with a tampered projection (as the superuser, no change logged),
-- which shows the new ducache_rollup_days is what they read. Reference: plain SQL over the day
-- rows (each day: one user, 2 requests, cost 0.5). Dynamic SQL: nothing here depends on the
-- extension's functions.
CREATE FUNCTION pg_temp.reads_vs_sql() RETURNS TABLE (what text, ducache numeric, plain_sql numeric)
LANGUAGE plpgsql AS $f$
BEGIN
  RETURN QUERY EXECUTE $q$
    SELECT 'dashboard 01-29..02-02 requests', (ducache_dashboard('2025-01-29', '2025-02-02') ->> 'totalRequests')::numeric,
           (SELECT count(*) * 2 FROM daily_usage_cache WHERE date BETWEEN '2025-01-29' AND '2025-02-02')::numeric
    UNION ALL
    SELECT 'dashboard 02-01..02-03 cost', (ducache_dashboard('2025-02-01', '2025-02-03') -> 'totalCost' ->> 'total')::numeric,
           (SELECT count(*) * 0.5 FROM daily_usage_cache WHERE date BETWEEN '2025-02-01' AND '2025-02-03')
    UNION ALL
    SELECT 'user breakdown January requests', (SELECT sum(total_requests) FROM ducache_user_breakdown('2025-01-01', '2025-01-31')),
           (SELECT count(*) * 2 FROM daily_usage_cache WHERE date BETWEEN '2025-01-01' AND '2025-01-31')::numeric
    UNION ALL
    SELECT 'user breakdown 01-27..02-03 active days', (SELECT sum(active_days) FROM ducache_user_breakdown('2025-01-27', '2025-02-03')),
           (SELECT count(*) FROM daily_usage_cache WHERE date BETWEEN '2025-01-27' AND '2025-02-03')::numeric
    UNION ALL
    SELECT 'daily trend 02-02 requests', (SELECT sum(total_requests) FROM ducache_daily_trend('2025-02-02', '2025-02-02')),
           (SELECT count(*) * 2 FROM daily_usage_cache WHERE date = '2025-02-02')::numeric
    UNION ALL
    SELECT 'daily trend January days', (SELECT count(*) FROM ducache_daily_trend('2025-01-01', '2025-01-31')),
           (SELECT count(*) FROM daily_usage_cache WHERE date BETWEEN '2025-01-01' AND '2025-01-31')::numeric
  $q$;
END $f$;
SELECT what, ducache = plain_sql AS equal, plain_sql FROM pg_temp.reads_vs_sql();
DROP EXTENSION ducache;
SET client_min_messages = warning;
CREATE EXTENSION ducache;
RESET client_min_messages;
SELECT what, ducache = plain_sql AS equal_before_refresh FROM pg_temp.reads_vs_sql();
SELECT count(*) AS months FROM ducache_refresh_rollups();
SELECT what, ducache = plain_sql AS equal_after_refresh FROM pg_temp.reads_vs_sql();
UPDATE ducache_rollup_days
SET user_totals = jsonb_set(user_totals, '{u2,metrics,totalRequests}',
        to_jsonb((user_totals -> 'u2' -> 'metrics' ->> 'totalRequests')::bigint + 1000000))
WHERE day = '2025-02-02';
UPDATE ducache_rollup_days SET user_pack = ducache_user_pack(user_totals) WHERE day = '2025-02-02';
SELECT what, ducache - plain_sql AS tampered_projection_added FROM pg_temp.reads_vs_sql() WHERE what LIKE 'dashboard%';
\c :regress_db
DROP DATABASE ducache_day_projections;
