-- ducache install script, part 3b: the day-block rollups nested in the months (CONTRACT §7;
-- docs/rollups.md, "Day blocks").
--
-- A month is cut into aligned blocks of days: 1-8, 9-16, 17-24 and 25 to its end. A block's
-- rollup is a month rollup of those days only (the same documents, the day masks still count
-- the month's days: bit d-1 = day d), built and freed by the month's refresh under the month's
-- lock, and read for the whole blocks of a range that no fresh month rollup covers. A change
-- to a day invalidates its month and its block (ducache_rollup_changes.block); the other
-- blocks of the month stay usable. Derived data, like ducache_rollups.

-- The first day of a date's block (NULL for ±infinity), computed on the date itself like
-- ducache_month_of(). The first month PostgreSQL has (from 4714-11-24 BC) is one block.
CREATE FUNCTION @extschema@.ducache_block_of(d date) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE WHEN NOT pg_catalog.isfinite(d) THEN NULL
                WHEN d OPERATOR(pg_catalog.<) '4714-12-01 BC'::pg_catalog.date THEN '4714-11-24 BC'::pg_catalog.date
                WHEN EXTRACT(day FROM d)::pg_catalog.int4 OPERATOR(pg_catalog.>=) 25
                    THEN d OPERATOR(pg_catalog.-) (EXTRACT(day FROM d)::pg_catalog.int4 OPERATOR(pg_catalog.-) 25)
                ELSE d OPERATOR(pg_catalog.-) ((EXTRACT(day FROM d)::pg_catalog.int4 OPERATOR(pg_catalog.-) 1)
                                               OPERATOR(pg_catalog.%) 8)
           END
$$;
COMMENT ON FUNCTION @extschema@.ducache_block_of(date) IS
    'First day of the day block (1-8, 9-16, 17-24, 25-end of the month) of a date (NULL for ±infinity).';

-- One row per block that a refresh built (or found incomplete). Rows live and die with their
-- month's ducache_rollups row, and are written only by the refresh that holds that row's lock,
-- which keeps one row per block. No index: a few rows a month, read by a scan (and the schema's
-- index set stays what the install tests know).
CREATE TABLE @extschema@.ducache_rollup_blocks (
    block                   date        NOT NULL
                                        CHECK (block OPERATOR(pg_catalog.=) @extschema@.ducache_block_of(block)),
    month                   date        NOT NULL REFERENCES @extschema@.ducache_rollups (month) ON DELETE CASCADE,
    last_day                date        NOT NULL,
    built                   boolean     NOT NULL DEFAULT false,
    -- bit d-1 set: day d of the month was cached (days of this block only)
    days                    integer     NOT NULL DEFAULT 0,
    -- as ducache_rollups, over the block's days
    aggregated_by_user      jsonb,
    aggregated_by_model     jsonb,
    aggregated_by_provider  jsonb,
    providers_derived       jsonb,
    models_unprovided       jsonb,
    daily                   jsonb,
    refreshed_at            timestamptz,
    user_totals             jsonb,
    model_totals            jsonb,
    key_totals              jsonb,
    user_pack               bytea,
    CHECK (month OPERATOR(pg_catalog.=) @extschema@.ducache_month_of(block)),
    CHECK (last_day OPERATOR(pg_catalog.>=) block)
);
DO $compression$
BEGIN
    ALTER TABLE @extschema@.ducache_rollup_blocks
        ALTER COLUMN aggregated_by_user SET COMPRESSION lz4, ALTER COLUMN aggregated_by_model SET COMPRESSION lz4,
        ALTER COLUMN aggregated_by_provider SET COMPRESSION lz4, ALTER COLUMN providers_derived SET COMPRESSION lz4,
        ALTER COLUMN models_unprovided SET COMPRESSION lz4, ALTER COLUMN daily SET COMPRESSION lz4,
        ALTER COLUMN user_totals SET COMPRESSION lz4, ALTER COLUMN model_totals SET COMPRESSION lz4,
        ALTER COLUMN key_totals SET COMPRESSION lz4, ALTER COLUMN user_pack SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;   -- a server built without lz4: the default compression
END
$compression$;
COMMENT ON TABLE @extschema@.ducache_rollup_blocks IS
    'ducache day-block rollups of daily_usage_cache (days 1-8, 9-16, 17-24, 25-end of a month; derived data).';

REVOKE ALL ON TABLE @extschema@.ducache_rollup_blocks FROM PUBLIC;
