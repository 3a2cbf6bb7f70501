-- The dashboard's user walks (docs/rollups.md "Round 11"): the unfiltered comparison period's
-- users are summed by core/period_users.hpp (each entry found by its position in the previous
-- row's key list, else by a merge cursor), the range's with their identity. On the multi-month
-- fixture of test/reference/rollups_fixture.sql, with more variation:
--   * a user absent on the odd days of March (neighbouring days and blocks list different
--     users), a user whose requests are 0 from February on (listed, with tokens and cost, but
--     not counted in a comparison period after January), a user renamed for three weeks;
--   * every document with rollups equals the same call with rollups off, byte for byte, on
--     ranges whose comparison period covers months, blocks, day projections and day rows, and
--     usersTrend.previous equals plain SQL (the users with summed requests != 0);
--   * a tampered projection in a comparison period changes its answer (projections are read);
--   * a per-user sum that overflows only across months, and a value the days refuse, in a
--     comparison period: the same error with rollups on and off.
-- Own rows: the cache is emptied first and last.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
DELETE FROM daily_usage_cache;
\set ECHO none
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS litemaas_ref CASCADE;  -- an earlier test's cell tables: the views of cells.sql here
\i test/reference/rollups_fixture.sql
\i test/reference/cells.sql
RESET client_min_messages;
\set ECHO all
UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user - litemaas_ref.user_id(6)
WHERE date BETWEEN '2025-03-01' AND '2025-03-31' AND extract(day FROM date)::int % 2 = 1;
UPDATE daily_usage_cache
SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(7), 'metrics', 'api_requests'], '0')
WHERE date >= '2025-02-01' AND aggregated_by_user -> litemaas_ref.user_id(7) ? 'metrics';
UPDATE daily_usage_cache
SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(4), 'username'], '"user4.renamed"')
WHERE date BETWEEN '2025-03-05' AND '2025-03-25' AND aggregated_by_user -> litemaas_ref.user_id(4) ? 'username';
SELECT count(*) > 0 AS refreshed FROM ducache_refresh_rollups();
SELECT (SELECT count(*) FROM ducache_rollups WHERE built) AS months,
       (SELECT count(*) FROM ducache_rollup_blocks WHERE built) AS blocks,
       (SELECT count(*) FROM ducache_rollup_days WHERE built) AS day_projections;

-- The call's result or its error (SQLSTATE, message, detail).
CREATE FUNCTION pg_temp.outcome(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v text;
    st text;
    msg text;
    det text;
BEGIN
    EXECUTE q INTO v;
    RETURN v;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN 'ERROR ' || st || ': ' || msg || ' / ' || coalesce(det, '');
END $$;
-- Users with summed requests != 0 over [s, e], in plain SQL over the day rows.
CREATE FUNCTION pg_temp.users_ref(s date, e date) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM (SELECT user_id FROM litemaas_ref.user_cells WHERE date BETWEEN s AND e
                          GROUP BY user_id HAVING sum(requests) <> 0) u
$$;
CREATE TEMP TABLE ranges (s date, e date);
INSERT INTO ranges VALUES
    ('2025-03-01', '2025-03-31'),  -- comparison 01-29..02-28: the February month, January's days 29-31
    ('2025-04-01', '2025-04-05'),  -- 03-27..03-31: projections (03-31 not cached)
    ('2025-03-10', '2025-04-05'),  -- 02-11..03-09: projections, two February blocks, a March block, a projection
    ('2025-02-15', '2025-04-05'),  -- 12-27..02-14: January's month, a February block, projections
    ('2025-04-04', '2025-04-05'),  -- 04-02..04-03: a projection and an incomplete day row
    ('2025-03-16', '2025-04-03'),  -- 02-25..03-15: blocks and projections, 03-15 with no usage
    ('2025-03-03', '2025-03-06'),  -- 02-27..03-02: user 6 in some rows only
    ('2025-03-17', '2025-03-24'),  -- 03-09..03-16: a projection per day, lists alternating
    ('2025-02-01', '2025-03-31'),  -- 12-04..01-31: January's month
    ('2025-01-20', '2025-04-05');  -- 11-04..01-19: nothing cached (no comparison period)
SELECT r.s, r.e, r.s - (r.e - r.s + 1) AS comparison_start,
       ducache_dashboard(r.s, r.e)::text = ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L)', r.s, r.e))
           AS equal_to_rollups_off,
       ducache_dashboard(r.s, r.e) -> 'trends' -> 'usersTrend' ->> 'previous' AS previous_users,
       pg_temp.users_ref(r.s - (r.e - r.s + 1), r.s - 1) AS previous_users_sql,
       (ducache_dashboard(r.s, r.e) -> 'trends' -> 'requestsTrend' ->> 'previous')::numeric
           = (SELECT coalesce(sum(requests), 0) FROM litemaas_ref.user_cells
              WHERE date BETWEEN r.s - (r.e - r.s + 1) AND r.s - 1) AS previous_requests_as_sql
FROM ranges r ORDER BY r.s, r.e;
-- User 7 is listed (cost) in a comparison period after January but not counted; before it, counted.
SELECT (SELECT count(*) FROM litemaas_ref.user_cells WHERE user_id = litemaas_ref.user_id(7)
          AND date BETWEEN '2025-02-27' AND '2025-03-02') AS user7_entries,
       (SELECT sum(requests) FROM litemaas_ref.user_cells WHERE user_id = litemaas_ref.user_id(7)
          AND date BETWEEN '2025-02-27' AND '2025-03-02') AS user7_requests;
-- Filtered calls (the comparison period by the cell walker) stay equal too.
SELECT f, ducache_dashboard('2025-03-10', '2025-04-05', f::jsonb)::text
          = ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L, %L)', '2025-03-10', '2025-04-05', f))
          AS equal_to_rollups_off
FROM (VALUES ('{"userIds": ["' || litemaas_ref.user_id(6) || '", "' || litemaas_ref.user_id(7) || '"]}'),
             ('{"modelIds": ["gpt-4o"]}')) v(f) ORDER BY 1;

-- A tampered projection in the comparison period (no change logged): its answer changes, the
-- range's does not (so the comparison period reads the projection).
BEGIN;
UPDATE ducache_rollup_days
SET user_totals = jsonb_set(user_totals, ARRAY[litemaas_ref.user_id(2), 'metrics', 'totalRequests'], '1000000')
WHERE day = '2025-03-28';
UPDATE ducache_rollup_days SET user_pack = ducache_user_pack(user_totals) WHERE day = '2025-03-28';
SELECT (ducache_dashboard('2025-04-01', '2025-04-05') -> 'trends' -> 'requestsTrend' ->> 'previous')::bigint
       - (ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L) -> %L -> %L ->> %L', '2025-04-01',
              '2025-04-05', 'trends', 'requestsTrend', 'previous')))::bigint > 0 AS previous_requests_added,
       ducache_dashboard('2025-04-01', '2025-04-05') ->> 'totalRequests'
       = ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L) ->> %L', '2025-04-01', '2025-04-05',
              'totalRequests')) AS range_requests_equal;
ROLLBACK;

-- A per-user sum that passes bigint only when two months are added (each month's rollup holds
-- its half): the days' error, with rollups as without.
UPDATE daily_usage_cache
SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(2), 'metrics', 'api_requests'],
                                   '4611686018427387904')
WHERE date IN ('2025-01-26', '2025-02-03');
SELECT count(*) > 0 AS refreshed FROM ducache_refresh_rollups();
SELECT (SELECT built FROM ducache_rollups WHERE month = '2025-01-01') AS january_built,
       (SELECT built FROM ducache_rollups WHERE month = '2025-02-01') AS february_built;
SELECT pg_temp.outcome($$SELECT ducache_dashboard('2025-03-01', '2025-04-05')$$) AS with_rollups;
SELECT pg_temp.outcome($$SELECT ducache_dashboard('2025-03-01', '2025-04-05')$$)
       = pg_temp.outcome($q$SELECT ducache_test.with_rollups_off('SELECT ducache_dashboard(''2025-03-01'', ''2025-04-05'')')$q$)
       AS same_as_rollups_off;
SELECT ducache_test.with_rollups_off($$SELECT pg_temp.outcome('SELECT ducache_dashboard(''2025-03-01'', ''2025-04-05'')')$$)
       AS rollups_off;

-- A value the days refuse in a comparison period: no rollup covers its day; the same error.
UPDATE daily_usage_cache
SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(2), 'metrics', 'api_requests'], '1')
WHERE date IN ('2025-01-26', '2025-02-03');
UPDATE daily_usage_cache
SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(3), 'metrics', 'api_requests'], '"many"')
WHERE date = '2025-02-20';
SET client_min_messages = error;  -- the refresh warns about the refused month
SELECT count(*) > 0 AS refreshed FROM ducache_refresh_rollups();
RESET client_min_messages;
SELECT (SELECT built FROM ducache_rollups WHERE month = '2025-02-01') AS february_built,
       (SELECT count(*) FROM ducache_rollup_blocks WHERE built AND month = '2025-02-01') AS february_blocks_built;
SELECT pg_temp.outcome($$SELECT ducache_dashboard('2025-03-10', '2025-04-05')$$) AS with_rollups;
SELECT ducache_test.with_rollups_off($$SELECT pg_temp.outcome('SELECT ducache_dashboard(''2025-03-10'', ''2025-04-05'')')$$)
       AS rollups_off;
-- A range whose comparison period does not reach the refused day is still answered, as without rollups.
SELECT ducache_dashboard('2025-03-16', '2025-04-03')::text
       = ducache_test.with_rollups_off($$SELECT ducache_dashboard('2025-03-16', '2025-04-03')$$) AS equal_to_rollups_off;

DELETE FROM daily_usage_cache;
SELECT count(*) > 0 AS refreshed_after_delete FROM ducache_refresh_rollups();
SET client_min_messages = warning;
DROP SCHEMA litemaas_ref CASCADE;
RESET client_min_messages;
