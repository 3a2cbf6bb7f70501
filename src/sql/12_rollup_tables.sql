-- ducache install script, part 3: the month rollups' tables (CONTRACT §7; docs/rollups.md).
--
-- Rollups are derived data: members of the extension (DROP EXTENSION drops them, and
-- daily_usage_cache is never touched), rebuilt by ducache_refresh_rollups(). Nobody but the
-- extension's owner reads or writes them directly: the read functions read them on the
-- caller's behalf only when the caller may read every row of daily_usage_cache (table-level
-- SELECT, no row-level security in force), and the change triggers write through a
-- SECURITY DEFINER function.

-- The first day of a date's month, computed on the date itself: date_trunc() goes through
-- timestamp, whose range is narrower than date's (a valid day row in year 294277 would make
-- every write fail). The first month PostgreSQL has starts on 4714-11-24 BC; ±infinity has none.
CREATE FUNCTION @extschema@.ducache_month_of(d date) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE WHEN NOT pg_catalog.isfinite(d) THEN NULL
                WHEN d OPERATOR(pg_catalog.<) '4714-12-01 BC'::pg_catalog.date THEN '4714-11-24 BC'::pg_catalog.date
                ELSE d OPERATOR(pg_catalog.-) (EXTRACT(day FROM d)::pg_catalog.int4 OPERATOR(pg_catalog.-) 1)
           END
$$;
COMMENT ON FUNCTION @extschema@.ducache_month_of(date) IS
    'First day of the month of a date (NULL for ±infinity), without going through timestamp.';

-- One row per month that ducache has built (or is building) a rollup for. A row with
-- built = false holds no rollup: it exists so refreshes of a month can lock it.
CREATE TABLE @extschema@.ducache_rollups (
    month                   date        PRIMARY KEY
                                        CHECK (month OPERATOR(pg_catalog.=) @extschema@.ducache_month_of(month)),
    built                   boolean     NOT NULL DEFAULT false,
    -- bit d-1 set: day d of the month was cached (and is summed below)
    days                    integer     NOT NULL DEFAULT 0,
    -- the month's sums in daily_usage_cache's own shape, every entry with its day mask
    aggregated_by_user      jsonb,
    aggregated_by_model     jsonb,
    aggregated_by_provider  jsonb,
    -- what readers derive per day from aggregated_by_model where a day's
    -- aggregated_by_provider is {} or NULL (CONTRACT §5.3), summed over those days
    providers_derived       jsonb,
    models_unprovided       jsonb,
    -- per-day summaries for the daily series (trend, dashboard)
    daily                   jsonb,
    refreshed_at            timestamptz,
    -- derived from the documents above by a trigger on every write of the row (part 56,
    -- src/pg/rollup_derived.cpp): aggregated_by_user without the users' "models",
    -- aggregated_by_model without the models' "users" and "~named", the key cells summed per user and alias
    user_totals             jsonb,
    model_totals            jsonb,
    key_totals              jsonb,
    -- the users of user_totals packed for the dashboard (core/user_pack.hpp), derived from
    -- user_totals by the same trigger; NULL when a value does not fit exactly
    user_pack               bytea
);
-- lz4 like the cache table's documents (a refresh spent 12 % of its time in pglz).
DO $compression$
BEGIN
    ALTER TABLE @extschema@.ducache_rollups
        ALTER COLUMN aggregated_by_user SET COMPRESSION lz4, ALTER COLUMN aggregated_by_model SET COMPRESSION lz4,
        ALTER COLUMN aggregated_by_provider SET COMPRESSION lz4, ALTER COLUMN providers_derived SET COMPRESSION lz4,
        ALTER COLUMN models_unprovided SET COMPRESSION lz4, ALTER COLUMN daily SET COMPRESSION lz4,
        ALTER COLUMN user_totals SET COMPRESSION lz4, ALTER COLUMN model_totals SET COMPRESSION lz4,
        ALTER COLUMN key_totals SET COMPRESSION lz4, ALTER COLUMN user_pack SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;   -- a server built without lz4: the default compression
END
$compression$;
COMMENT ON TABLE @extschema@.ducache_rollups IS
    'ducache month rollups of daily_usage_cache (derived data; used only while no change to the month is logged).';

-- Every change to a day row logs its month here (statement triggers on daily_usage_cache).
-- A rollup is used only while no row for its month is visible: writers never wait for or
-- lock anything here (they only append), and a refresh deletes exactly the rows it saw.
CREATE TABLE @extschema@.ducache_rollup_changes (
    month       date        NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    -- the day block of the month changed (ducache_block_of; 0.4.0): NULL = the whole month
    -- (TRUNCATE, the 0.3.0 -> 0.4.0 update, a row logged by hand), every block of it stale
    block       date
);
CREATE INDEX ducache_rollup_changes_month ON @extschema@.ducache_rollup_changes (month);
COMMENT ON TABLE @extschema@.ducache_rollup_changes IS
    'Months of daily_usage_cache changed since their rollup was built (appended by triggers, cleared by refreshes).';

REVOKE ALL ON TABLE @extschema@.ducache_rollups, @extschema@.ducache_rollup_changes FROM PUBLIC;
