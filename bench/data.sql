-- Deterministic benchmark data, generated in the server (no randomness: values are hashes of
-- the user, day and model numbers). Usage (psql variables): users, days, shape = nested|flat.
-- Writes bench.cache_<shape>_<users>x<days> with the same columns as daily_usage_cache.
\set ON_ERROR_STOP 1
CREATE SCHEMA IF NOT EXISTS bench;
SELECT format('bench.cache_%s_%sx%s', :'shape', :users, :days) AS target \gset
DROP TABLE IF EXISTS :target;
CREATE TABLE :target (LIKE daily_usage_cache INCLUDING DEFAULTS INCLUDING COMPRESSION);
ALTER TABLE :target ADD PRIMARY KEY (date);

-- A users table like LiteMaaS's (uuid ids, roles text[]), shared by every scale.
CREATE TABLE IF NOT EXISTS bench.users (id uuid PRIMARY KEY, username text, email text, roles text[]);
INSERT INTO bench.users
SELECT md5('user' || u)::uuid, 'user' || u, 'user' || u || '@example.com', ARRAY['user']
FROM generate_series(1, :users) AS u ON CONFLICT DO NOTHING;

INSERT INTO :target (date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics)
SELECT date '2025-01-01' + d, '{}',
       (SELECT jsonb_object_agg(md5('user' || u)::uuid::text,
            CASE WHEN :'shape' = 'flat' THEN
                jsonb_build_object('totalRequests', r, 'totalTokens', t, 'promptTokens', t * 2 / 3,
                                   'completionTokens', t - t * 2 / 3, 'totalCost', c)
            ELSE jsonb_build_object('userId', md5('user' || u)::uuid, 'username', 'user' || u,
                    'email', 'user' || u || '@example.com', 'role', 'user',
                    'metrics', jsonb_build_object('api_requests', r, 'total_tokens', t, 'prompt_tokens', t * 2 / 3,
                        'completion_tokens', t - t * 2 / 3, 'spend', c, 'successful_requests', r - r / 20,
                        'failed_requests', r / 20),
                    'models', (SELECT jsonb_object_agg('model-' || ((u + k) % 20), jsonb_build_object(
                                  'modelName', 'model-' || ((u + k) % 20),
                                  'metrics', jsonb_build_object('api_requests', r / 3, 'total_tokens', t / 3, 'spend', round(c / 3, 8))))
                               FROM generate_series(0, 2) AS k))
            END)
        FROM (SELECT u, 1 + (u * 7919 + d::bigint * 104729) % 200 AS r,
                     (1 + (u * 7919 + d::bigint * 104729) % 200) * (50 + u % 150) AS t,
                     round(((u * 15485863 + d::bigint * 32452843) % 1000000) * 0.0000001234, 10) AS c
              FROM generate_series(1::bigint, :users) AS u) AS x),
       (SELECT jsonb_object_agg('model-' || m, jsonb_build_object('metrics', jsonb_build_object(
                   'api_requests', 1000 + m * d, 'total_tokens', 100000 + m * d, 'spend', round((m + d) * 0.123456, 6))))
        FROM generate_series(0, 19) AS m),
       (SELECT jsonb_object_agg('provider-' || p, jsonb_build_object('metrics', jsonb_build_object(
                   'api_requests', 5000 + p * d, 'total_tokens', 500000 + p * d, 'spend', round((p + d) * 1.5, 4))))
        FROM generate_series(0, 4) AS p),
       jsonb_build_object('api_requests', 1)
FROM generate_series(0, :days - 1) AS d;
ANALYZE :target;
SELECT :'target' AS table, pg_size_pretty(pg_total_relation_size(:'target')) AS size;
