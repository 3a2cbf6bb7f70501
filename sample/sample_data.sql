-- A small, deterministic sample: 8 users of a LiteMaaS-style gateway over 30 days of
-- October 2025, in the nested shape the application writes, with a users table.
-- Loaded by scripts/demo.sh into a database where ducache is installed.
CREATE TABLE IF NOT EXISTS users (
    id       uuid PRIMARY KEY,
    username text NOT NULL,
    email    text,
    roles    text[] NOT NULL DEFAULT ARRAY['user']
);
INSERT INTO users (id, username, email, roles)
SELECT ('00000000-0000-4000-8000-00000000000' || u)::uuid, name, name || '@example.com',
       CASE WHEN u = 1 THEN ARRAY['admin', 'user'] ELSE ARRAY['user'] END
FROM unnest(ARRAY['ada', 'grace', 'linus', 'barbara', 'ken', 'margaret', 'dennis', 'frances'])
     WITH ORDINALITY AS n(name, u)
ON CONFLICT (id) DO NOTHING;

WITH days AS (
    SELECT d::date AS day, row_number() OVER (ORDER BY d) AS i
    FROM generate_series(date '2025-10-01', date '2025-10-30', interval '1 day') AS d
), usage AS (   -- every user is active on days where (i + u) % 3 <> 0
    SELECT day, i, u,
           ('00000000-0000-4000-8000-00000000000' || u)::text AS user_id,
           (ARRAY['granite-3.1-8b-instruct', 'llama-3.1-8b', 'mistral-7b'])[1 + u % 3] AS model,
           10 * u + i AS requests,
           (10 * u + i) * 150 AS tokens,
           round((10 * u + i) * 0.0012345, 7) AS spend
    FROM days CROSS JOIN generate_series(1, 8) AS u
    WHERE (i + u) % 3 <> 0
), metrics AS (
    SELECT *, jsonb_build_object('api_requests', requests, 'total_tokens', tokens,
                                 'prompt_tokens', tokens * 2 / 3, 'completion_tokens', tokens - tokens * 2 / 3,
                                 'spend', spend, 'successful_requests', requests - 1, 'failed_requests', 1) AS m
    FROM usage
)
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model,
                               aggregated_by_provider, total_metrics, is_complete)
SELECT day, jsonb_build_object('date', day),
       jsonb_object_agg(user_id, jsonb_build_object('userId', user_id, 'metrics', m,
                        'models', jsonb_build_object(model, jsonb_build_object('modelName', model, 'metrics', m)))),
       (SELECT jsonb_object_agg(model, jsonb_build_object('metrics', jsonb_build_object(
                   'api_requests', r, 'total_tokens', t, 'spend', s)))
        FROM (SELECT model, sum(requests) r, sum(tokens) t, sum(spend) s FROM usage AS x
              WHERE x.day = metrics.day GROUP BY model) AS per_model),
       jsonb_build_object('vllm', jsonb_build_object('metrics', jsonb_build_object(
           'api_requests', sum(requests), 'total_tokens', sum(tokens), 'spend', sum(spend)))),
       jsonb_build_object('api_requests', sum(requests), 'total_tokens', sum(tokens), 'spend', sum(spend)),
       day < date '2025-10-30'
FROM metrics
GROUP BY day
ON CONFLICT (date) DO NOTHING;
