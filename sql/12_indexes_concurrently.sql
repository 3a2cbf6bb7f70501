-- The production path: build the five indexes CONCURRENTLY on a live table that already
-- holds rows, then CREATE EXTENSION keeps them; roll back; both scripts twice.
SELECT current_database() AS regress_db \gset
DROP DATABASE IF EXISTS ducache_concurrently;
CREATE DATABASE ducache_concurrently;
\c ducache_concurrently
CREATE TABLE daily_usage_cache (
    date DATE PRIMARY KEY, raw_data JSONB NOT NULL, aggregated_by_user JSONB,
    aggregated_by_model JSONB, aggregated_by_provider JSONB, total_metrics JSONB,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP, is_complete BOOLEAN DEFAULT true);
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user)
SELECT d::date, '{}', jsonb_build_object('u1', jsonb_build_object('totalRequests', 1))
FROM generate_series(date '2025-01-01', date '2025-02-28', interval '1 day') AS d;
SELECT md5(string_agg(t::text, '|' ORDER BY date)) AS checksum FROM daily_usage_cache AS t \gset

\i scripts/indexes_concurrently.sql
\i scripts/indexes_concurrently.sql

-- An interrupted build leaves an INVALID index; re-running the script repairs it.
UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'idx_daily_usage_cache_model_jsonb'::regclass;
\i scripts/indexes_concurrently.sql

CREATE EXTENSION ducache;   -- finds all five with the right definitions and keeps them
SELECT count(*) AS ducache_indexes FROM pg_indexes WHERE indexname LIKE 'idx_daily_usage_cache_%';
DROP EXTENSION ducache;

\i scripts/indexes_rollback.sql
\i scripts/indexes_rollback.sql
SELECT indexname FROM pg_indexes WHERE tablename = 'daily_usage_cache' ORDER BY indexname;
SELECT md5(string_agg(t::text, '|' ORDER BY date)) = :'checksum' AS rows_unchanged FROM daily_usage_cache AS t;

\c :regress_db
DROP DATABASE ducache_concurrently;
