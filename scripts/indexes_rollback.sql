-- Rolls back ducache's indexes on a live daily_usage_cache without blocking writes.
--
--   psql -v ON_ERROR_STOP=1 [-v schema=public] -f scripts/indexes_rollback.sql
--
-- Drops the five idx_daily_usage_cache_* indexes with DROP INDEX CONCURRENTLY (autocommit
-- psql only). Rows, the primary key and the application's own indexes are not touched.
-- Safe to re-run. If the extension is still installed, CREATE EXTENSION's index check no
-- longer matters (it only runs at install); DROP EXTENSION ducache first if you are removing it.
\set ON_ERROR_STOP 1
\if :{?schema}
\else
\set schema public
\endif
SET lock_timeout = '5s';
SET client_min_messages = warning;

SELECT pg_catalog.format('DROP INDEX CONCURRENTLY IF EXISTS %I.%I', :'schema', name)
FROM pg_catalog.unnest(ARRAY['idx_daily_usage_cache_date_cached_at',
                             'idx_daily_usage_cache_provider_jsonb',
                             'idx_daily_usage_cache_model_jsonb',
                             'idx_daily_usage_cache_user_jsonb',
                             'idx_daily_usage_cache_date']) AS name \gexec

SELECT pg_catalog.count(*) AS ducache_indexes_left
FROM pg_catalog.pg_indexes
WHERE schemaname = :'schema' AND tablename = 'daily_usage_cache'
  AND indexname LIKE 'idx\_daily\_usage\_cache\_%';
