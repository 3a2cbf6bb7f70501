-- CREATE EXTENSION over a table the LiteMaaS application already made (its own DDL, with
-- updated_at and no cached_at, its own three indexes, rows in it): adopted as it is.
SELECT current_database() AS regress_db \gset
DROP DATABASE IF EXISTS ducache_install_adopt;
CREATE DATABASE ducache_install_adopt;
\c ducache_install_adopt
-- The application's schema, as its migration creates it.
CREATE TABLE daily_usage_cache (
    date DATE PRIMARY KEY,
    raw_data JSONB NOT NULL,
    aggregated_by_user JSONB,
    aggregated_by_model JSONB,
    aggregated_by_provider JSONB,
    total_metrics JSONB,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    is_complete BOOLEAN DEFAULT true
);
CREATE INDEX idx_daily_cache_date ON daily_usage_cache(date DESC);
CREATE INDEX idx_daily_cache_complete ON daily_usage_cache(is_complete);
CREATE INDEX idx_daily_cache_updated_at ON daily_usage_cache(updated_at) WHERE is_complete = false;
INSERT INTO daily_usage_cache
SELECT d::date, jsonb_build_object('date', d::date),
       jsonb_build_object('user-' || (extract(doy FROM d)::int % 7),
                          jsonb_build_object('metrics', jsonb_build_object('api_requests', 3, 'spend', 0.125))),
       '{}', '{}', jsonb_build_object('api_requests', 3), timestamptz '2025-06-01 12:00+00',
       d::date < date '2025-03-01'
FROM generate_series(date '2025-01-01', date '2025-03-05', interval '1 day') AS d;
SELECT md5(string_agg(t::text, '|' ORDER BY date)) AS checksum_before, count(*) AS n
FROM daily_usage_cache AS t \gset
SELECT :n AS rows_before;

CREATE FUNCTION pg_temp.error_of(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ': ' || msg || E'\nDETAIL: ' || det;
END $$;
-- Refusals first, while no ducache object exists: each leaves nothing behind.
-- A table missing columns ducache needs is refused.
ALTER TABLE daily_usage_cache RENAME COLUMN updated_at TO touched_at;
SELECT pg_temp.error_of('CREATE EXTENSION ducache');
ALTER TABLE daily_usage_cache RENAME COLUMN touched_at TO updated_at;
SELECT count(*) AS ducache_indexes FROM pg_indexes WHERE indexname LIKE 'idx_daily_usage_cache_%';

-- An index of a ducache name with another definition: the ERROR shows both definitions.
CREATE INDEX idx_daily_usage_cache_user_jsonb ON daily_usage_cache USING gin (aggregated_by_user jsonb_path_ops);
SELECT pg_temp.error_of('CREATE EXTENSION ducache');
SELECT count(*) AS ducache_indexes FROM pg_indexes WHERE indexname LIKE 'idx_daily_usage_cache_%';
DROP INDEX idx_daily_usage_cache_user_jsonb;

-- A pre-planted function with a ducache name makes CREATE EXTENSION fail cleanly.
CREATE FUNCTION ducache_timestamp_column() RETURNS name LANGUAGE sql AS $$ SELECT 'planted'::name $$;
SELECT pg_temp.error_of('CREATE EXTENSION ducache');
SELECT ducache_timestamp_column() AS planted_function_untouched,
       (SELECT count(*) FROM pg_extension WHERE extname = 'ducache') AS extension_rows,
       (SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'idx_daily_usage_cache_%') AS ducache_indexes;
DROP FUNCTION ducache_timestamp_column();

-- An index left INVALID by an interrupted CREATE INDEX CONCURRENTLY is rebuilt.
CREATE INDEX idx_daily_usage_cache_date ON daily_usage_cache (date);
UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'idx_daily_usage_cache_date'::regclass;

CREATE EXTENSION ducache;

-- No row changed, no column added; the freshness index uses updated_at.
SELECT md5(string_agg(t::text, '|' ORDER BY date)) = :'checksum_before' AS rows_unchanged
FROM daily_usage_cache AS t;
SELECT string_agg(attname, ', ' ORDER BY attnum) AS columns FROM pg_attribute
WHERE attrelid = 'daily_usage_cache'::regclass AND attnum > 0 AND NOT attisdropped;
SELECT ducache_timestamp_column();
SELECT indexname, indexdef FROM pg_indexes
WHERE tablename = 'daily_usage_cache' ORDER BY indexname;
SELECT bool_and(indisvalid) AS all_indexes_valid FROM pg_index
WHERE indrelid = 'daily_usage_cache'::regclass;

-- DROP EXTENSION keeps the application's table and rows.
DROP EXTENSION ducache;
SELECT md5(string_agg(t::text, '|' ORDER BY date)) = :'checksum_before' AS rows_kept
FROM daily_usage_cache AS t;

\c :regress_db
DROP DATABASE ducache_install_adopt;
