-- CONTRACT §5.5: ducache_rebuild writes what LiteMaaS's enrichment writes (bugs fixed as
-- docs/litemaas.md says): the per-key level users[U].models[M].api_keys[A] = {keyAlias, keyName,
-- metrics}, A = api_keys.litellm_key_alias (absent column or NULL: metadata.key_alias, else the
-- hash), keyName = api_keys.name; unmapped keys under the Unknown User keyed by hash (L15);
-- model metrics = the sums of their parts (L2); skipped requests off the totals (L16).
-- References: documents built here by plain SQL from the generator's cells
-- (test/reference/litemaas_gen.sql), and the example day's figures worked out by hand.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
TRUNCATE daily_usage_cache;
\i test/reference/litemaas_gen.sql
CREATE SCHEMA fd;
CREATE TABLE fd.users AS SELECT * FROM litemaas_ref.gen_users(8);
CREATE TABLE fd.api_keys AS SELECT * FROM litemaas_ref.gen_api_keys(8);
SET ducache.users_table = 'fd.users';
SET ducache.api_keys_table = 'fd.api_keys';
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics)
SELECT g.* FROM generate_series(0, 9) AS d, LATERAL litemaas_ref.gen_day(8, d, date '2025-03-01') AS g;

-- The documents the rebuild must write for day d, from the cells (not from raw_data): a key's
-- name is the api_keys row's (the generated rows carry the old names before day 5), the
-- Unknown User's keys stay keyed by hash with keyName 'Unknown Key'.
CREATE FUNCTION fd.want(d int) RETURNS TABLE (au jsonb, am jsonb, tm jsonb) LANGUAGE sql STABLE AS $$
  WITH c AS (
    SELECT c.*, litemaas_ref.user_id(c.user_no) AS uid,
           CASE WHEN c.user_no = 0 THEN 'Unknown User' ELSE u.username END AS username,
           CASE WHEN c.user_no = 0 THEN 'unknown@system.local' ELSE u.email END AS email,
           CASE WHEN c.user_no = 0 THEN 'user' ELSE COALESCE(u.roles[1], 'user') END AS role,
           CASE WHEN c.user_no = 0 THEN 'Unknown Key' ELSE k.name END AS kname
    FROM litemaas_ref.gen_cells(8, d) AS c
    LEFT JOIN fd.users AS u ON u.id::text = litemaas_ref.user_id(c.user_no)
    LEFT JOIN fd.api_keys AS k ON k.key_hash = md5('key:' || c.user_no || ':' || c.key_alias)),
  um AS (SELECT uid, username, email, role, model, sum(requests) r, sum(prompt_tokens) p,
                sum(completion_tokens) ct, sum(spend) s, sum(failed) f,
                jsonb_object_agg(key_alias, jsonb_build_object('keyAlias', key_alias, 'keyName', kname,
                    'metrics', litemaas_ref.metrics(requests, prompt_tokens, completion_tokens, spend, failed))) AS keys
         FROM c GROUP BY 1, 2, 3, 4, 5),
  u AS (SELECT uid, username, email, role, sum(r) r, sum(p) p, sum(ct) ct, sum(s) s, sum(f) f,
               jsonb_object_agg(model, jsonb_build_object('modelName', model,
                   'metrics', litemaas_ref.metrics(r, p, ct, s, f), 'api_keys', keys)) AS models
        FROM um GROUP BY 1, 2, 3, 4),
  m AS (SELECT model, sum(r) r, sum(p) p, sum(ct) ct, sum(s) s, sum(f) f,
               jsonb_object_agg(uid, jsonb_build_object('userId', uid, 'username', username, 'email', email,
                   'metrics', litemaas_ref.metrics(r, p, ct, s, f))) AS users
        FROM um GROUP BY 1)
  SELECT (SELECT jsonb_object_agg(uid, jsonb_build_object('userId', uid, 'username', username, 'email', email,
              'role', role, 'metrics', litemaas_ref.metrics(r, p, ct, s, f), 'models', models)) FROM u),
         (SELECT jsonb_object_agg(model, jsonb_build_object('metrics', litemaas_ref.metrics(r, p, ct, s, f),
              'users', users)) FROM m),
         (SELECT litemaas_ref.metrics(sum(requests), sum(prompt_tokens), sum(completion_tokens), sum(spend),
              sum(failed)) FROM c)
$$;
CREATE FUNCTION fd.mismatches() RETURNS TABLE (users_wrong bigint, models_wrong bigint, providers_wrong bigint,
                                               totals_wrong bigint, days bigint)
LANGUAGE sql STABLE AS $$
  SELECT count(*) FILTER (WHERE c.aggregated_by_user IS DISTINCT FROM w.au),
         count(*) FILTER (WHERE c.aggregated_by_model IS DISTINCT FROM w.am),
         count(*) FILTER (WHERE c.aggregated_by_provider IS DISTINCT FROM '{}'::jsonb),
         count(*) FILTER (WHERE c.total_metrics IS DISTINCT FROM w.tm),
         count(*)
  FROM daily_usage_cache AS c, LATERAL fd.want(c.date - date '2025-03-01') AS w
  WHERE c.date BETWEEN '2025-03-01' AND '2025-03-10'
$$;

-- Before: the generated rows differ (old key names, flat entries, the Unknown User's empty
-- api_keys, a model's own provider field, non-empty providers).
SELECT * FROM fd.mismatches();
SELECT date, users, models, providers, action FROM ducache_rebuild('2025-03-01', '2025-03-10');
SELECT * FROM fd.mismatches();

-- The cells the 0.2 readers see: every key cell of the rebuilt rows is a generator cell.
SELECT count(*) AS key_cells,
       count(*) FILTER (WHERE (k.value->'metrics'->>'api_requests')::bigint = g.requests
                          AND (k.value->'metrics'->>'spend')::numeric = g.spend) AS equal_to_generator
FROM daily_usage_cache AS c, jsonb_each(c.aggregated_by_user) AS u, jsonb_each(u.value->'models') AS m,
     jsonb_each(m.value->'api_keys') AS k,
     LATERAL (SELECT * FROM litemaas_ref.gen_cells(8, c.date - date '2025-03-01') AS g
              WHERE litemaas_ref.user_id(g.user_no) = u.key AND g.model = m.key AND g.key_alias = k.key) AS g;

-- Without a litellm_key_alias column, and with it NULL, the alias is metadata.key_alias (the
-- same aliases here); a NULL role reads 'user'; nothing else changes.
ALTER TABLE fd.api_keys DROP COLUMN litellm_key_alias;
UPDATE fd.users SET roles = NULL WHERE username = 'user1';
SELECT action, count(*) FROM ducache_rebuild('2025-03-01', '2025-03-10') GROUP BY 1 ORDER BY 1;
SELECT * FROM fd.mismatches();  -- the reference reads the same tables (NULL role: 'user')
SELECT DISTINCT u.value->>'role' AS user1_role FROM daily_usage_cache AS c, jsonb_each(c.aggregated_by_user) AS u
WHERE u.value->>'username' = 'user1';
UPDATE fd.users SET roles = '{admin,user}' WHERE username = 'user1';
ALTER TABLE fd.api_keys ADD COLUMN litellm_key_alias text;   -- all NULL
SELECT action, count(*) FROM ducache_rebuild('2025-03-01', '2025-03-10') GROUP BY 1 ORDER BY 1;
SELECT * FROM fd.mismatches();

-- A key whose users row is gone is unmapped: the Unknown User, keyed by hash, 'Unknown Key'.
DELETE FROM fd.users WHERE username = 'user3';
SELECT count(*) AS days FROM ducache_rebuild('2025-03-01', '2025-03-10');
SELECT count(*) FILTER (WHERE u.key = litemaas_ref.user_id(3)) AS user3_entries,
       count(*) FILTER (WHERE u.key = '00000000-0000-0000-0000-000000000000'
                          AND k.key = md5('key:3:u3-laptop') AND k.value->>'keyName' = 'Unknown Key'
                          AND k.value->>'keyAlias' = k.key) AS user3_laptop_unknown_cells,
       (SELECT count(DISTINCT c.date) FROM daily_usage_cache AS c, litemaas_ref.gen_cells(8, c.date - date '2025-03-01') AS g
        WHERE g.user_no = 3 AND g.key_alias = 'u3-laptop') AS days_with_user3_laptop
FROM daily_usage_cache AS c, jsonb_each(c.aggregated_by_user) AS u, jsonb_each(u.value->'models') AS m,
     jsonb_each(m.value->'api_keys') AS k;
-- The requests stay counted: per day, the users' requests still sum to the total.
SELECT bool_and((SELECT sum((u.value->'metrics'->>'api_requests')::bigint) FROM jsonb_each(c.aggregated_by_user) AS u)
                = (c.total_metrics->>'api_requests')::bigint) AS users_sum_to_total
FROM daily_usage_cache AS c;

-- The example day (shared/examples/raw-daily-activity.json): ada owns key 3f2a..., the other
-- hash is unknown, the empty hash is skipped. By hand: ada 20 + 11 = 31 requests, 0.45 + 0.2123
-- = 0.6623; the Unknown User 9 / 0.15 under api_keys[9b8a...]; granite = 20 + 9 = 29 requests
-- (LiteMaaS: 29 with raw tokens plus the keys' tokens again); totals 41 - 1 = 40 requests,
-- successful 19 + 9 + 11 = 39, failed 1 (LiteMaaS: 38 and 2).
TRUNCATE daily_usage_cache;
INSERT INTO fd.users VALUES ('6f1c2b3a-0d4e-4f5a-9b8c-7d6e5f4a3b2c', 'ada', 'ada@example.com', '{admin}');
INSERT INTO fd.api_keys (key_hash, user_id, name, litellm_key_alias)
VALUES ('3f2a9c0e5b1d4e7f8a6b2c9d0e1f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f', '6f1c2b3a-0d4e-4f5a-9b8c-7d6e5f4a3b2c', 'Production', NULL);
INSERT INTO daily_usage_cache (date, raw_data) VALUES ('2025-10-14', $json$
{"date": "2025-10-14",
 "metrics": {"api_requests": 41, "total_tokens": 52300, "prompt_tokens": 37100, "completion_tokens": 15200,
             "spend": 0.8123, "successful_requests": 39, "failed_requests": 2},
 "breakdown": {
   "models": {
     "granite-3.1-8b-instruct": {
       "metrics": {"api_requests": 30, "total_tokens": 40000, "prompt_tokens": 28000, "completion_tokens": 12000, "spend": 0.6},
       "api_keys": {
         "3f2a9c0e5b1d4e7f8a6b2c9d0e1f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f": {"metadata": {"key_alias": "team-a-prod"},
           "metrics": {"api_requests": 20, "total_tokens": 30000, "prompt_tokens": 21000, "completion_tokens": 9000,
                       "spend": 0.45, "successful_requests": 19, "failed_requests": 1}},
         "9b8a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b": {"metadata": {"key_alias": "unknown-to-us"},
           "metrics": {"api_requests": 9, "total_tokens": 10000, "prompt_tokens": 7000, "completion_tokens": 3000,
                       "spend": 0.15, "successful_requests": 9, "failed_requests": 0}},
         "": {"metadata": {},
           "metrics": {"api_requests": 1, "total_tokens": 0, "prompt_tokens": 0, "completion_tokens": 0,
                       "spend": 0, "successful_requests": 0, "failed_requests": 1}}}},
     "llama-3.1-8b": {
       "metrics": {"api_requests": 11, "total_tokens": 12300, "prompt_tokens": 9100, "completion_tokens": 3200, "spend": 0.2123},
       "api_keys": {
         "3f2a9c0e5b1d4e7f8a6b2c9d0e1f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f": {"metadata": {"key_alias": "team-a-prod"},
           "metrics": {"api_requests": 11, "total_tokens": 12300, "prompt_tokens": 9100, "completion_tokens": 3200,
                       "spend": 0.2123, "successful_requests": 11, "failed_requests": 0}}}}},
   "providers": {"vllm": {"metrics": {"api_requests": 41, "total_tokens": 52300, "prompt_tokens": 37100, "completion_tokens": 15200, "spend": 0.8123}}},
   "api_keys": {}}}
$json$);
SELECT date, users, models, providers, action FROM ducache_rebuild('2025-10-14', '2025-10-14');
SELECT u.key AS user_id, u.value->>'username' AS username, u.value->>'email' AS email, u.value->>'role' AS role,
       u.value->'metrics'->>'api_requests' AS requests, u.value->'metrics'->>'spend' AS spend,
       (SELECT string_agg(format('%s/%s: %s %s %s', m.key, k.key, k.value->>'keyAlias', k.value->>'keyName',
                                 k.value->'metrics'->>'api_requests'), '; ' ORDER BY m.key, k.key)
        FROM jsonb_each(u.value->'models') AS m, jsonb_each(m.value->'api_keys') AS k) AS key_cells
FROM daily_usage_cache AS c, jsonb_each(c.aggregated_by_user) AS u ORDER BY 1;
SELECT m.key AS model, m.value->'metrics' AS metrics FROM daily_usage_cache AS c, jsonb_each(c.aggregated_by_model) AS m ORDER BY 1;
SELECT total_metrics, aggregated_by_provider FROM daily_usage_cache;

RESET ducache.users_table;
RESET ducache.api_keys_table;
DROP SCHEMA fd CASCADE;

TRUNCATE daily_usage_cache;
