-- Deterministic LiteMaaS-shaped cache rows (issue 11), generated in the server from integer
-- hashes (no randomness), for the 0.2 regression fixture and the benchmark alike.
--
--   litemaas_ref.gen_cells(users, day_no)   the day's usage cells, one row per
--                                            user x model x key (the truth everything sums)
--   litemaas_ref.gen_day(users, day_no, start, with_raw)  one daily_usage_cache row built from
--                                            them (raw_data = the gateway's response, or {})
--
-- What the data exercises (CONTRACT §5): 1-3 keys per user-model (aliases u<N>-laptop,
-- u<N>-ci and the alias 'team-shared' that several users hold), keyName renamed from day 5 on,
-- users absent on some days, model names with '/', gpt-/claude-/gemini- names, a model whose
-- aggregated_by_model entry has its own "provider", aggregated_by_provider = {} (NULL on days
-- with day_no % 5 = 4, a non-empty object on day_no % 5 = 2), the Unknown User with
-- api_keys = {} (what LiteMaaS's enrichWithUserMapping leaves), and a flat (seed-shape) user
-- entry for users with u % 8 = 0 on days with day_no % 4 = 1.
-- All sums are consistent: sum of keys = user-model metrics, sum of models = user metrics,
-- aggregated_by_model = sum over users, total_metrics = grand total. Costs carry 10 decimals
-- so float sums differ from exact ones.
-- Uses only plain SQL; needs no ducache.
CREATE SCHEMA IF NOT EXISTS litemaas_ref;

CREATE OR REPLACE FUNCTION litemaas_ref.models()
RETURNS TABLE (model_no int, model text, provider_field text)
LANGUAGE sql IMMUTABLE AS $$
  VALUES (1, 'openai/gpt-4o-mini', NULL),
         (2, 'granite-3.1-8b-instruct', NULL),
         (3, 'gpt-4o', NULL),
         (4, 'claude-3-5-sonnet', NULL),
         (5, 'gemini-1.5-pro', NULL),
         (6, 'meta-llama/Llama-3.1-8B-Instruct', NULL),
         (7, 'mistral-7b-instruct', 'mistralai')
$$;

CREATE OR REPLACE FUNCTION litemaas_ref.user_id(u int) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN u = 0 THEN '00000000-0000-0000-0000-000000000000'
              ELSE md5('litemaas-user' || u)::uuid::text END
$$;

-- user_no 0 is the Unknown User (its cells are keyed by key hash, as LiteMaaS does).
CREATE OR REPLACE FUNCTION litemaas_ref.gen_cells(users int, day_no int)
RETURNS TABLE (user_no int, model text, key_alias text, key_name text, requests bigint,
               prompt_tokens bigint, completion_tokens bigint, spend numeric, failed bigint)
LANGUAGE sql IMMUTABLE AS $$
  WITH raw AS (
    SELECT u, m.model, k,
           (u::bigint * 7919 + m.model_no * 104729 + k * 1299709 + day_no::bigint * 15485863) % 1000003 AS h
    FROM generate_series(1, users) AS u
    CROSS JOIN litemaas_ref.models() AS m
    CROSS JOIN generate_series(1, 3) AS k
    WHERE (u * 31 + day_no * 17) % 7 <> 0              -- some users absent some days
      AND (u + m.model_no) % 3 <> 0                     -- each user uses a subset of models
      AND (u * 13 + m.model_no * 7 + day_no * 3) % 4 <> 0
      AND k <= 1 + u % 3                                -- 1-3 keys per user
      AND (k = 1 OR (u + m.model_no * 5 + k * 11 + day_no) % 4 <> 0)
    UNION ALL                                           -- the Unknown User, every 3rd day
    SELECT 0, m.model, k, (m.model_no * 104729 + k * 1299709 + day_no::bigint * 15485863) % 1000003
    FROM litemaas_ref.models() AS m CROSS JOIN generate_series(1, 2) AS k
    WHERE day_no % 3 = 0 AND m.model_no IN (2, 6)
  )
  SELECT u,
         model,
         CASE WHEN u = 0 THEN md5('unmapped-key' || k)
              WHEN k = 3 THEN 'team-shared'
              ELSE format('u%s-%s', u, (ARRAY['laptop', 'ci'])[k]) END,
         CASE WHEN u = 0 THEN 'Unknown Key'
              WHEN k = 1 AND day_no >= 5 THEN format('Laptop of user%s (renamed)', u)
              ELSE format('%s of user%s', (ARRAY['Laptop', 'CI', 'Team'])[k], u) END,
         1 + h % 50,
         (1 + h % 50) * (100 + h % 400),
         (1 + h % 50) * (20 + h % 150),
         round((h % 100000) * 0.0000012345678 + (1 + h % 50) * 0.0000000001, 10),
         CASE WHEN h % 7 = 0 THEN 1 + h % 3 ELSE 0 END
  FROM raw
$$;

CREATE OR REPLACE FUNCTION litemaas_ref.metrics(req numeric, p numeric, c numeric, s numeric, f numeric)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('api_requests', req, 'total_tokens', p + c, 'prompt_tokens', p,
                            'completion_tokens', c, 'spend', s,
                            'successful_requests', req - f, 'failed_requests', f)
$$;

CREATE OR REPLACE FUNCTION litemaas_ref.gen_day(users int, day_no int, start date DEFAULT '2025-03-01',
                                                 with_raw boolean DEFAULT true)
RETURNS TABLE (date date, raw_data jsonb, aggregated_by_user jsonb, aggregated_by_model jsonb,
               aggregated_by_provider jsonb, total_metrics jsonb)
LANGUAGE sql IMMUTABLE AS $$
  WITH c AS (SELECT * FROM litemaas_ref.gen_cells(users, day_no)),
  um AS (SELECT user_no, model, sum(requests) r, sum(prompt_tokens) p, sum(completion_tokens) ct,
                sum(spend) s, sum(failed) f,
                jsonb_object_agg(key_alias, jsonb_build_object('keyAlias', key_alias, 'keyName', key_name,
                    'metrics', litemaas_ref.metrics(requests, prompt_tokens, completion_tokens, spend, failed))) AS keys
         FROM c GROUP BY user_no, model),
  u AS (SELECT user_no, sum(r) r, sum(p) p, sum(ct) ct, sum(s) s, sum(f) f,
               jsonb_object_agg(model, jsonb_build_object('modelName', model,
                   'metrics', litemaas_ref.metrics(r, p, ct, s, f),
                   'api_keys', CASE WHEN user_no = 0 THEN '{}'::jsonb ELSE keys END)) AS models
        FROM um GROUP BY user_no),
  ident AS (SELECT user_no, litemaas_ref.user_id(user_no) AS id,
                   CASE WHEN user_no = 0 THEN 'Unknown User' ELSE 'user' || user_no END AS username,
                   CASE WHEN user_no = 0 THEN 'unknown@system.local' ELSE 'user' || user_no || '@example.com' END AS email,
                   CASE WHEN user_no = 1 THEN 'admin' ELSE 'user' END AS role
            FROM u),
  m AS (SELECT um.model, sum(r) r, sum(p) p, sum(ct) ct, sum(s) s, sum(f) f,
               jsonb_object_agg(i.id, jsonb_build_object('userId', i.id, 'username', i.username,
                   'email', i.email, 'metrics', litemaas_ref.metrics(r, p, ct, s, f))) AS users
        FROM um JOIN ident i USING (user_no) GROUP BY um.model),
  tot AS (SELECT coalesce(sum(r), 0) r, coalesce(sum(p), 0) p, coalesce(sum(ct), 0) ct,
                 coalesce(sum(s), 0) s, coalesce(sum(f), 0) f FROM u)
  SELECT start + day_no,
         CASE WHEN NOT with_raw THEN '{}'::jsonb ELSE jsonb_build_object('date', start + day_no,
             'metrics', litemaas_ref.metrics(tot.r, tot.p, tot.ct, tot.s, tot.f),
             'breakdown', jsonb_build_object(
                 'models', (SELECT coalesce(jsonb_object_agg(model, jsonb_build_object(
                                'metrics', jsonb_build_object('api_requests', r, 'total_tokens', p + ct,
                                    'prompt_tokens', p, 'completion_tokens', ct, 'spend', s),
                                'api_keys', (SELECT jsonb_object_agg(CASE WHEN c.user_no = 0 THEN c.key_alias
                                                 ELSE md5('key:' || c.user_no || ':' || c.key_alias) END,
                                                 jsonb_build_object('metadata', jsonb_build_object('key_alias', c.key_alias),
                                                     'metrics', litemaas_ref.metrics(c.requests, c.prompt_tokens,
                                                         c.completion_tokens, c.spend, c.failed)))
                                             FROM c WHERE c.model = m.model))), '{}')
                            FROM m),
                 'providers', '{}'::jsonb, 'api_keys', '{}'::jsonb)) END,
         (SELECT coalesce(jsonb_object_agg(i.id,
                     CASE WHEN u.user_no % 8 = 0 AND u.user_no > 0 AND day_no % 4 = 1 THEN   -- flat entry
                          jsonb_build_object('totalRequests', u.r, 'totalTokens', u.p + u.ct, 'promptTokens', u.p,
                              'completionTokens', u.ct, 'totalCost', u.s)
                     ELSE jsonb_build_object('userId', i.id, 'username', i.username, 'email', i.email,
                              'role', i.role, 'metrics', litemaas_ref.metrics(u.r, u.p, u.ct, u.s, u.f),
                              'models', u.models) END), '{}')
          FROM u JOIN ident i USING (user_no)),
         (SELECT coalesce(jsonb_object_agg(m.model,
                     jsonb_build_object('metrics', litemaas_ref.metrics(r, p, ct, s, f), 'users', m.users)
                     || CASE WHEN md.provider_field IS NULL THEN '{}'::jsonb
                             ELSE jsonb_build_object('provider', md.provider_field) END), '{}')
          FROM m JOIN litemaas_ref.models() md USING (model)),
         CASE day_no % 5 WHEN 4 THEN NULL
              WHEN 2 THEN jsonb_build_object('vllm', jsonb_build_object('metrics', jsonb_build_object(
                  'api_requests', tot.r, 'total_tokens', tot.p + tot.ct, 'prompt_tokens', tot.p,
                  'completion_tokens', tot.ct, 'spend', tot.s)))
              ELSE '{}'::jsonb END,
         litemaas_ref.metrics(tot.r, tot.p, tot.ct, tot.s, tot.f)
  FROM tot
$$;

-- The users and api_keys rows that map the generated raw_data back to the same users (for the
-- §5.5 rebuild tests): key_hash = md5('key:' || user_no || ':' || alias); the Unknown User's
-- hashes have no row. name is the current key name (the renamed one for the laptop keys), so a
-- rebuild writes it on every day, where the generated rows have the old name before day 5.
CREATE OR REPLACE FUNCTION litemaas_ref.gen_users(users int)
RETURNS TABLE (id uuid, username text, email text, roles text[])
LANGUAGE sql IMMUTABLE AS $$
  SELECT litemaas_ref.user_id(u)::uuid, 'user' || u, 'user' || u || '@example.com',
         CASE WHEN u = 1 THEN ARRAY['admin', 'user'] ELSE ARRAY['user'] END
  FROM generate_series(1, users) AS u
$$;

CREATE OR REPLACE FUNCTION litemaas_ref.gen_api_keys(users int)
RETURNS TABLE (key_hash text, user_id uuid, name text, litellm_key_alias text)
LANGUAGE sql IMMUTABLE AS $$
  SELECT md5('key:' || u || ':' || a.alias), litemaas_ref.user_id(u)::uuid, a.name, a.alias
  FROM generate_series(1, users) AS u,
       LATERAL (VALUES (1, format('u%s-laptop', u), format('Laptop of user%s (renamed)', u)),
                       (2, format('u%s-ci', u), format('CI of user%s', u)),
                       (3, 'team-shared', format('Team of user%s', u))) AS a(k, alias, name)
  WHERE a.k <= 1 + u % 3
$$;
