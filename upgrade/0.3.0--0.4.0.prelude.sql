-- ducache upgrade 0.3.0 -> 0.4.0, part 0 (the Makefile appends, after this file, every install
-- part but the once parts 0.3.0 already ran: src/sql/00_table.sql, 10_indexes.sql and
-- 12_rollup_tables.sql; see the Makefile, "Upgrades").
--
-- What changes its arguments or result columns in 0.4.0 is dropped here first: CREATE OR
-- REPLACE cannot change either, and an old overload left beside a new one with defaults would
-- make the old calls ambiguous. A view or function of yours that depends on a dropped function
-- stops the upgrade with an ERROR and nothing changes (the update is one transaction).
-- A change to a table 0.3.0 created (ducache_rollups, ducache_rollup_changes) is an ALTER TABLE
-- here. daily_usage_cache, its rows and its indexes are never touched.
\echo Use "ALTER EXTENSION ducache UPDATE TO '0.4.0'" to load this file. \quit

-- (Add `DROP FUNCTION IF EXISTS @extschema@.name(old argument types);` lines here when a 0.3.0
-- function changes its arguments or result columns.)

-- 0.4.0's rollups keep more than 0.3.0's (the identity facts ducache_dashboard and
-- ducache_filter_options read, core/rollup_identity.hpp): every rollup 0.3.0 built is marked
-- changed, so no reader uses it until ducache_refresh_rollups() (or a writer) rebuilds it.
-- Rollups are derived data; daily_usage_cache is not touched.
INSERT INTO @extschema@.ducache_rollup_changes (month) SELECT month FROM @extschema@.ducache_rollups;

-- 0.4.0 logs the day block of the month a change touched (ducache_rollup_blocks, part 13): a
-- write leaves the month's other blocks usable. Rows without one (NULL) make the whole month
-- stale, blocks included, as the rows above do.
ALTER TABLE @extschema@.ducache_rollup_changes ADD COLUMN block date;

-- 0.4.0's rollups keep three columns derived from their documents by a trigger on every write
-- of a rollup row (part 56): user_totals, model_totals, key_totals. The rows 0.3.0 built are
-- marked changed above, so their refresh fills them before any reader uses them.
ALTER TABLE @extschema@.ducache_rollups ADD COLUMN user_totals jsonb, ADD COLUMN model_totals jsonb,
    ADD COLUMN key_totals jsonb;
DO $compression$
BEGIN
    ALTER TABLE @extschema@.ducache_rollups ALTER COLUMN user_totals SET COMPRESSION lz4,
        ALTER COLUMN model_totals SET COMPRESSION lz4, ALTER COLUMN key_totals SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;   -- a server built without lz4: the default compression
END
$compression$;

-- 0.4.0's rollups also keep user_pack (part 56, core/user_pack.hpp): user_totals' users packed
-- for the dashboard, derived by the same trigger. NULL until the row is written again (the rows
-- 0.3.0 built are marked changed above: their refresh fills it); a call that meets a rollup
-- row without one reads user_totals, as before.
ALTER TABLE @extschema@.ducache_rollups ADD COLUMN user_pack bytea;
DO $compression$
BEGIN
    ALTER TABLE @extschema@.ducache_rollups ALTER COLUMN user_pack SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;   -- a server built without lz4: the default compression
END
$compression$;
