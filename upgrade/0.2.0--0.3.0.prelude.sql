-- ducache upgrade 0.2.0 -> 0.3.0, part 0 (the Makefile appends, after this file, every install
-- part but the ones 0.2.0 already ran once: src/sql/00_table.sql and 10_indexes.sql; see the
-- Makefile, "Upgrades").
--
-- 0.3.0 adds the month rollups (CONTRACT §6-§7): their tables (part 12_rollup_tables, new in
-- this step and run only here: a later step must leave it out) and the triggers that log every
-- change to daily_usage_cache (part 50_rollup_triggers). The rollup tables start empty: no
-- month has a rollup until ducache_refresh_rollups() (or a ducache write) builds it, and the
-- read functions read the days meanwhile.
--
-- What changes its arguments or result columns in 0.3.0 is dropped here first: CREATE OR
-- REPLACE cannot change either, and an old overload left beside a new one with defaults would
-- make the old calls ambiguous. A view or function of yours that depends on a dropped function
-- stops the upgrade with an ERROR and nothing changes (the update is one transaction).
-- daily_usage_cache, its rows and its indexes are never touched here; the triggers are added
-- to it (they only append to ducache_rollup_changes).
\echo Use "ALTER EXTENSION ducache UPDATE TO '0.3.0'" to load this file. \quit

-- (No 0.2.0 function changes its arguments or result columns yet: add
-- `DROP FUNCTION IF EXISTS @extschema@.name(old argument types);` lines here when one does.)
