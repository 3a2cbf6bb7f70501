-- The backend's user directory (pg/user_directory.hpp, core/user_directory.hpp): the dashboard
-- keeps a month's (or block's) packed user list between calls, and a later call whose rows
-- carry byte-identical lists takes its users from it. On the rollups fixture, in one session:
--   * a first call builds a directory, a later call uses it (ducache_test_user_directory_*:
--     test-hooks counters of this backend); both documents are the days' (rollups off);
--   * the users change between two calls (a user removed and another added in its place, the
--     same count and name length; an identity's email changed in bytes of the same length):
--     the next call's document is the days' again (the directory is not used for the changed
--     lists: a new one is built), as with the directory off;
--   * a directory built in a transaction that aborts, then used by the next call.
-- Own rows: the cache is emptied first and last.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
DELETE FROM daily_usage_cache;
TRUNCATE ducache_rollups, ducache_rollup_blocks, ducache_rollup_changes, ducache_rollup_days;
\set ECHO none
SET client_min_messages = warning;
\i test/reference/rollups_fixture.sql
RESET client_min_messages;
\set ECHO all
SET datestyle = 'ISO';
SELECT count(*) > 0 AS refreshed FROM ducache_refresh_rollups();
CREATE FUNCTION pg_temp.builds() RETURNS bigint AS 'ducache', 'ducache_test_user_directory_builds' LANGUAGE C STRICT;
CREATE FUNCTION pg_temp.hits() RETURNS bigint AS 'ducache', 'ducache_test_user_directory_hits' LANGUAGE C STRICT;
-- The document of one range: rollups (with packs and the directory, or directory off) or the days.
CREATE FUNCTION pg_temp.doc(s date, e date, rollups boolean, directory boolean DEFAULT true) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v text;
BEGIN
    PERFORM set_config('ducache.use_rollups', CASE WHEN rollups THEN 'on' ELSE 'off' END, true);
    PERFORM set_config('ducache.use_user_directory', CASE WHEN directory THEN 'on' ELSE 'off' END, true);
    v := ducache_dashboard(s, e, '{}')::text;
    PERFORM set_config('ducache.use_rollups', 'on', true);
    PERFORM set_config('ducache.use_user_directory', 'on', true);
    RETURN v;
END $$;
CREATE TEMP TABLE counts AS SELECT pg_temp.builds() AS builds, pg_temp.hits() AS hits;
CREATE FUNCTION pg_temp.since() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r text;
BEGIN
    SELECT format('builds +%s, hits +%s', pg_temp.builds() - builds, pg_temp.hits() - hits) INTO r FROM counts;
    UPDATE counts SET builds = pg_temp.builds(), hits = pg_temp.hits();
    RETURN r;
END $$;
-- January's rows have packs (its month: 01-20..01-31; a range of it and of the next months).
SELECT month, user_pack IS NOT NULL AS has_pack FROM ducache_rollups WHERE built AND month = '2025-01-01';

-- A first call builds a directory; a later call uses it; both are the days' document.
SELECT pg_temp.doc('2025-01-20', '2025-01-31', true) = pg_temp.doc('2025-01-20', '2025-01-31', false) AS first_eq_days;
SELECT pg_temp.since() ~ '^builds \+[1-9]' AS built;
SELECT pg_temp.doc('2025-01-20', '2025-01-31', true) = pg_temp.doc('2025-01-20', '2025-01-31', false) AS later_eq_days;
SELECT pg_temp.since() ~ '^builds \+0, hits \+[1-9]' AS reused;
CREATE TEMP TABLE before_change AS SELECT pg_temp.doc('2025-01-20', '2025-01-31', true) AS doc;

-- The users change between two calls: user 6 leaves January and a user of the same name length
-- takes its entries (one removed, one added: the same count); user 2's email changes in bytes
-- only (the same length). The refresh rewrites January's rows and their packs.
UPDATE daily_usage_cache
SET aggregated_by_user = (aggregated_by_user - litemaas_ref.user_id(6))
        || jsonb_build_object(overlay(litemaas_ref.user_id(6) placing 'f' from 1 for 1),
                              aggregated_by_user -> litemaas_ref.user_id(6))
WHERE date BETWEEN '2025-01-20' AND '2025-01-31' AND aggregated_by_user ? litemaas_ref.user_id(6);
UPDATE daily_usage_cache
SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(2), 'email'],
        to_jsonb(overlay(aggregated_by_user -> litemaas_ref.user_id(2) ->> 'email' placing 'X' from 1 for 1)))
WHERE date BETWEEN '2025-01-20' AND '2025-01-31' AND aggregated_by_user -> litemaas_ref.user_id(2) ? 'email';
SELECT count(*) > 0 AS refreshed FROM ducache_refresh_rollups();
-- The same number of users, and the same lengths of the names block (what a check of counts
-- and lengths alone would take for the same list):
SELECT (SELECT count(*) FROM ducache_user_pack_rows(user_pack)) AS users,
       (SELECT sum(length(user_id)) FROM ducache_user_pack_rows(user_pack)) AS name_bytes
FROM ducache_rollups WHERE month = '2025-01-01';
SELECT pg_temp.doc('2025-01-20', '2025-01-31', true) = pg_temp.doc('2025-01-20', '2025-01-31', false) AS changed_eq_days,
       pg_temp.doc('2025-01-20', '2025-01-31', true) = pg_temp.doc('2025-01-20', '2025-01-31', true, false)
           AS changed_eq_directory_off,
       pg_temp.doc('2025-01-20', '2025-01-31', true) <> (SELECT doc FROM before_change) AS changed_doc;
SELECT pg_temp.since() ~ '^builds \+[1-9]' AS rebuilt;
-- ... with the comparison period reading January too (February: no packs, so the range of
-- February and March reads user_totals for the whole call; January alone as the period before
-- 02-01..02-12).
SELECT s, e, pg_temp.doc(s, e, true) = pg_temp.doc(s, e, false) AS eq_days
FROM (VALUES ('2025-01-20'::date, '2025-01-31'::date), ('2025-02-01', '2025-02-12'), ('2025-01-21', '2025-01-29'),
             ('2025-01-20', '2025-02-28')) r(s, e) ORDER BY s, e;

-- A directory built in a transaction that aborts: the next call uses or rebuilds one, the same document.
UPDATE daily_usage_cache
SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(2), 'email'], '"x@y"')
WHERE date BETWEEN '2025-01-20' AND '2025-01-31' AND aggregated_by_user -> litemaas_ref.user_id(2) ? 'email';
SELECT count(*) > 0 AS refreshed FROM ducache_refresh_rollups();
BEGIN;
SELECT pg_temp.doc('2025-01-20', '2025-01-31', true) = pg_temp.doc('2025-01-20', '2025-01-31', false) AS in_xact_eq_days;
SELECT 1 / 0;
ROLLBACK;
SELECT pg_temp.doc('2025-01-20', '2025-01-31', true) = pg_temp.doc('2025-01-20', '2025-01-31', false) AS after_abort_eq_days;
SELECT pg_temp.since() ~ 'hits \+[1-9]' AS reused_after_abort;

DELETE FROM daily_usage_cache;
TRUNCATE ducache_rollups, ducache_rollup_blocks, ducache_rollup_changes, ducache_rollup_days;
