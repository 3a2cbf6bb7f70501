-- The unfiltered dashboard reading its rollup rows' users from user_pack (pg/dashboard.cpp,
-- core/user_pack.hpp). On the rollups fixture (test/reference/rollups_fixture.sql), whose
-- February and March rows (month, a block, a projection each) have no pack (a cost past int64
-- at the row's scale) while the other rows have one:
--   * on ranges of whole months, blocks, projections and leftover days, in both periods, the
--     document with packs (ducache.use_user_packs on) is byte-identical to packs off and to
--     rollups off (the days) -- ranges reading only rows with packs, and ranges mixing rows
--     without (the whole call then reads user_totals);
--   * packs are read: a day projection's pack replaced by another day's (ducache_rollup_days
--     has no trigger) shows in the document with packs on, not with packs off;
--   * a projection's pack set to NULL, or to malformed bytes: the call reads user_totals, and
--     its document is the days' again.
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
SELECT count(*) AS months FROM ducache_refresh_rollups();

-- The document of one range with packs on, packs off, and rollups off.
CREATE FUNCTION pg_temp.doc(s date, e date, packs boolean, rollups boolean) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v text;
BEGIN
    PERFORM set_config('ducache.use_user_packs', CASE WHEN packs THEN 'on' ELSE 'off' END, true);
    PERFORM set_config('ducache.use_rollups', CASE WHEN rollups THEN 'on' ELSE 'off' END, true);
    v := ducache_dashboard(s, e, '{}')::text;
    PERFORM set_config('ducache.use_user_packs', 'on', true);
    PERFORM set_config('ducache.use_rollups', 'on', true);
    RETURN v;
END $$;
CREATE TEMP TABLE ranges (s date, e date);
INSERT INTO ranges VALUES
    ('2025-01-01', '2025-01-31'),   -- January (packs), comparison days of December: none cached
    ('2025-01-09', '2025-01-31'),   -- blocks and projections of January
    ('2025-01-21', '2025-01-29'),   -- projections only
    ('2025-01-17', '2025-01-24'),   -- one block
    ('2025-02-01', '2025-02-28'),   -- February: no pack (mixed in the comparison period too)
    ('2025-02-01', '2025-03-31'),   -- comparison January (packs), range February and March (none)
    ('2025-01-20', '2025-04-05'),   -- everything, April's incomplete day included
    ('2025-02-02', '2025-02-16'),   -- blocks and projections of February
    ('2025-03-02', '2025-03-24'),   -- March's blocks 09 and 17 (packs) and projections
    ('2025-03-09', '2025-03-24'),   -- only March rows with packs; comparison with a pack-less block
    ('2025-04-01', '2025-04-05');   -- April: projections and the incomplete day
-- Which of the rollup rows hold packs (the fixture's shape, not an assertion of the reader).
SELECT 'month ' || month AS row_name, user_pack IS NOT NULL AS has_pack FROM ducache_rollups WHERE built
UNION ALL SELECT 'block ' || block, user_pack IS NOT NULL FROM ducache_rollup_blocks WHERE built
ORDER BY 1;
SELECT s, e, pg_temp.doc(s, e, true, true) = pg_temp.doc(s, e, false, true) AS packs_eq_no_packs,
       pg_temp.doc(s, e, true, true) = pg_temp.doc(s, e, true, false) AS packs_eq_days,
       pg_temp.doc(s, e, true, true)::jsonb->>'totalUsers' AS users
FROM ranges ORDER BY s, e;

-- Packs are read: 01-22's projection gets 01-23's pack.
UPDATE ducache_rollup_days SET user_pack = (SELECT user_pack FROM ducache_rollup_days WHERE day = '2025-01-23')
WHERE day = '2025-01-22';
SELECT pg_temp.doc('2025-01-21', '2025-01-29', true, true) = pg_temp.doc('2025-01-21', '2025-01-29', false, true)
           AS tampered_eq_no_packs,
       pg_temp.doc('2025-01-21', '2025-01-29', false, true) = pg_temp.doc('2025-01-21', '2025-01-29', true, false)
           AS no_packs_eq_days;
-- ... and the tampered pack is what shows: the range's requests with packs are 01-22's replaced by 01-23's.
SELECT (pg_temp.doc('2025-01-21', '2025-01-29', true, true)::jsonb->>'totalRequests')::bigint
     - (pg_temp.doc('2025-01-21', '2025-01-29', false, true)::jsonb->>'totalRequests')::bigint
     = (SELECT sum(requests) FROM ducache_user_pack_rows((SELECT user_pack FROM ducache_rollup_days WHERE day = '2025-01-23')))
     - (SELECT sum(coalesce((v->'metrics'->>'totalRequests')::bigint, 0))
        FROM ducache_rollup_days, jsonb_each(user_totals) e(k, v) WHERE day = '2025-01-22') AS shows_01_23;
-- A NULL pack: the whole call reads user_totals.
UPDATE ducache_rollup_days SET user_pack = NULL WHERE day = '2025-01-22';
SELECT pg_temp.doc('2025-01-21', '2025-01-29', true, true) = pg_temp.doc('2025-01-21', '2025-01-29', true, false)
           AS null_pack_eq_days;
-- Malformed bytes: the same.
UPDATE ducache_rollup_days SET user_pack = substr(user_pack, 1, 100) WHERE day = '2025-01-23';
UPDATE ducache_rollup_days SET user_pack = ducache_user_pack(user_totals) WHERE day = '2025-01-22';
SELECT pg_temp.doc('2025-01-21', '2025-01-29', true, true) = pg_temp.doc('2025-01-21', '2025-01-29', true, false)
           AS malformed_pack_eq_days;
-- Restored: packs read again, the days' document.
UPDATE ducache_rollup_days SET user_pack = ducache_user_pack(user_totals) WHERE day = '2025-01-23';
SELECT pg_temp.doc('2025-01-21', '2025-01-29', true, true) = pg_temp.doc('2025-01-21', '2025-01-29', true, false)
           AS restored_eq_days;

-- Packs without the top key's bounds (core/user_pack.hpp flag bit 0: rows whose user_totals lack
-- "~keycost"/"~keymag", e.g. derived by an older library): the call takes the full walk of
-- user_totals and key_totals (the top key needs every pair), refusing the packs on their header,
-- before any is decoded (ducache_test_pack_decodes: the packs decoded by this backend).
CREATE FUNCTION pg_temp.pack_decodes() RETURNS bigint AS 'ducache', 'ducache_test_pack_decodes' LANGUAGE C STRICT;
CREATE FUNCTION pg_temp.decodes_of(s date, e date) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE before bigint := pg_temp.pack_decodes();
BEGIN
    PERFORM ducache_dashboard(s, e, '{}');
    RETURN pg_temp.pack_decodes() - before;
END $$;
-- 01-21..01-29 and its comparison period 01-12..01-20 are day projections only: all with packs
-- with bounds now, read from them.
SELECT pg_temp.decodes_of('2025-01-21', '2025-01-29') AS decodes_with_bounds,
       (SELECT count(*) FROM ducache_rollup_days WHERE day BETWEEN '2025-01-12' AND '2025-01-29' AND user_pack IS NOT NULL)
           AS projections_with_packs;
SELECT pg_temp.doc('2025-01-21', '2025-01-29', true, true) AS bounded_doc \gset
-- Every January projection's pack made from its user_totals without the bounds.
UPDATE ducache_rollup_days
SET user_pack = ducache_user_pack((SELECT jsonb_object_agg(k, v - '~keycost' - '~keymag') FROM jsonb_each(user_totals) e(k, v)))
WHERE day BETWEEN '2025-01-01' AND '2025-01-31';
SELECT count(*) FILTER (WHERE get_byte(user_pack, 4) & 1 = 0) AS packs_without_bounds,
       count(*) FILTER (WHERE user_pack IS NULL) AS no_pack
FROM ducache_rollup_days WHERE day BETWEEN '2025-01-01' AND '2025-01-31';
-- The same document (the days', and the bounded packs'), and no pack decoded.
SELECT pg_temp.doc('2025-01-21', '2025-01-29', true, true) = pg_temp.doc('2025-01-21', '2025-01-29', true, false)
           AS boundless_eq_days,
       pg_temp.doc('2025-01-21', '2025-01-29', true, true) = :'bounded_doc' AS boundless_eq_bounded,
       pg_temp.decodes_of('2025-01-21', '2025-01-29') AS decodes_without_bounds;
-- Only the range's last projection without bounds (the others restored): the same document;
-- the packs met before it are decoded, it is not.
UPDATE ducache_rollup_days SET user_pack = ducache_user_pack(user_totals)
WHERE day BETWEEN '2025-01-01' AND '2025-01-31' AND day <> '2025-01-29';
SELECT pg_temp.doc('2025-01-21', '2025-01-29', true, true) = :'bounded_doc' AS one_boundless_eq_bounded,
       pg_temp.decodes_of('2025-01-21', '2025-01-29') AS decodes_before_the_boundless_pack;
UPDATE ducache_rollup_days SET user_pack = ducache_user_pack(user_totals) WHERE day = '2025-01-29';
SELECT pg_temp.doc('2025-01-21', '2025-01-29', true, true) = :'bounded_doc' AS restored_bounded_eq,
       pg_temp.decodes_of('2025-01-21', '2025-01-29') AS decodes_restored;

DELETE FROM daily_usage_cache;
TRUNCATE ducache_rollups, ducache_rollup_blocks, ducache_rollup_changes, ducache_rollup_days;
