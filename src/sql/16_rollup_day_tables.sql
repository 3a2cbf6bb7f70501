-- ducache install script, part 3c: the day projections (docs/rollups.md, "Day projections").
--
-- A range that does not start and end on block boundaries leaves up to 7 days at each end
-- that no month or block rollup covers. For ducache_dashboard (unfiltered) those days are read
-- from the small projections of a one-day rollup instead of the day row's whole documents:
-- user_totals, model_totals, key_totals (as the month and block rows' derived columns) and the
-- small documents (aggregated_by_provider, models_unprovided, daily). No aggregated_by_user or
-- aggregated_by_model: the day row holds those. Built and freed by the month's refresh under
-- the month's lock; a day is fresh for a snapshot when built and no change row of its month
-- names it, names its block without a day, or names no block. Derived data, like ducache_rollups.

-- 0.4.0: the one day a change row's statement touched in its block (NULL: several days, or a
-- row that names no block: the whole block, or month, is stale). Added here, after the table's
-- part, so a new install and the update from 0.3.0 both get it (the column comes last in both).
ALTER TABLE @extschema@.ducache_rollup_changes ADD COLUMN day date;

-- One row per day that a refresh built (or found incomplete), written only by the refresh that
-- holds the lock of its month's ducache_rollups row. No foreign key to that row (a TRUNCATE of
-- ducache_rollups alone must keep working): a reader uses a projection only while its month's
-- row exists, and a refresh deletes the projections of days that have no day row (of a month
-- with no days left: all of them). No index (a scan of small rows; the schema's index set stays
-- what the install tests know).
CREATE TABLE @extschema@.ducache_rollup_days (
    day                     date        NOT NULL,
    month                   date        NOT NULL,
    built                   boolean     NOT NULL DEFAULT false,
    -- bit d-1 set: day d of the month (this day) was cached
    days                    integer     NOT NULL DEFAULT 0,
    -- as ducache_rollups' columns of the same names, over this one day
    aggregated_by_provider  jsonb,
    models_unprovided       jsonb,
    daily                   jsonb,
    user_totals             jsonb,
    model_totals            jsonb,
    key_totals              jsonb,
    user_pack               bytea,
    refreshed_at            timestamptz,
    CHECK (month OPERATOR(pg_catalog.=) @extschema@.ducache_month_of(day))
);
DO $compression$
BEGIN
    ALTER TABLE @extschema@.ducache_rollup_days
        ALTER COLUMN aggregated_by_provider SET COMPRESSION lz4, ALTER COLUMN models_unprovided SET COMPRESSION lz4,
        ALTER COLUMN daily SET COMPRESSION lz4, ALTER COLUMN user_totals SET COMPRESSION lz4,
        ALTER COLUMN model_totals SET COMPRESSION lz4, ALTER COLUMN key_totals SET COMPRESSION lz4,
        ALTER COLUMN user_pack SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;   -- a server built without lz4: the default compression
END
$compression$;
COMMENT ON TABLE @extschema@.ducache_rollup_days IS
    'ducache day projections of daily_usage_cache (the dashboard''s small columns of one day; derived data).';

REVOKE ALL ON TABLE @extschema@.ducache_rollup_days FROM PUBLIC;
