-- The binary partials of scale-out (docs/scale-out.md, core/shard_partial.hpp) on one
-- database: a shard's partial merged with itself is what two shards holding the same keys give
-- (sums doubled, day and user sets united, not doubled), against plain SQL over the rows; the
-- typed rows of the user-keyed reads come back as the read gave them; then malformed partials,
-- each refused with 22P03 and a DETAIL naming the partial, the byte and what is wrong.
-- Own rows (emptied first and last); needs 00_setup.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
TRUNCATE daily_usage_cache;
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model)
SELECT d::date,
       (SELECT jsonb_object_agg('u' || u, jsonb_build_object('metrics', jsonb_build_object(
                   'api_requests', i + u, 'spend', round((i * u) * 0.0123, 4)),
                   'models', jsonb_build_object('m' || (u % 2), jsonb_build_object('metrics',
                       jsonb_build_object('api_requests', i + u, 'spend', round((i * u) * 0.0123, 4))))))
        FROM generate_series(1, 4) AS u WHERE (u + i) % 3 <> 0),
       (SELECT jsonb_object_agg('m' || k, jsonb_build_object(
                   'provider', CASE WHEN i < 5 THEN 'early' ELSE 'late' END,
                   'metrics', jsonb_build_object('api_requests', i * 10 + k, 'spend', round(i * 0.25 + k * 0.001, 3)),
                   'users', (SELECT jsonb_object_agg('u' || u, 1) FROM generate_series(1, 4) AS u WHERE u % 2 = k)))
        FROM generate_series(0, 1) AS k WHERE (i + k) % 4 <> 0)
FROM generate_series(date '2025-01-01', date '2025-01-10', interval '1 day') WITH ORDINALITY AS g(d, i);

CREATE TEMP VIEW model_ref AS
SELECT m.key AS model, sum((m.value -> 'metrics' ->> 'api_requests')::bigint) AS requests,
       sum((m.value -> 'metrics' ->> 'spend')::numeric) AS cost, count(DISTINCT c.date) AS days,
       (SELECT count(DISTINCT u) FROM daily_usage_cache c2, jsonb_each(c2.aggregated_by_model) m2,
               jsonb_object_keys(m2.value -> 'users') u WHERE m2.key = m.key) AS users
FROM daily_usage_cache c, jsonb_each(c.aggregated_by_model) m GROUP BY m.key;

-- Two shards with the same keys: sums add, days and users unite; the provider is the latest own field.
WITH p AS (SELECT ducache_shard_read_partial('model', '2025-01-01', '2025-01-10') AS b)
SELECT m.model, m.provider, m.total_requests = 2 * r.requests AS requests_added, m.total_cost = 2 * r.cost AS cost_added,
       m.active_days = r.days AS days_united, m.users = r.users AS users_united
FROM p, ducache_coord_merge_models(ARRAY[p.b, NULL, p.b]) m JOIN model_ref r USING (model)
ORDER BY m.model;
-- Providers: derived from the models' own fields, day by day.
WITH p AS (SELECT ducache_shard_read_partial('provider', '2025-01-01', '2025-01-10') AS b),
ref AS (SELECT m.value ->> 'provider' AS provider, sum((m.value -> 'metrics' ->> 'api_requests')::bigint) AS requests,
               sum((m.value -> 'metrics' ->> 'spend')::numeric) AS cost, count(DISTINCT c.date) AS days,
               count(DISTINCT m.key) AS models
        FROM daily_usage_cache c, jsonb_each(c.aggregated_by_model) m GROUP BY 1)
SELECT m.provider, m.total_requests = 2 * r.requests AS requests_added, m.total_cost = 2 * r.cost AS cost_added,
       m.active_days = r.days AS days_united, m.models = r.models AS models_united
FROM p, ducache_coord_merge_providers(ARRAY[p.b, p.b], false) m JOIN ref r USING (provider)
ORDER BY m.provider;
-- A period's summary: users and totals add (users are disjoint across real shards), cached days unite.
WITH p AS (SELECT ducache_shard_read_partial('summary_top', '2025-01-01', '2025-01-31') AS b),
ref AS (SELECT count(DISTINCT c.date) AS days, count(DISTINCT u.key) AS users,
               sum((u.value -> 'metrics' ->> 'api_requests')::bigint) AS requests,
               sum((u.value -> 'metrics' ->> 'spend')::numeric) AS cost
        FROM daily_usage_cache c, jsonb_each(c.aggregated_by_user) u)
SELECT s.days_cached = r.days AS days_united, s.active_users = 2 * r.users AS users_added,
       s.total_requests = 2 * r.requests AS requests_added, s.total_cost = 2 * r.cost AS cost_added,
       s.top_model = (SELECT model FROM model_ref ORDER BY cost DESC, model COLLATE "C" LIMIT 1) AS top_model
FROM p, ducache_coord_merge_summary(ARRAY[p.b, p.b], true, true) s, ref r;

-- Malformed partials.
CREATE TEMP TABLE good AS SELECT ducache_shard_read_partial('model', '2025-01-01', '2025-01-10') AS b;
SELECT ducache_test.error_of($$SELECT * FROM ducache_coord_merge_models(ARRAY['\x'::bytea])$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_coord_merge_models(ARRAY['{"rows": []}'::bytea])$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_coord_merge_models(ARRAY[(SELECT set_byte(b, 4, 9) FROM good)])$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_coord_merge_models(ARRAY[(SELECT b FROM good), (SELECT substr(b, 1, length(b) - 3) FROM good)])$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_coord_merge_models(ARRAY[(SELECT b || '\x00'::bytea FROM good)])$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_coord_merge_providers(ARRAY[(SELECT b FROM good)], false)$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_coord_merge_summary(ARRAY[(SELECT b FROM good)], true, true)$$);
SELECT ducache_test.error_of($$SELECT ducache_shard_read_partial('user', '2025-01-01', '2025-01-10')$$);
-- On a plain database the aggregate is the read itself.
SELECT octet_length(ducache_shard_partial_bin(date, '{"kind": "model", "start": "2025-01-01", "end": "2025-01-10"}')) =
       (SELECT octet_length(b) FROM good) AS aggregate_is_the_read
FROM daily_usage_cache WHERE date BETWEEN '2025-01-01' AND '2025-01-10';
-- The rows of the user-keyed reads and the trend (core/shard_rows.hpp) come back as the read gave them.
WITH um AS (SELECT * FROM ducache_coord_merge_rows(ARRAY[ducache_shard_read_rows('user_model', '2025-01-01', '2025-01-10')])
        AS r(user_id text, model text, provider text, total_requests bigint, total_tokens bigint, prompt_tokens bigint,
             completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer)),
u AS (SELECT * FROM ducache_coord_merge_rows(ARRAY[ducache_shard_read_rows('user', '2025-01-01', '2025-01-10', NULL, ARRAY['m1'])])
        AS r(user_id text, username text, email text, role text, total_requests bigint, total_tokens bigint, prompt_tokens bigint,
             completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer,
             last_active date))
SELECT (SELECT count(*) FROM um) AS user_model_rows,
       (SELECT count(*) FROM (SELECT * FROM um EXCEPT ALL SELECT * FROM ducache_user_model_breakdown('2025-01-01', '2025-01-10')) x)
     + (SELECT count(*) FROM (SELECT * FROM ducache_user_model_breakdown('2025-01-01', '2025-01-10') EXCEPT ALL SELECT * FROM um) x)
       AS user_model_differ,
       (SELECT count(*) FROM u) AS user_rows,
       (SELECT count(*) FROM (SELECT * FROM u EXCEPT ALL SELECT * FROM ducache_user_breakdown('2025-01-01', '2025-01-10', NULL, ARRAY['m1'])) x)
     + (SELECT count(*) FROM (SELECT * FROM ducache_user_breakdown('2025-01-01', '2025-01-10', NULL, ARRAY['m1']) EXCEPT ALL SELECT * FROM u) x)
       AS user_differ;
SELECT ducache_test.error_of($$SELECT * FROM ducache_coord_merge_rows(ARRAY['\x4455535201'::bytea]) AS r(a text)$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_coord_merge_rows(ARRAY[ducache_shard_read_rows('trend', '2025-01-01', '2025-01-10')]) AS r(a text)$$);
SELECT ducache_test.error_of($$SELECT ducache_shard_read_rows('model', '2025-01-01', '2025-01-10')$$);
TRUNCATE daily_usage_cache;
