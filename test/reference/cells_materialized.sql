-- Speed for cells.sql on many days (the rollup tests, sql/74_rollups_equal.sql): the three cell
-- views become tables of the same columns and rows, m() reads the metrics without a subquery
-- per metric, and the per-row lookups (provider of a
-- model, identity of a user) read indexed tables instead of unnesting every day again. The
-- answers are those of cells.sql over the same rows; only faster. Load after cells.sql, and
-- call litemaas_ref.materialize() again after every change to daily_usage_cache.
DROP VIEW IF EXISTS litemaas_ref.key_cells, litemaas_ref.user_model_cells, litemaas_ref.user_cells;
CREATE TABLE litemaas_ref.user_cells (date date, user_id text, entry jsonb, requests bigint, total_tokens bigint,
    prompt_tokens bigint, completion_tokens bigint, cost numeric, successful_requests bigint, failed_requests bigint);
CREATE TABLE litemaas_ref.user_model_cells (date date, user_id text, model text, requests bigint, total_tokens bigint,
    prompt_tokens bigint, completion_tokens bigint, cost numeric, successful_requests bigint, failed_requests bigint);
CREATE TABLE litemaas_ref.key_cells (date date, user_id text, model text, key_alias text, key_name text,
    requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, cost numeric,
    successful_requests bigint, failed_requests bigint);
-- The own "provider" member of aggregated_by_model[M] per day (NULL when absent).
CREATE TABLE litemaas_ref.model_days (date date, model text, provider jsonb);
CREATE INDEX ON litemaas_ref.user_cells (user_id, date);
CREATE INDEX ON litemaas_ref.model_days (model, date);

CREATE FUNCTION litemaas_ref.materialize() RETURNS void LANGUAGE sql AS $$
  TRUNCATE litemaas_ref.user_cells, litemaas_ref.user_model_cells, litemaas_ref.key_cells, litemaas_ref.model_days;
  INSERT INTO litemaas_ref.user_cells
  SELECT d.date, u.key, u.value, (litemaas_ref.m(u.value)).*
  FROM daily_usage_cache d, jsonb_each(litemaas_ref.obj(d.aggregated_by_user)) u;
  INSERT INTO litemaas_ref.user_model_cells
  SELECT d.date, u.key, m.key, (litemaas_ref.m(m.value)).*
  FROM daily_usage_cache d, jsonb_each(litemaas_ref.obj(d.aggregated_by_user)) u,
       jsonb_each(litemaas_ref.obj(u.value -> 'models')) m;
  INSERT INTO litemaas_ref.key_cells
  SELECT d.date, u.key, m.key, k.key, k.value ->> 'keyName', (litemaas_ref.m(k.value)).*
  FROM daily_usage_cache d, jsonb_each(litemaas_ref.obj(d.aggregated_by_user)) u,
       jsonb_each(litemaas_ref.obj(u.value -> 'models')) m, jsonb_each(litemaas_ref.obj(m.value -> 'api_keys')) k;
  INSERT INTO litemaas_ref.model_days
  SELECT d.date, m.key, m.value -> 'provider'
  FROM daily_usage_cache d, jsonb_each(litemaas_ref.obj(d.aggregated_by_model)) m;
  ANALYZE litemaas_ref.user_cells, litemaas_ref.user_model_cells, litemaas_ref.key_cells, litemaas_ref.model_days;
$$;

-- cells.sql's m(): the same first-present-alias rule (a present JSON null reads 0), without a
-- subquery per metric.
CREATE OR REPLACE FUNCTION litemaas_ref.m(entry jsonb,
    OUT requests bigint, OUT total_tokens bigint, OUT prompt_tokens bigint, OUT completion_tokens bigint,
    OUT cost numeric, OUT successful_requests bigint, OUT failed_requests bigint)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    s jsonb := CASE WHEN jsonb_typeof(entry -> 'metrics') = 'object' THEN entry -> 'metrics' ELSE entry END;
BEGIN
    requests := coalesce((coalesce(s -> 'totalRequests', s -> 'api_requests', s -> 'requests') #>> '{}')::numeric, 0);
    total_tokens := coalesce((coalesce(s -> 'totalTokens', s -> 'total_tokens', s -> 'tokens') #>> '{}')::numeric, 0);
    prompt_tokens := coalesce((coalesce(s -> 'promptTokens', s -> 'prompt_tokens') #>> '{}')::numeric, 0);
    completion_tokens := coalesce((coalesce(s -> 'completionTokens', s -> 'completion_tokens') #>> '{}')::numeric, 0);
    cost := coalesce((coalesce(s -> 'totalCost', s -> 'spend', s -> 'cost') #>> '{}')::numeric, 0);
    successful_requests := coalesce((coalesce(s -> 'successfulRequests', s -> 'successful_requests') #>> '{}')::numeric, 0);
    failed_requests := coalesce((coalesce(s -> 'failedRequests', s -> 'failed_requests') #>> '{}')::numeric, 0);
END $$;

-- cells.sql's provider_of, from model_days.
CREATE OR REPLACE FUNCTION litemaas_ref.provider_of(model text, s date, e date) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT litemaas_ref.provider_rule(model,
      (SELECT d.provider FROM litemaas_ref.model_days d
       WHERE d.model = provider_of.model AND d.date BETWEEN s AND e AND jsonb_typeof(d.provider) = 'string'
       ORDER BY d.date DESC LIMIT 1))
$$;

SELECT litemaas_ref.materialize();
