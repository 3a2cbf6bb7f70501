-- Builds ducache's five indexes on a live daily_usage_cache without blocking writes.
--
--   psql -v ON_ERROR_STOP=1 [-v schema=public] -f scripts/indexes_concurrently.sql
--
-- Run it with psql in autocommit mode (CREATE INDEX CONCURRENTLY cannot run inside a
-- transaction block, which is also why CREATE EXTENSION cannot do this itself). Run it
-- BEFORE CREATE EXTENSION ducache: the extension then finds the indexes and keeps them.
-- Safe to re-run: a valid index is kept; an index left INVALID by an interrupted or cancelled
-- build is dropped (concurrently) and built again.
\set ON_ERROR_STOP 1
\if :{?schema}
\else
\set schema public
\endif
SET lock_timeout = '5s';        -- never queue behind a long transaction holding the table
SET maintenance_work_mem = '256MB';
SET client_min_messages = warning;  -- no 'already exists, skipping' noise on re-runs

-- Which timestamp column the freshness index uses: cached_at, or updated_at (LiteMaaS).
SELECT CASE WHEN EXISTS (SELECT FROM pg_catalog.pg_attribute
                         WHERE attrelid = pg_catalog.format('%I.daily_usage_cache', :'schema')::pg_catalog.regclass
                           AND attname = 'cached_at' AND NOT attisdropped)
            THEN 'cached_at' ELSE 'updated_at' END AS ts_column \gset

-- One row per index: the DROP for an invalid leftover and the CREATE.
CREATE TEMP TABLE ducache_index_plan AS
SELECT want.n,
       pg_catalog.format('DROP INDEX CONCURRENTLY IF EXISTS %I.%I', :'schema', want.name) AS drop_stmt,
       pg_catalog.format('CREATE INDEX CONCURRENTLY IF NOT EXISTS %I ON %I.daily_usage_cache USING %s (%s)',
                         want.name, :'schema', want.method, want.columns) AS create_stmt,
       i.indisvalid IS FALSE AS needs_drop
FROM (VALUES (1, 'idx_daily_usage_cache_date',           'btree', 'date'),
             (2, 'idx_daily_usage_cache_user_jsonb',     'gin',   'aggregated_by_user'),
             (3, 'idx_daily_usage_cache_model_jsonb',    'gin',   'aggregated_by_model'),
             (4, 'idx_daily_usage_cache_provider_jsonb', 'gin',   'aggregated_by_provider'),
             (5, 'idx_daily_usage_cache_date_cached_at', 'btree', pg_catalog.format('date, %I', :'ts_column')))
     AS want(n, name, method, columns)
LEFT JOIN pg_catalog.pg_class AS c
       ON c.relname = want.name
      AND c.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = :'schema')
LEFT JOIN pg_catalog.pg_index AS i ON i.indexrelid = c.oid;

-- Each statement runs on its own (\gexec sends them one by one, outside any transaction).
SELECT drop_stmt FROM ducache_index_plan WHERE needs_drop ORDER BY n \gexec
SELECT create_stmt FROM ducache_index_plan ORDER BY n \gexec
DROP TABLE ducache_index_plan;

-- Report: every index present and valid.
SELECT c.relname AS index, i.indisvalid AS valid, pg_catalog.pg_get_indexdef(c.oid) AS definition
FROM pg_catalog.pg_index AS i JOIN pg_catalog.pg_class AS c ON c.oid = i.indexrelid
WHERE i.indrelid = pg_catalog.format('%I.daily_usage_cache', :'schema')::pg_catalog.regclass
  AND c.relname LIKE 'idx\_daily\_usage\_cache\_%'
ORDER BY c.relname;
