-- The unfiltered ducache_dashboard in plain SQL over the day rows (CONTRACT §5, docs/litemaas.md):
-- the figures a test compares (dash_ref, from the days; dash_figures, the same read from
-- ducache's document) and topUsers' identity (identity_ref). Needs cells.sql and
-- cells_materialized.sql (litemaas_ref.user_cells); calls nothing of ducache.
CREATE OR REPLACE FUNCTION litemaas_ref.dash_ref(s date, e date) RETURNS jsonb LANGUAGE sql STABLE AS $$
  WITH cur AS (SELECT * FROM litemaas_ref.user_cells WHERE date BETWEEN s AND e),
  prev AS (SELECT * FROM litemaas_ref.user_cells WHERE date BETWEEN s - (e - s + 1) AND s - 1),
  models AS (SELECT d.date, m.key AS model, (litemaas_ref.m(m.value)).*,
                    litemaas_ref.obj(d.aggregated_by_provider) = '{}' AS derived
             FROM daily_usage_cache d, jsonb_each(litemaas_ref.obj(d.aggregated_by_model)) m
             WHERE d.date BETWEEN s AND e),
  stored AS (SELECT p.key AS provider, (litemaas_ref.m(p.value)).cost
             FROM daily_usage_cache d, jsonb_each(litemaas_ref.obj(d.aggregated_by_provider)) p
             WHERE d.date BETWEEN s AND e),
  by_provider AS (SELECT provider, sum(cost) AS cost FROM (
                    SELECT litemaas_ref.provider_of(model, s, e) AS provider, cost FROM models WHERE derived
                    UNION ALL SELECT provider, cost FROM stored) x GROUP BY provider),
  by_user AS (SELECT user_id, sum(cost) AS cost FROM cur GROUP BY user_id HAVING sum(requests) <> 0),
  by_model AS (SELECT model, sum(cost) AS cost FROM models GROUP BY model HAVING sum(requests) <> 0),
  daily AS (SELECT date, sum(requests) AS requests, sum(total_tokens) AS tokens, sum(prompt_tokens) AS prompt_tokens,
                   sum(completion_tokens) AS completion_tokens, sum(cost) AS cost
            FROM cur GROUP BY date HAVING sum(requests) > 0)
  SELECT jsonb_build_object(
    'totalRequests', coalesce((SELECT sum(requests) FROM cur), 0),
    'totalCost', coalesce((SELECT sum(cost) FROM cur), 0),
    'byUser', coalesce((SELECT jsonb_object_agg(user_id, cost) FROM by_user), '{}'),
    'byModel', coalesce((SELECT jsonb_object_agg(model, cost) FROM by_model), '{}'),
    'byProvider', coalesce((SELECT jsonb_object_agg(provider, cost) FROM by_provider), '{}'),
    'dailyUsage', coalesce((SELECT jsonb_agg(to_jsonb(x) ORDER BY x.date) FROM daily x), '[]'),
    'dailyModelProviders', coalesce((SELECT jsonb_agg(jsonb_build_array(date, model, litemaas_ref.provider_of(model, s, e), requests)
                                                      ORDER BY date, model COLLATE "C")
                                     FROM models WHERE requests > 0), '[]'),
    'previousRequests', coalesce((SELECT sum(requests) FROM prev), 0),
    'previousUsers', (SELECT count(*) FROM (SELECT FROM prev GROUP BY user_id HAVING sum(requests) <> 0) x))
$$;
-- The same figures read from ducache's document.
CREATE OR REPLACE FUNCTION litemaas_ref.dash_figures(d jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object(
    'totalRequests', d -> 'totalRequests',
    'totalCost', d -> 'totalCost' -> 'total',
    'byUser', d -> 'totalCost' -> 'byUser',
    'byModel', d -> 'totalCost' -> 'byModel',
    'byProvider', d -> 'totalCost' -> 'byProvider',
    'dailyUsage', d -> 'dailyUsage',
    'dailyModelProviders', coalesce((SELECT jsonb_agg(jsonb_build_array(x -> 'date', m -> 'modelId', m -> 'provider', m -> 'requests')
                                                      ORDER BY x ->> 'date', m ->> 'modelId' COLLATE "C")
                                     FROM jsonb_array_elements(d -> 'dailyModelUsage') x, jsonb_array_elements(x -> 'models') m), '[]'),
    'previousRequests', d -> 'trends' -> 'requestsTrend' -> 'previous',
    'previousUsers', d -> 'trends' -> 'usersTrend' -> 'previous')
$$;
-- topUsers' identity: the latest day in the range whose entry has a non-empty username gives
-- all three fields (a JSON null where that day's entry has no string).
CREATE OR REPLACE FUNCTION litemaas_ref.identity_ref(uid text, s date, e date) RETURNS jsonb LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT jsonb_build_object('username', c.entry -> 'username',
                    'email', CASE WHEN jsonb_typeof(c.entry -> 'email') = 'string' AND c.entry ->> 'email' <> '' THEN c.entry -> 'email' ELSE 'null' END,
                    'role', CASE WHEN jsonb_typeof(c.entry -> 'role') = 'string' AND c.entry ->> 'role' <> '' THEN c.entry -> 'role' ELSE 'null' END)
                   FROM litemaas_ref.user_cells c
                   WHERE c.user_id = uid AND c.date BETWEEN s AND e
                     AND jsonb_typeof(c.entry -> 'username') = 'string' AND c.entry ->> 'username' <> ''
                   ORDER BY c.date DESC LIMIT 1),
                  '{"username": null, "email": null, "role": null}')
$$;
