-- Plain-SQL references for CONTRACT §5 (filters, drill-downs, per-key level) over
-- public.daily_usage_cache: the independent answers the 0.2 functions are tested against.
-- jsonb operators only; calls nothing of ducache. All in schema litemaas_ref.
--
-- Filter arguments everywhere: (user_ids text[], model_ids text[], key_aliases text[]);
-- NULL or '{}' = no filter. Level read (§5.2): key filter -> users[U].models[M].api_keys[A];
-- else model filter (or a function that needs models) -> users[U].models[M]; else users[U].
CREATE SCHEMA IF NOT EXISTS litemaas_ref;

-- One metrics object out of an entry (flat or nested), with CONTRACT §2's aliases.
CREATE OR REPLACE FUNCTION litemaas_ref.pick(src jsonb, VARIADIC names text[]) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce((SELECT (src ->> n)::numeric FROM unnest(names) WITH ORDINALITY AS x(n, i)
                   WHERE src ? n ORDER BY i LIMIT 1), 0)
$$;

CREATE OR REPLACE FUNCTION litemaas_ref.m(entry jsonb,
    OUT requests bigint, OUT total_tokens bigint, OUT prompt_tokens bigint, OUT completion_tokens bigint,
    OUT cost numeric, OUT successful_requests bigint, OUT failed_requests bigint)
LANGUAGE sql IMMUTABLE AS $$
  SELECT litemaas_ref.pick(s, 'totalRequests', 'api_requests', 'requests')::bigint,
         litemaas_ref.pick(s, 'totalTokens', 'total_tokens', 'tokens')::bigint,
         litemaas_ref.pick(s, 'promptTokens', 'prompt_tokens')::bigint,
         litemaas_ref.pick(s, 'completionTokens', 'completion_tokens')::bigint,
         litemaas_ref.pick(s, 'totalCost', 'spend', 'cost'),
         litemaas_ref.pick(s, 'successfulRequests', 'successful_requests')::bigint,
         litemaas_ref.pick(s, 'failedRequests', 'failed_requests')::bigint
  FROM (SELECT CASE WHEN jsonb_typeof(entry -> 'metrics') = 'object' THEN entry -> 'metrics' ELSE entry END) AS x(s)
$$;

CREATE OR REPLACE FUNCTION litemaas_ref.obj(j jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS
$$ SELECT CASE WHEN jsonb_typeof(j) = 'object' THEN j ELSE '{}'::jsonb END $$;

-- §5.3: the entry's own string "provider", else text before the first '/', else by prefix.
CREATE OR REPLACE FUNCTION litemaas_ref.provider_rule(model text, own jsonb DEFAULT NULL) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(own) = 'string' THEN own #>> '{}'
              WHEN strpos(model, '/') > 0 THEN split_part(model, '/', 1)
              WHEN model LIKE 'gpt%' THEN 'openai'
              WHEN model LIKE 'claude%' THEN 'anthropic'
              WHEN model LIKE 'gemini%' THEN 'google'
              ELSE 'unknown' END
$$;

-- Provider of a model over a range: the latest own "provider" field of aggregated_by_model[M]
-- in the range, else the name rule.
CREATE OR REPLACE FUNCTION litemaas_ref.provider_of(model text, s date, e date) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT litemaas_ref.provider_rule(model,
      (SELECT d.aggregated_by_model -> model -> 'provider' FROM daily_usage_cache d
       WHERE d.date BETWEEN s AND e AND jsonb_typeof(d.aggregated_by_model -> model -> 'provider') = 'string'
       ORDER BY d.date DESC LIMIT 1))
$$;

-- The three levels of cells (§5.1), one row each, metrics unnested.
CREATE OR REPLACE VIEW litemaas_ref.user_cells AS
SELECT d.date, u.key AS user_id, u.value AS entry, (litemaas_ref.m(u.value)).*
FROM daily_usage_cache d, jsonb_each(litemaas_ref.obj(d.aggregated_by_user)) u;

CREATE OR REPLACE VIEW litemaas_ref.user_model_cells AS
SELECT d.date, u.key AS user_id, m.key AS model, (litemaas_ref.m(m.value)).*
FROM daily_usage_cache d, jsonb_each(litemaas_ref.obj(d.aggregated_by_user)) u,
     jsonb_each(litemaas_ref.obj(u.value -> 'models')) m;

CREATE OR REPLACE VIEW litemaas_ref.key_cells AS
SELECT d.date, u.key AS user_id, m.key AS model, k.key AS key_alias, k.value ->> 'keyName' AS key_name,
       (litemaas_ref.m(k.value)).*
FROM daily_usage_cache d, jsonb_each(litemaas_ref.obj(d.aggregated_by_user)) u,
     jsonb_each(litemaas_ref.obj(u.value -> 'models')) m, jsonb_each(litemaas_ref.obj(m.value -> 'api_keys')) k;

CREATE OR REPLACE FUNCTION litemaas_ref.nofilter(a text[]) RETURNS boolean LANGUAGE sql IMMUTABLE AS
$$ SELECT a IS NULL OR cardinality(a) = 0 $$;

-- The passing usage (§5.2) at the level the filters need; need_model forces at least the
-- user-model level (for model/provider/user-model breakdowns under a filter).
-- model/key_alias are NULL at the levels that do not have them.
CREATE OR REPLACE FUNCTION litemaas_ref.passing(s date, e date, user_ids text[], model_ids text[],
                                                 key_aliases text[], need_model boolean DEFAULT false)
RETURNS TABLE (date date, user_id text, model text, key_alias text, key_name text, requests bigint,
               total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, cost numeric,
               successful_requests bigint, failed_requests bigint)
LANGUAGE sql STABLE AS $$
  SELECT c.date, c.user_id, c.model, c.key_alias, c.key_name, c.requests, c.total_tokens, c.prompt_tokens,
         c.completion_tokens, c.cost, c.successful_requests, c.failed_requests
  FROM litemaas_ref.key_cells c
  WHERE NOT litemaas_ref.nofilter(key_aliases) AND c.date BETWEEN s AND e
    AND c.key_alias = ANY (key_aliases)
    AND (litemaas_ref.nofilter(user_ids) OR c.user_id = ANY (user_ids))
    AND (litemaas_ref.nofilter(model_ids) OR c.model = ANY (model_ids))
  UNION ALL
  SELECT c.date, c.user_id, c.model, NULL, NULL, c.requests, c.total_tokens, c.prompt_tokens,
         c.completion_tokens, c.cost, c.successful_requests, c.failed_requests
  FROM litemaas_ref.user_model_cells c
  WHERE litemaas_ref.nofilter(key_aliases) AND (NOT litemaas_ref.nofilter(model_ids) OR need_model)
    AND c.date BETWEEN s AND e
    AND (litemaas_ref.nofilter(user_ids) OR c.user_id = ANY (user_ids))
    AND (litemaas_ref.nofilter(model_ids) OR c.model = ANY (model_ids))
  UNION ALL
  SELECT c.date, c.user_id, NULL, NULL, NULL, c.requests, c.total_tokens, c.prompt_tokens,
         c.completion_tokens, c.cost, c.successful_requests, c.failed_requests
  FROM litemaas_ref.user_cells c
  WHERE litemaas_ref.nofilter(key_aliases) AND litemaas_ref.nofilter(model_ids) AND NOT need_model
    AND c.date BETWEEN s AND e
    AND (litemaas_ref.nofilter(user_ids) OR c.user_id = ANY (user_ids))
$$;

CREATE OR REPLACE FUNCTION litemaas_ref.any_filter(a text[], b text[], c text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT NOT (litemaas_ref.nofilter(a) AND litemaas_ref.nofilter(b) AND litemaas_ref.nofilter(c))
$$;

\ir cells_breakdowns.sql
