-- CONTRACT §7, day blocks (docs/rollups.md "Day blocks"): the blocks 1-8, 9-16, 17-24 and
-- 25-end of a month have rollups of their own (ducache_rollup_blocks), read for the whole
-- blocks of a range that no fresh month rollup covers. On the multi-month fixture of
-- test/reference/rollups_fixture.sql:
--   * ducache_block_of() against the block rule written in plain SQL, every day of two years;
--   * after a refresh, each block row holds exactly the cached days of its block (plain SQL),
--     built unless one of them is incomplete;
--   * every read function on ranges made of blocks equals the plain-SQL reference
--     (test/reference/cells.sql) and the same call with rollups off;
--   * a tampered block (no change logged) changes the answer of a range holding it, not of
--     its whole month (the month rollup is read) nor of a range inside it (its days are read);
--   * a write to a day makes exactly its month and its block stale: the other blocks of the
--     month are still read; a refresh rewrites exactly that month and that block.
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

-- Identity as the readers document it (core/aggregator.hpp, Totals): each of username, email,
-- role is the latest string value in day order (cells.sql takes the whole latest entry; the
-- fixture has entries without an email and with a null one, where the two rules differ).
CREATE OR REPLACE FUNCTION litemaas_ref.identity(uid text, s date, e date,
    OUT username text, OUT email text, OUT role text)
LANGUAGE sql STABLE AS $$
  SELECT max(v) FILTER (WHERE f = 'username'), max(v) FILTER (WHERE f = 'email'), max(v) FILTER (WHERE f = 'role')
  FROM (SELECT f, (SELECT c.entry ->> f FROM litemaas_ref.user_cells c
                   WHERE c.user_id = uid AND c.date BETWEEN s AND e AND jsonb_typeof(c.entry -> f) = 'string'
                   ORDER BY c.date DESC LIMIT 1) AS v
        FROM unnest(ARRAY['username', 'email', 'role']) AS f) x
$$;

-- The block rule in plain SQL: the month's first day + 0, 8, 16 or 24 days.
SELECT count(*) AS days,
       count(*) FILTER (WHERE ducache_block_of(d::date) IS DISTINCT FROM
           (date_trunc('month', d)::date + CASE WHEN extract(day FROM d) >= 25 THEN 24
                                                ELSE (extract(day FROM d)::int - 1) / 8 * 8 END)) AS wrong
FROM generate_series(date '2024-01-01', date '2025-12-31', interval '1 day') AS d;
SELECT ducache_block_of('infinity') AS inf, ducache_block_of('4714-11-30 BC') AS first_month,
       ducache_block_of('4714-12-09 BC') AS second_month;

-- Refresh: every month as before (April has an incomplete day); the blocks of the cached days.
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;
-- Each block row: its cached days (plain SQL), built exactly when none of them is incomplete;
-- and no block with cached days lacks a row.
SELECT b.block, b.last_day = least(b.block + 7, (date_trunc('month', b.block) + interval '1 month - 1 day')::date)
                             OR (extract(day FROM b.block) = 25 AND b.last_day = (date_trunc('month', b.block) + interval '1 month - 1 day')::date) AS last_day_ok,
       b.built = NOT EXISTS (SELECT FROM daily_usage_cache d WHERE d.date BETWEEN b.block AND b.last_day AND NOT d.is_complete) AS built_iff_complete,
       NOT b.built OR b.days = (SELECT sum(1 << (extract(day FROM d.date)::int - 1))::int FROM daily_usage_cache d
                                WHERE d.date BETWEEN b.block AND b.last_day) AS days_are_the_cached_days
FROM ducache_rollup_blocks b ORDER BY b.block;
SELECT count(DISTINCT ducache_block_of(d.date)) AS blocks_with_days,
       (SELECT count(*) FROM ducache_rollup_blocks) AS block_rows
FROM daily_usage_cache d;

-- One call of ducache_<fn> with rollups (the default) and without, and the reference: the
-- differing rows (text and position, EXCEPT ALL both ways) of on vs reference and on vs off.
CREATE FUNCTION pg_temp.cmp(fn text, s date, e date, u text[], m text[], k text[],
                            OUT vs_ref bigint, OUT vs_off bigint, OUT rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
    args text := format('%L::date, %L::date, %L::text[], %L::text[], %L::text[]', s, e, u, m, k);
    duc text[];
    off text[];
    ref text[];
BEGIN
    EXECUTE format('SELECT array(SELECT t::text FROM ducache_%s(%s) t)', fn, args) INTO duc;
    PERFORM set_config('ducache.use_rollups', 'off', false);
    EXECUTE format('SELECT array(SELECT t::text FROM ducache_%s(%s) t)', fn, args) INTO off;
    PERFORM set_config('ducache.use_rollups', 'on', false);
    EXECUTE format('SELECT array(SELECT t::text FROM litemaas_ref.%s(%s) t)', fn, args) INTO ref;
    SELECT count(*) INTO vs_ref FROM (
        (SELECT * FROM unnest(duc) WITH ORDINALITY EXCEPT ALL SELECT * FROM unnest(ref) WITH ORDINALITY)
        UNION ALL
        (SELECT * FROM unnest(ref) WITH ORDINALITY EXCEPT ALL SELECT * FROM unnest(duc) WITH ORDINALITY)) x;
    SELECT count(*) INTO vs_off FROM (
        (SELECT * FROM unnest(duc) WITH ORDINALITY EXCEPT ALL SELECT * FROM unnest(off) WITH ORDINALITY)
        UNION ALL
        (SELECT * FROM unnest(off) WITH ORDINALITY EXCEPT ALL SELECT * FROM unnest(duc) WITH ORDINALITY)) x;
    rows := cardinality(ref);
END $$;

-- Ranges made of blocks (and days), none a whole month but the second.
CREATE TEMP TABLE ranges (s date, e date, what text);
INSERT INTO ranges VALUES
    ('2025-02-09', '2025-02-24', 'two blocks of February'),
    ('2025-01-20', '2025-03-20', 'January days and last block, February whole, two March blocks, days'),
    ('2025-03-09', '2025-04-05', 'three March blocks (a gap in the last), April days (one incomplete)'),
    ('2025-02-17', '2025-02-28', 'February 17-24 and its short last block'),
    ('2025-01-26', '2025-02-16', 'January days (not a whole block), two February blocks'),
    ('2025-02-13', '2025-02-20', 'inside two blocks: days only');
CREATE TEMP TABLE filters (u text[], m text[], k text[]);
INSERT INTO filters VALUES
    (NULL, NULL, NULL),
    (ARRAY[litemaas_ref.user_id(3), litemaas_ref.user_id(9)], NULL, NULL),
    (NULL, '{mistral-7b-instruct,granite-3.1-8b-instruct}', '{u4-ci,team-shared}');
CREATE TEMP TABLE results AS
SELECT fn, r.s, r.e, f.u, f.m, f.k, c.*
FROM unnest(ARRAY['user_breakdown', 'model_breakdown', 'provider_breakdown', 'user_model_breakdown',
                  'api_key_breakdown', 'analytics', 'daily_trend']) AS fn,
     ranges r, filters f, LATERAL pg_temp.cmp(fn, r.s, r.e, f.u, f.m, f.k) c;
SELECT fn, count(*) AS calls, sum(vs_ref) AS differ_from_reference, sum(vs_off) AS differ_from_rollups_off,
       count(*) FILTER (WHERE rows > 0) AS calls_with_rows
FROM results GROUP BY fn ORDER BY fn;
SELECT fn, s, e, u, m, k, vs_ref, vs_off FROM results WHERE vs_ref + vs_off > 0 ORDER BY fn, s, e LIMIT 10;
-- The dashboard (both periods: the comparison period of each range is made of blocks too)
-- and the filter options: with rollups = rollups off.
SELECT r.what,
       ducache_dashboard(r.s, r.e)::text = ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L)', r.s, r.e)) AS dashboard,
       ducache_dashboard(r.s, r.e, jsonb_build_object('userIds', ARRAY[litemaas_ref.user_id(3)]))::text =
           ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L, %L)', r.s, r.e,
                                           jsonb_build_object('userIds', ARRAY[litemaas_ref.user_id(3)]))) AS dashboard_filtered,
       ducache_filter_options(r.s, r.e)::text = ducache_test.with_rollups_off(format('SELECT ducache_filter_options(%L, %L)', r.s, r.e)) AS filter_options
FROM ranges r ORDER BY r.s, r.e;

-- Blocks are read: tamper with user3 in the rollup of February 9-16 (as the superuser, in
-- ducache's own table: no change logged). A range holding that block answers wrong; February
-- whole does not (its month rollup is read), nor a range inside the block (days).
UPDATE ducache_rollup_blocks
SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(3), 'metrics'],
        (SELECT jsonb_object_agg(key, CASE WHEN jsonb_typeof(value) = 'number' THEN to_jsonb(value::text::numeric + 1000) ELSE value END)
         FROM jsonb_each(aggregated_by_user -> litemaas_ref.user_id(3) -> 'metrics')))
WHERE block = '2025-02-09';
INSERT INTO ranges VALUES ('2025-02-01', '2025-02-28', 'February whole'), ('2025-02-10', '2025-02-16', 'inside the block');
CREATE TEMP VIEW tamper_seen AS
SELECT r.what, c.vs_ref > 0 AS wrong, c.vs_off > 0 AS differs_from_rollups_off
FROM ranges r, LATERAL pg_temp.cmp('user_breakdown', r.s, r.e, NULL, NULL, NULL) c
WHERE r.what IN ('two blocks of February', 'February whole', 'inside the block', 'January days (not a whole block), two February blocks')
ORDER BY r.s, r.e;
SELECT * FROM tamper_seen;
SELECT ducache_dashboard('2025-02-09', '2025-02-24')::text
       <> ducache_test.with_rollups_off($$SELECT ducache_dashboard('2025-02-09', '2025-02-24')$$) AS dashboard_reads_the_block;
-- A write to a day of another February block (plain SQL, by the application): February's
-- month rollup and the block of that day are stale, the tampered block is not: February whole
-- now reads its blocks, the tampered one among them.
UPDATE daily_usage_cache SET is_complete = is_complete WHERE date = '2025-02-20';
SELECT month, block FROM ducache_rollup_changes ORDER BY month, block;
SELECT * FROM tamper_seen;
-- A write to a day of the tampered block: that block is stale too; right again with no refresh.
UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user - litemaas_ref.user_id(5) WHERE date = '2025-02-14';
SELECT litemaas_ref.materialize();  -- the reference's cells follow the days
SELECT month, block FROM ducache_rollup_changes ORDER BY month, block;
SELECT * FROM tamper_seen;
-- Refresh: February only; of its blocks exactly the two written ones are rewritten.
CREATE TEMP TABLE before AS SELECT block, xmin::text AS x FROM ducache_rollup_blocks;
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;
SELECT b.block, b.xmin::text <> o.x AS rewritten FROM ducache_rollup_blocks b JOIN before o USING (block)
WHERE b.xmin::text <> o.x OR b.month = '2025-02-01' ORDER BY b.block;
SELECT count(*) AS changes_logged FROM ducache_rollup_changes;
SELECT * FROM tamper_seen;

-- A change row naming no block (TRUNCATE logs those; so does the 0.3.0 -> 0.4.0 update) makes
-- every block of its month stale: a tampered March block is not read, then every March block
-- is rebuilt.
UPDATE ducache_rollup_blocks SET aggregated_by_user = '{}' WHERE block = '2025-03-09';
SELECT (pg_temp.cmp('user_breakdown', '2025-03-09', '2025-03-16', NULL, NULL, NULL)).vs_ref > 0 AS wrong_tampered_block_read;
INSERT INTO ducache_rollup_changes (month) VALUES ('2025-03-01');
SELECT (pg_temp.cmp('user_breakdown', '2025-03-09', '2025-03-16', NULL, NULL, NULL)).vs_ref > 0 AS wrong_after_a_whole_month_change;
TRUNCATE before;
INSERT INTO before SELECT block, xmin::text FROM ducache_rollup_blocks;
SELECT month, action FROM ducache_refresh_rollups('2025-03-01', '2025-03-31') ORDER BY month;
SELECT b.block, b.xmin::text <> o.x AS rewritten FROM ducache_rollup_blocks b JOIN before o USING (block)
WHERE b.month = '2025-03-01' ORDER BY b.block;

-- A month turning incomplete (LiteMaaS's "today"): no month rollup, but its complete blocks
-- keep theirs and are read; every function still equals the reference.
UPDATE daily_usage_cache SET is_complete = false WHERE date = '2025-03-20';
SELECT month, action FROM ducache_refresh_rollups('2025-03-01', '2025-03-31') ORDER BY month;
SELECT block, built FROM ducache_rollup_blocks WHERE month = '2025-03-01' ORDER BY block;
UPDATE ducache_rollup_blocks SET aggregated_by_user = '{}' WHERE block = '2025-03-25';
SELECT (pg_temp.cmp('user_breakdown', '2025-03-01', '2025-03-31', NULL, NULL, NULL)).vs_ref > 0 AS wrong_tampered_block_of_an_incomplete_month;
-- Completing the day, and a write to a day of the tampered block: both blocks rebuilt.
UPDATE daily_usage_cache SET is_complete = true WHERE date IN ('2025-03-20', '2025-03-26');
SELECT month, action FROM ducache_refresh_rollups('2025-03-01', '2025-03-31') ORDER BY month;
SELECT fn, count(*) AS calls, sum(c.vs_ref) AS differ_from_reference, sum(c.vs_off) AS differ_from_rollups_off
FROM unnest(ARRAY['user_breakdown', 'model_breakdown', 'provider_breakdown', 'user_model_breakdown',
                  'api_key_breakdown', 'analytics', 'daily_trend']) AS fn,
     ranges r, (SELECT * FROM filters LIMIT 2) f, LATERAL pg_temp.cmp(fn, r.s, r.e, f.u, f.m, f.k) c
GROUP BY fn ORDER BY fn;

-- Deleting a month's rollup row takes its blocks with it (they live and die with the month).
DELETE FROM ducache_rollups WHERE month = '2025-01-01';
SELECT count(*) AS january_blocks FROM ducache_rollup_blocks WHERE month = '2025-01-01';
DELETE FROM daily_usage_cache;
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;
SELECT (SELECT count(*) FROM ducache_rollups) AS rollups_left, (SELECT count(*) FROM ducache_rollup_blocks) AS blocks_left;
SET client_min_messages = warning;
DROP SCHEMA litemaas_ref CASCADE;
RESET client_min_messages;
