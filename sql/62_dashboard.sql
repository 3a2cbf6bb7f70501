-- ducache_dashboard and ducache_filter_options on the LiteMaaS fixture, against plain SQL over
-- the same cells (the whole document against LiteMaaS's code paths: test/shell/dashboard_reference.sh).
-- Own rows: empties the cache, loads test/reference/litemaas_fixture.sql (10 days x 8 users).
DELETE FROM daily_usage_cache;
\set ECHO none
\o /dev/null
SET client_min_messages = warning;  -- 44_rebuild_fidelity may have left schema litemaas_ref
\i test/reference/litemaas_fixture.sql
RESET client_min_messages;
\o
\set ECHO all

-- Plain SQL: the key cells of a range as rows.
CREATE TEMP VIEW key_cells AS
SELECT c.date, u.key AS user_id, m.key AS model, k.key AS alias, k.value->'metrics' AS m
FROM daily_usage_cache c, jsonb_each(c.aggregated_by_user) u, jsonb_each(u.value->'models') m,
     jsonb_each(m.value->'api_keys') k
WHERE jsonb_typeof(u.value->'models') = 'object' AND jsonb_typeof(m.value->'api_keys') = 'object';

-- Unfiltered: totals are the sums over aggregated_by_user (flat entries included, L9/L10).
WITH d AS (SELECT ducache_dashboard('2025-03-06', '2025-03-10') AS j),
     r AS (SELECT sum(COALESCE(u.value->'metrics'->>'api_requests', u.value->>'totalRequests')::bigint) AS req,
                  sum(COALESCE(u.value->'metrics'->>'spend', u.value->>'totalCost')::numeric) AS cost,
                  count(DISTINCT u.key) AS users
           FROM daily_usage_cache c, jsonb_each(c.aggregated_by_user) u
           WHERE c.date BETWEEN '2025-03-06' AND '2025-03-10')
SELECT (j->>'totalRequests')::bigint = req AS requests_equal,
       (j->'totalCost'->>'total')::numeric = cost AS cost_exact,
       (j->>'totalUsers')::int = users AS users_equal,
       (SELECT sum((x->>'cost')::numeric) FROM jsonb_array_elements(j->'dailyUsage') x) = cost AS daily_sums_to_total,
       jsonb_array_length(j->'dailyUsage') AS days,
       j->'period' AS period, j->'averageLatency' AS latency
FROM d, r;

-- A key filter: totals, daily series (L1) and top key from the key cells of those aliases.
WITH d AS (SELECT ducache_dashboard('2025-03-06', '2025-03-10', '{"apiKeyIds": ["team-shared", "u1-ci"]}') AS j),
     r AS (SELECT sum((m->>'api_requests')::bigint) AS req, sum((m->>'spend')::numeric) AS cost
           FROM key_cells WHERE date BETWEEN '2025-03-06' AND '2025-03-10' AND alias IN ('team-shared', 'u1-ci')),
     top AS (SELECT alias, user_id, sum((m->>'spend')::numeric) AS cost FROM key_cells
             WHERE date BETWEEN '2025-03-06' AND '2025-03-10' AND alias IN ('team-shared', 'u1-ci')
             GROUP BY 1, 2 ORDER BY 3 DESC, alias COLLATE "C", user_id COLLATE "C" LIMIT 1)
SELECT (j->>'totalRequests')::bigint = req AS requests_equal,
       (j->'totalCost'->>'total')::numeric = r.cost AS cost_exact,
       (SELECT sum((x->>'requests')::bigint) FROM jsonb_array_elements(j->'dailyUsage') x) = req AS daily_honours_key_filter,
       (SELECT sum((y->>'requests')::bigint) FROM jsonb_array_elements(j->'dailyModelUsage') x,
               jsonb_array_elements(x->'models') y) = req AS daily_models_honour_key_filter,
       j->'topMetrics'->'topApiKey'->>'keyAlias' = top.alias AND j->'topMetrics'->'topApiKey'->>'userId' = top.user_id
           AND (j->'topMetrics'->'topApiKey'->>'cost')::numeric = top.cost AS top_key_equal
FROM d, r, top;

-- providerIds applied (L11): mistralai is the own "provider" of mistral-7b-instruct.
WITH d AS (SELECT ducache_dashboard('2025-03-01', '2025-03-10', '{"providerIds": ["mistralai"]}') AS j)
SELECT (j->'totalCost'->>'total')::numeric =
           (SELECT sum((m.value->'metrics'->>'spend')::numeric)
            FROM daily_usage_cache c, jsonb_each(c.aggregated_by_user) u, jsonb_each(u.value->'models') m
            WHERE jsonb_typeof(u.value->'models') = 'object' AND m.key = 'mistral-7b-instruct') AS cost_exact,
       j->'totalCost'->'byModel' ? 'mistral-7b-instruct' AND (SELECT count(*) FROM jsonb_object_keys(j->'totalCost'->'byModel')) = 1 AS one_model,
       j->'totalCost'->'byProvider' ?| array['mistralai'] AS provider
FROM d;

-- Trends: the comparison period is 2025-03-01..05 (same length, just before).
WITH d AS (SELECT ducache_dashboard('2025-03-06', '2025-03-10') AS j),
     p AS (SELECT c.date >= '2025-03-06' AS cur, sum(COALESCE(u.value->'metrics'->>'api_requests', u.value->>'totalRequests')::numeric) AS req
           FROM daily_usage_cache c, jsonb_each(c.aggregated_by_user) u GROUP BY 1)
SELECT (j->'trends'->'requestsTrend'->>'previous')::numeric = (SELECT req FROM p WHERE NOT cur) AS previous_equal,
       (j->'trends'->'requestsTrend'->>'percentageChange')::numeric =
           round(100 * ((SELECT req FROM p WHERE cur) - (SELECT req FROM p WHERE NOT cur)) / (SELECT req FROM p WHERE NOT cur), 2) AS change_equal
FROM d;
-- No cached day before the range: every trend is LiteMaaS's empty trend.
SELECT (ducache_dashboard('2025-03-01', '2025-03-03')->'trends'->'costTrend') - 'current'::text AS empty_trend;
-- No cached day in the range: LiteMaaS's empty analytics.
SELECT jsonb_pretty(ducache_dashboard('2025-04-01', '2025-04-30')) AS empty_analytics;
SELECT ducache_dashboard(NULL, '2025-03-01') IS NULL AS null_start, ducache_dashboard('2025-03-01', '2025-03-02', NULL) IS NULL AS null_filters;

-- Bad filters: 22023 naming the field.
SELECT ducache_test.error_of(format('SELECT ducache_dashboard(%L, %L, %L)', '2025-03-01', '2025-03-02', f))
FROM unnest(array['[]', '"userIds"', 'null', '{"userId": ["x"]}', '{"modelIds": "gpt-4o"}',
                  '{"apiKeyIds": {"a": 1}}', '{"userIds": ["a", 1]}', '{"providerIds": ["openai", null]}']) AS f;
SELECT ducache_test.error_of($$SELECT ducache_dashboard('2025-03-02', '2025-03-01')$$);

-- Filter options: every model of aggregated_by_model in byte order; users with a username.
WITH o AS (SELECT ducache_filter_options('2025-03-01', '2025-03-10') AS j)
SELECT (SELECT array_agg(x->>'id') FROM jsonb_array_elements(j->'models') x) =
           (SELECT array_agg(k ORDER BY k COLLATE "C") FROM (SELECT DISTINCT jsonb_object_keys(aggregated_by_model) k
                                                          FROM daily_usage_cache) s) AS models_equal,
       (SELECT array_agg(x->>'userId' ORDER BY x->>'userId') FROM jsonb_array_elements(j->'users') x) =
           (SELECT array_agg(DISTINCT u.key ORDER BY u.key) FROM daily_usage_cache c, jsonb_each(c.aggregated_by_user) u
            WHERE u.value->>'username' <> '') AS users_equal,
       j->'models'->0 AS first_model
FROM o;
SELECT ducache_filter_options('2025-04-01', '2025-04-30') AS no_days;
DELETE FROM daily_usage_cache;
