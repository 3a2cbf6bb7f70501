-- Gateway raw_data for the rebuild benchmark, in the shape of CONTRACT §3: per day, 20 models,
-- each user's key in 3 of them; an api_keys table maps every key to its user.
\set ON_ERROR_STOP 1
CREATE TABLE IF NOT EXISTS bench.api_keys (key_hash text PRIMARY KEY, user_id uuid, name text);
INSERT INTO bench.api_keys SELECT md5('key' || u), md5('user' || u)::uuid, 'key ' || u
FROM generate_series(1, :users) AS u ON CONFLICT DO NOTHING;
UPDATE public.daily_usage_cache AS t SET raw_data = r.raw   -- the live bench dataset
FROM (SELECT date '2025-01-01' + d AS day,
             jsonb_build_object('date', date '2025-01-01' + d,
                 'metrics', jsonb_build_object('api_requests', 1000 * d),
                 'breakdown', jsonb_build_object(
                     'models', (SELECT jsonb_object_agg('model-' || m, jsonb_build_object(
                                    'metrics', jsonb_build_object('api_requests', 100 + m),
                                    'api_keys', (SELECT jsonb_object_agg(md5('key' || u), jsonb_build_object(
                                                    'metadata', jsonb_build_object('key_alias', 'key ' || u),
                                                    'metrics', jsonb_build_object('api_requests', 1 + (u + d) % 50,
                                                        'total_tokens', 100 * (1 + (u + d) % 50), 'prompt_tokens', 60 * (1 + (u + d) % 50),
                                                        'completion_tokens', 40 * (1 + (u + d) % 50),
                                                        'spend', round(((u * 31 + d * 17) % 10000) * 0.00001234, 8),
                                                        'successful_requests', (u + d) % 50, 'failed_requests', 1)))
                                                 FROM generate_series(1, :users) AS u WHERE (u - m + 20) % 20 < 3)))
                                FROM generate_series(0, 19) AS m),
                     'providers', jsonb_build_object('vllm', jsonb_build_object('metrics', jsonb_build_object('api_requests', 1))),
                     'api_keys', '{}'::jsonb)) AS raw
      FROM generate_series(0, :days - 1) AS d) AS r
WHERE t.date = r.day;
