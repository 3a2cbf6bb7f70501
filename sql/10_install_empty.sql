-- CREATE EXTENSION on a database without daily_usage_cache: the table as the contract says,
-- exactly the five indexes, and a table that DROP EXTENSION leaves alone.
SELECT current_database() AS regress_db \gset
DROP DATABASE IF EXISTS ducache_install_empty;
CREATE DATABASE ducache_install_empty;
\c ducache_install_empty
CREATE EXTENSION ducache;

SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull AS not_null,
       pg_get_expr(d.adbin, d.adrelid) AS default_value, attcompression AS compression
FROM pg_attribute AS a
LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = 'public.daily_usage_cache'::regclass AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum;

SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid = 'public.daily_usage_cache'::regclass ORDER BY conname;

SELECT indexname, indexdef FROM pg_indexes
WHERE schemaname = 'public' AND tablename = 'daily_usage_cache' ORDER BY indexname;

-- The table is not an extension member (so DROP EXTENSION cannot take it along).
SELECT count(*) AS table_is_member FROM pg_depend
WHERE classid = 'pg_class'::regclass AND objid = 'public.daily_usage_cache'::regclass
  AND refclassid = 'pg_extension'::regclass AND deptype = 'e';

-- Defaults do their job: cached_at is set, is_complete defaults to true, raw_data to {}.
INSERT INTO daily_usage_cache (date, aggregated_by_user)
SELECT d::date, jsonb_build_object('u' || extract(day FROM d), jsonb_build_object('totalRequests', 1))
FROM generate_series(date '2025-01-01', date '2025-01-31', interval '1 day') AS d;
SELECT count(*) AS rows, bool_and(is_complete) AS complete, bool_and(raw_data = '{}') AS raw_empty,
       bool_and(cached_at IS NOT NULL) AS stamped
FROM daily_usage_cache;
SELECT md5(string_agg(t::text, '|' ORDER BY date)) AS checksum_before FROM daily_usage_cache AS t \gset

-- DROP EXTENSION keeps the table, its rows and its indexes; CREATE EXTENSION again adopts it.
DROP EXTENSION ducache;
SELECT md5(string_agg(t::text, '|' ORDER BY date)) = :'checksum_before' AS rows_kept
FROM daily_usage_cache AS t;
SELECT count(*) AS indexes_kept FROM pg_indexes WHERE tablename = 'daily_usage_cache';
CREATE EXTENSION ducache;
SELECT md5(string_agg(t::text, '|' ORDER BY date)) = :'checksum_before' AS rows_kept_after_recreate
FROM daily_usage_cache AS t;
SELECT count(*) FILTER (WHERE indexname LIKE 'idx_daily_usage_cache_%') AS ducache_indexes,
       count(*) AS all_indexes
FROM pg_indexes WHERE tablename = 'daily_usage_cache';

-- Installing into another schema puts the table there.
DROP EXTENSION ducache;
CREATE SCHEMA usage;
CREATE EXTENSION ducache SCHEMA usage;
SELECT to_regclass('usage.daily_usage_cache') IS NOT NULL AS table_in_usage,
       (SELECT count(*) FROM pg_indexes WHERE schemaname = 'usage') AS indexes_in_usage;
DROP EXTENSION ducache;

\c :regress_db
DROP DATABASE ducache_install_empty;
