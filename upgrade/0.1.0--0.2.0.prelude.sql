-- ducache upgrade 0.1.0 -> 0.2.0, part 0 (the Makefile appends every re-runnable install part,
-- src/sql/05_* and 20_* onwards, after this file).
--
-- What changes its arguments or result columns in 0.2.0 is dropped here first: CREATE OR
-- REPLACE cannot change either, and an old overload left beside a new one with defaults would
-- make the old calls ambiguous. A view or function of yours that depends on a dropped function
-- stops the upgrade with an ERROR and nothing changes (the update is one transaction).
-- daily_usage_cache, its rows and its indexes are never touched here.
\echo Use "ALTER EXTENSION ducache UPDATE TO '0.2.0'" to load this file. \quit

-- ducache_batch_upsert gains touch_unchanged (§9).
DROP FUNCTION IF EXISTS @extschema@.ducache_batch_upsert(date[], jsonb[], jsonb[], jsonb[], jsonb[], jsonb[], boolean[]);

-- ducache_rebuild: result column `action` appended (CONTRACT §9).
DROP FUNCTION IF EXISTS @extschema@.ducache_rebuild(date, date);

-- Filters (three text[] arguments) and appended result columns (CONTRACT §5.2, §5.3).
DROP FUNCTION IF EXISTS @extschema@.ducache_analytics(date, date);
DROP FUNCTION IF EXISTS @extschema@.ducache_period_summary(date, date, boolean);
DROP FUNCTION IF EXISTS @extschema@.ducache_user_breakdown(date, date);
DROP FUNCTION IF EXISTS @extschema@.ducache_model_breakdown(date, date);
DROP FUNCTION IF EXISTS @extschema@.ducache_provider_breakdown(date, date);
DROP FUNCTION IF EXISTS @extschema@.ducache_daily_trend(date, date);
