-- Hostile tables (issue 16): every column of the wrong type before and after install,
-- non-unique, partitioned and non-table daily_usage_cache, a schema whose name needs quoting.
-- Each is a clean ERROR naming the column, its type and the expected one; nothing crashes
-- (test/shell/zz_no_backend_died.sh checks the server log after the whole suite).
SELECT current_database() AS regress_db \gset
DROP DATABASE IF EXISTS ducache_hostile;
CREATE DATABASE ducache_hostile;
\c ducache_hostile
CREATE FUNCTION pg_temp.error_of(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ': ' || msg || CASE WHEN det <> '' THEN E'\nDETAIL: ' || det ELSE '' END;
END $$;

-- Adoption: the LiteMaaS table with one column's type replaced (or its unique date gone).
-- CREATE EXTENSION fails and leaves nothing behind.
CREATE FUNCTION pg_temp.try_adopt(col text, typ text, extra text DEFAULT 'PRIMARY KEY (date)')
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    cols text[] := ARRAY['date date', 'raw_data jsonb NOT NULL', 'aggregated_by_user jsonb',
                         'aggregated_by_model jsonb', 'aggregated_by_provider jsonb',
                         'total_metrics jsonb', 'updated_at timestamptz', 'is_complete boolean'];
    ddl text;
    outcome text;
BEGIN
    SELECT string_agg(CASE WHEN split_part(c, ' ', 1) = col THEN col || ' ' || typ ELSE c END, ', ')
    INTO ddl FROM unnest(cols) AS c;
    EXECUTE format('CREATE TABLE public.daily_usage_cache (%s%s)', ddl,
                   CASE WHEN extra <> '' THEN ', ' || extra ELSE '' END);
    outcome := pg_temp.error_of('CREATE EXTENSION ducache');
    IF EXISTS (SELECT FROM pg_extension WHERE extname = 'ducache') THEN
        DROP EXTENSION ducache;
        outcome := outcome || ' (extension created)';
    END IF;
    DROP TABLE public.daily_usage_cache CASCADE;
    RETURN outcome;
END $$;
SELECT col, typ, pg_temp.try_adopt(col, typ) AS create_extension
FROM (VALUES ('date', 'timestamp'), ('date', 'text'), ('raw_data', 'json'), ('raw_data', 'bytea'),
             ('raw_data', 'text'), ('aggregated_by_user', 'json'), ('aggregated_by_model', 'text'),
             ('aggregated_by_provider', 'bytea'), ('total_metrics', 'json'), ('is_complete', 'text'),
             ('is_complete', 'integer'), ('updated_at', 'text'), ('updated_at', 'date')) AS t(col, typ);
-- What LiteMaaS and ducache themselves use is adopted: timestamptz, or timestamp without time zone.
SELECT pg_temp.try_adopt('updated_at', 'timestamp') AS timestamp_without_time_zone;
-- The date must be unique through an index ON CONFLICT (date) can use.
SELECT what, pg_temp.try_adopt('date', 'date', extra) AS create_extension
FROM (VALUES ('no unique date', ''), ('primary key on (date, is_complete)', 'PRIMARY KEY (date, is_complete)'),
             ('deferrable unique (date)', 'UNIQUE (date) DEFERRABLE'),
             ('unique (date)', 'UNIQUE (date)')) AS t(what, extra);
CREATE TABLE public.daily_usage_cache (date date NOT NULL, raw_data jsonb NOT NULL, aggregated_by_user jsonb,
    aggregated_by_model jsonb, aggregated_by_provider jsonb, total_metrics jsonb, updated_at timestamptz,
    is_complete boolean);
CREATE UNIQUE INDEX partial_date ON daily_usage_cache (date) WHERE is_complete;
SELECT pg_temp.error_of('CREATE EXTENSION ducache') AS partial_unique_index;
DROP TABLE daily_usage_cache;
-- A partitioned table is refused at adoption (its upserts would all fail with 0A000).
CREATE TABLE public.daily_usage_cache (date date PRIMARY KEY, raw_data jsonb NOT NULL, aggregated_by_user jsonb,
    aggregated_by_model jsonb, aggregated_by_provider jsonb, total_metrics jsonb, updated_at timestamptz,
    is_complete boolean) PARTITION BY RANGE (date);
CREATE TABLE daily_usage_cache_2025 PARTITION OF daily_usage_cache FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
SELECT pg_temp.error_of('CREATE EXTENSION ducache') AS partitioned;
DROP TABLE daily_usage_cache;
-- A view of that name (with every column) is not a table.
CREATE VIEW public.daily_usage_cache AS SELECT current_date AS date, '{}'::jsonb AS raw_data, '{}'::jsonb AS aggregated_by_user,
    '{}'::jsonb AS aggregated_by_model, '{}'::jsonb AS aggregated_by_provider, '{}'::jsonb AS total_metrics,
    now() AS updated_at, true AS is_complete;
SELECT pg_temp.error_of('CREATE EXTENSION ducache') AS view;
DROP VIEW daily_usage_cache;
SELECT count(*) AS extensions, (SELECT count(*) FROM pg_proc WHERE proname LIKE 'ducache%') AS functions
FROM pg_extension WHERE extname = 'ducache';

-- A schema whose name needs quoting: the install creates the table and its five indexes there.
CREATE SCHEMA "Usage Data";
CREATE EXTENSION ducache SCHEMA "Usage Data";
SELECT indexname FROM pg_indexes WHERE schemaname = 'Usage Data' ORDER BY indexname;
DROP EXTENSION ducache;
-- and adopts that table (kept by DROP EXTENSION) with its indexes on a second install.
CREATE EXTENSION ducache SCHEMA "Usage Data";
SELECT count(*) AS ducache_indexes FROM pg_indexes WHERE schemaname = 'Usage Data' AND indexname LIKE 'idx_daily_usage_cache_%';
SET search_path = "Usage Data", public;
SET ducache.users_table = '';
SET ducache.api_keys_table = '';
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider)
SELECT d, '{}', jsonb_build_object('u' || (d - date '2025-01-01') % 3, jsonb_build_object('totalRequests', 2, 'totalCost', 0.5)),
       '{"m": {"totalRequests": 2}}', '{"p": {"totalRequests": 2}}'
FROM generate_series(date '2025-01-01', date '2025-01-10', interval '1 day') AS g, LATERAL (SELECT g::date AS d) AS x;

-- After install: the table owner changes one column's type; every function that reads or
-- writes it stops with 42804 naming it (the verdict cached by the call before is dropped),
-- and works again once the type is back.
CREATE FUNCTION pg_temp.every_call() RETURNS TABLE (call text, outcome text) LANGUAGE sql AS $$
    VALUES ('user_breakdown', pg_temp.error_of($q$SELECT count(*) FROM ducache_user_breakdown('2025-01-01', '2025-01-10')$q$)),
           ('model_breakdown', pg_temp.error_of($q$SELECT count(*) FROM ducache_model_breakdown('2025-01-01', '2025-01-10')$q$)),
           ('provider_breakdown', pg_temp.error_of($q$SELECT count(*) FROM ducache_provider_breakdown('2025-01-01', '2025-01-10')$q$)),
           ('daily_trend', pg_temp.error_of($q$SELECT count(*) FROM ducache_daily_trend('2025-01-01', '2025-01-10')$q$)),
           ('analytics', pg_temp.error_of($q$SELECT count(*) FROM ducache_analytics('2025-01-01', '2025-01-10')$q$)),
           ('batch_upsert', pg_temp.error_of($q$SELECT count(*) FROM ducache_batch_upsert(ARRAY['2025-01-05']::date[], ARRAY['{}']::jsonb[], ARRAY['{"u0": {"totalRequests": 2, "totalCost": 0.5}}']::jsonb[], NULL, NULL)$q$)),
           ('rebuild', pg_temp.error_of($q$SELECT count(*) FROM ducache_rebuild('2030-01-01', '2030-01-10')$q$)),
           ('table_check', pg_temp.error_of($q$SELECT ducache_table_check()$q$))
$$;
-- The independent reference: plain SQL over the same rows.
CREATE FUNCTION pg_temp.breakdown_equals_sql() RETURNS boolean LANGUAGE sql AS $$
    SELECT (SELECT sum(total_requests) FROM ducache_user_breakdown('2025-01-01', '2025-01-10'))
         = (SELECT sum((e.value->>'totalRequests')::bigint) FROM daily_usage_cache, jsonb_each(aggregated_by_user) AS e
            WHERE date BETWEEN '2025-01-01' AND '2025-01-10')
$$;
SELECT count(*) FILTER (WHERE outcome = 'no error') AS calls_without_error, pg_temp.breakdown_equals_sql() AS equals_sql
FROM pg_temp.every_call();
CREATE FUNCTION pg_temp.after_alter(col text, bad text, to_bad text, good text, back text)
RETURNS TABLE (call text, outcome text) LANGUAGE plpgsql AS $$
DECLARE
    dflt text := (SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef AS d JOIN pg_attribute AS a
                  ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                  WHERE d.adrelid = 'daily_usage_cache'::regclass AND a.attname = col);
    -- The column's GIN/btree indexes (not the primary key) cannot all follow it to json or
    -- bytea: dropped before and rebuilt after.
    idx text[] := ARRAY(SELECT pg_get_indexdef(i.indexrelid) FROM pg_index AS i JOIN pg_attribute AS a
                        ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                        WHERE i.indrelid = 'daily_usage_cache'::regclass AND a.attname = col AND NOT i.indisprimary);
    def text;
BEGIN
    EXECUTE COALESCE((SELECT string_agg(format('DROP INDEX %s;', regexp_replace(d, '^CREATE INDEX (\S+) ON .*$', '\1')), ' ')
                      FROM unnest(idx) AS d), 'SELECT');
    EXECUTE format('ALTER TABLE daily_usage_cache ALTER COLUMN %I DROP DEFAULT', col);
    EXECUTE format('ALTER TABLE daily_usage_cache ALTER COLUMN %I TYPE %s USING %s', col, bad, to_bad);
    RETURN QUERY SELECT * FROM pg_temp.every_call();
    EXECUTE format('ALTER TABLE daily_usage_cache ALTER COLUMN %I TYPE %s USING %s', col, good, back);
    IF dflt IS NOT NULL THEN
        EXECUTE format('ALTER TABLE daily_usage_cache ALTER COLUMN %I SET DEFAULT %s', col, dflt);
    END IF;
    FOREACH def IN ARRAY idx LOOP
        EXECUTE def;
    END LOOP;
END $$;
SELECT a.col, a.bad, count(*) AS calls,
       count(*) FILTER (WHERE e.outcome LIKE format('42804: column "%s" of "Usage Data".daily_usage_cache has type %s, but ducache needs %%', a.col, format_type(a.bad::regtype, NULL))) AS calls_42804_naming_column_and_type,
       min(e.outcome) FILTER (WHERE e.call = 'batch_upsert') AS upsert_error
FROM (VALUES (1, 'raw_data', 'json', 'raw_data::json', 'jsonb', 'raw_data::jsonb'),
             (2, 'raw_data', 'bytea', 'convert_to(raw_data::text, ''UTF8'')', 'jsonb', 'convert_from(raw_data, ''UTF8'')::jsonb'),
             (3, 'aggregated_by_user', 'json', 'aggregated_by_user::json', 'jsonb', 'aggregated_by_user::jsonb'),
             (4, 'aggregated_by_user', 'text', 'aggregated_by_user::text', 'jsonb', 'aggregated_by_user::jsonb'),
             (5, 'aggregated_by_model', 'json', 'aggregated_by_model::json', 'jsonb', 'aggregated_by_model::jsonb'),
             (6, 'aggregated_by_provider', 'bytea', 'convert_to(aggregated_by_provider::text, ''UTF8'')', 'jsonb', 'convert_from(aggregated_by_provider, ''UTF8'')::jsonb'),
             (7, 'total_metrics', 'json', 'total_metrics::json', 'jsonb', 'total_metrics::jsonb'),
             (8, 'date', 'timestamp', 'date::timestamp', 'date', 'date::date'),
             (9, 'date', 'text', 'date::text', 'date', 'date::date'),
             (10, 'is_complete', 'text', 'is_complete::text', 'boolean', 'is_complete::boolean'),
             (11, 'cached_at', 'text', 'cached_at::text', 'timestamptz', 'cached_at::timestamptz')) AS a(n, col, bad, to_bad, good, back),
     pg_temp.after_alter(a.col, a.bad, a.to_bad, a.good, a.back) AS e
GROUP BY a.n, a.col, a.bad ORDER BY a.n;
-- With the types back, all work again and still equal plain SQL.
SELECT count(*) FILTER (WHERE outcome = 'no error') AS calls_without_error, pg_temp.breakdown_equals_sql() AS equals_sql
FROM pg_temp.every_call();
-- The unique date dropped after install: 42P10; back: works.
ALTER TABLE daily_usage_cache DROP CONSTRAINT daily_usage_cache_pkey;
SELECT call, outcome FROM pg_temp.every_call() WHERE call IN ('daily_trend', 'batch_upsert', 'rebuild');
ALTER TABLE daily_usage_cache ADD PRIMARY KEY (date);
-- A column dropped after install: 42703.
ALTER TABLE daily_usage_cache DROP COLUMN total_metrics;
SELECT call, outcome FROM pg_temp.every_call() WHERE call = 'model_breakdown';
ALTER TABLE daily_usage_cache ADD COLUMN total_metrics jsonb;
SELECT count(*) FILTER (WHERE outcome = 'no error') AS calls_without_error, pg_temp.breakdown_equals_sql() AS equals_sql
FROM pg_temp.every_call();
SELECT count(*) AS ducache_indexes_back FROM pg_indexes WHERE schemaname = 'Usage Data' AND indexname LIKE 'idx_daily_usage_cache_%';
RESET search_path;

\c :regress_db
DROP DATABASE ducache_hostile;
