-- Deterministic benchmark data in chosen entry shapes (issue 13), generated in the server like
-- bench/data.sql: values are arithmetic on the user and day numbers, no randomness.
-- Usage (psql variables):
--   users, days       users x days from 2025-01-01
--   layout = flat | nested   flat camelCase metrics, or LiteMaaS's identity + `metrics` + 3 `models`
--   keys = id | uuid         10-character ids (md5 prefix) or 36-character UUIDs
--   decimals = 0|2|6|10      cost decimals (0: integer costs)
--   metrics = 5 | 7          5 metrics, or also successful/failed requests
--   activity = daily | sparse  every user every day, or each user on every 5th day (20 %)
-- Writes bench.shape_<layout>_<keys>_d<decimals>_m<metrics>_<activity>_<users>x<days> with the
-- columns of daily_usage_cache, including its column compression (lz4 when ducache created it:
-- INCLUDING DEFAULTS alone would leave PostgreSQL's default, pglz). Only aggregated_by_user is
-- filled; the other JSONB columns are '{}' (the user breakdown and the merge never read them).
\set ON_ERROR_STOP 1
CREATE SCHEMA IF NOT EXISTS bench;
SELECT format('bench.shape_%s_%s_d%s_m%s_%s_%sx%s', :'layout', :'keys', :decimals, :metrics, :'activity',
              :users, :days) AS target \gset
DROP TABLE IF EXISTS :target;
CREATE TABLE :target (LIKE public.daily_usage_cache INCLUDING DEFAULTS INCLUDING COMPRESSION);
ALTER TABLE :target ADD PRIMARY KEY (date);

INSERT INTO :target (date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics)
SELECT date '2025-01-01' + d, '{}',
       COALESCE((SELECT jsonb_object_agg(key,
            CASE WHEN :'layout' = 'flat' THEN
                jsonb_build_object('totalRequests', r, 'totalTokens', t, 'promptTokens', t * 2 / 3,
                                   'completionTokens', t - t * 2 / 3, 'totalCost', c)
                || CASE WHEN :metrics = 7 THEN jsonb_build_object('successfulRequests', r - r / 20,
                                                                  'failedRequests', r / 20) ELSE '{}' END
            ELSE jsonb_build_object('userId', key, 'username', 'user' || u,
                    'email', 'user' || u || '@example.com', 'role', 'user',
                    'metrics', jsonb_build_object('api_requests', r, 'total_tokens', t, 'prompt_tokens', t * 2 / 3,
                                                  'completion_tokens', t - t * 2 / 3, 'spend', c)
                        || CASE WHEN :metrics = 7 THEN jsonb_build_object('successful_requests', r - r / 20,
                                                                          'failed_requests', r / 20) ELSE '{}' END,
                    'models', (SELECT jsonb_object_agg('model-' || ((u + k) % 20), jsonb_build_object(
                                  'modelName', 'model-' || ((u + k) % 20),
                                  'metrics', jsonb_build_object('api_requests', r / 3, 'total_tokens', t / 3,
                                                                'spend', round(c / 3, :decimals))))
                               FROM generate_series(0, 2) AS k))
            END)
        FROM (SELECT u,
                     CASE WHEN :'keys' = 'uuid' THEN md5('user' || u)::uuid::text
                          ELSE substr(md5('user' || u), 1, 10) END AS key,
                     1 + (u * 7919 + d::bigint * 104729) % 200 AS r,
                     (1 + (u * 7919 + d::bigint * 104729) % 200) * (50 + u % 150) AS t,
                     -- 0 .. 10 with up to 10 significant decimals, rounded to the shape's decimals
                     round(((u * 15485863 + d::bigint * 32452843 + u * d * 7) % 100000000000)::numeric / 10000000000,
                           :decimals) AS c
              FROM generate_series(1::bigint, :users) AS u
              WHERE :'activity' = 'daily' OR (u * 3 + d) % 5 = 0) AS x), '{}'),
       '{}', '{}', jsonb_build_object('api_requests', 1)
FROM generate_series(0, :days - 1) AS d;
ANALYZE :target;
SELECT :'target' AS table, pg_size_pretty(pg_total_relation_size(:'target')) AS size,
       (SELECT string_agg(DISTINCT COALESCE(pg_column_compression(aggregated_by_user), 'inline'), ',')
        FROM :target) AS compression;
