-- ducache install script, part 1: the cache table.
--
-- What CREATE EXTENSION ducache does to your database:
--   * If @extschema@.daily_usage_cache does not exist, it creates it (part 1) and then hands
--     it over to you: the table is NOT a member of the extension, so DROP EXTENSION ducache
--     never drops it or its rows.
--   * If the table exists (e.g. the LiteMaaS application made it, with updated_at instead of
--     cached_at), it is adopted as it is: no column is added, no row is touched.
--   * It creates the five ducache indexes that are missing (part 2) and the functions.
-- Every object is schema-qualified, and functions are called through pg_catalog, so a hostile
-- search_path cannot redirect anything this script does.

\echo Use "CREATE EXTENSION ducache" to load this file. \quit

DO $install_table$
DECLARE
    -- lz4 decompresses these multi-megabyte JSONB values ~3x faster than pglz (the default),
    -- for ~8 % more space: docs/benchmarks.md measures it. Servers built without lz4 fall
    -- back to the default.
    columns text := $columns$
            date                   date        PRIMARY KEY,
            raw_data               jsonb       COMPRESSION_CLAUSE NOT NULL DEFAULT '{}'::jsonb,
            aggregated_by_user     jsonb       COMPRESSION_CLAUSE,
            aggregated_by_model    jsonb       COMPRESSION_CLAUSE,
            aggregated_by_provider jsonb       COMPRESSION_CLAUSE,
            total_metrics          jsonb,
            cached_at              timestamptz NOT NULL DEFAULT pg_catalog.now(),
            is_complete            boolean     NOT NULL DEFAULT true $columns$;
BEGIN
    IF pg_catalog.to_regclass('@extschema@.daily_usage_cache') IS NULL THEN
        BEGIN
            EXECUTE pg_catalog.format('CREATE TABLE @extschema@.daily_usage_cache (%s)',
                                      pg_catalog.replace(columns, 'COMPRESSION_CLAUSE', 'COMPRESSION lz4'));
        EXCEPTION WHEN feature_not_supported THEN
            EXECUTE pg_catalog.format('CREATE TABLE @extschema@.daily_usage_cache (%s)',
                                      pg_catalog.replace(columns, 'COMPRESSION_CLAUSE', ''));
        END;
        COMMENT ON TABLE @extschema@.daily_usage_cache IS
            'One row per day of LLM-gateway usage; JSONB breakdowns keyed by user, model and provider.';
        -- Release the table from the extension: cache rows outlive DROP EXTENSION.
        ALTER EXTENSION ducache DROP TABLE @extschema@.daily_usage_cache;
    END IF;
END
$install_table$;

-- Which column holds the write timestamp: cached_at (ducache's table) or updated_at (LiteMaaS).
-- Writers and the freshness index use it; anything else cannot be adopted.
CREATE FUNCTION @extschema@.ducache_timestamp_column() RETURNS name
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.attname
    FROM pg_catalog.pg_attribute AS a
    WHERE a.attrelid = '@extschema@.daily_usage_cache'::pg_catalog.regclass
      AND a.attname OPERATOR(pg_catalog.=) ANY (ARRAY['cached_at', 'updated_at']::pg_catalog.name[])
      AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
    ORDER BY a.attname OPERATOR(pg_catalog.<>) 'cached_at'   -- cached_at first
    LIMIT 1
$$;
COMMENT ON FUNCTION @extschema@.ducache_timestamp_column() IS
    'The write-timestamp column of daily_usage_cache: cached_at, or updated_at on an adopted LiteMaaS table.';

-- An adopted table must have the columns ducache reads and writes.
DO $check_columns$
DECLARE
    missing text;
BEGIN
    SELECT pg_catalog.string_agg(want.col, ', ' ORDER BY want.ord) INTO missing
    FROM pg_catalog.unnest(ARRAY['date', 'raw_data', 'aggregated_by_user', 'aggregated_by_model',
                                 'aggregated_by_provider', 'total_metrics', 'is_complete'])
         WITH ORDINALITY AS want(col, ord)
    WHERE NOT EXISTS (
        SELECT FROM pg_catalog.pg_attribute AS a
        WHERE a.attrelid = '@extschema@.daily_usage_cache'::pg_catalog.regclass
          AND a.attname OPERATOR(pg_catalog.=) want.col::pg_catalog.name
          AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped);
    IF missing IS NOT NULL OR @extschema@.ducache_timestamp_column() IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_table_definition',
            MESSAGE = 'daily_usage_cache cannot be adopted by ducache',
            DETAIL  = pg_catalog.format('Missing column(s): %s.',
                          pg_catalog.concat_ws(', ', missing,
                              CASE WHEN @extschema@.ducache_timestamp_column() IS NULL
                                   THEN 'cached_at or updated_at' END));
    END IF;
END
$check_columns$;
