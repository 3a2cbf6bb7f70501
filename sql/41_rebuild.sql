-- ducache_rebuild on gateway raw data: keys mapped, unmapped, empty, and a deleted user;
-- the stored breakdowns equal a plain-SQL reference computed here from the same raw data.
TRUNCATE daily_usage_cache;
CREATE SCHEMA rb;
CREATE TABLE rb.users (id uuid PRIMARY KEY, username text, email text, roles text[]);
CREATE TABLE rb.api_keys (key_hash text, user_id uuid, name text);
INSERT INTO rb.users VALUES
    ('6f1c2b3a-0d4e-4f5a-9b8c-7d6e5f4a3b2c', 'ada', 'ada@example.com', '{admin,user}'),
    ('7a2d3c4b-1e5f-4a6b-8c9d-0e1f2a3b4c5d', 'grace', 'grace@example.com', '{user}');
INSERT INTO rb.api_keys VALUES
    ('k-ada-1', '6f1c2b3a-0d4e-4f5a-9b8c-7d6e5f4a3b2c', 'ada laptop'),
    ('k-ada-2', '6f1c2b3a-0d4e-4f5a-9b8c-7d6e5f4a3b2c', 'ada ci'),
    ('k-grace', '7a2d3c4b-1e5f-4a6b-8c9d-0e1f2a3b4c5d', 'grace'),
    ('k-gone',  '99999999-9999-4999-8999-999999999999', 'user since deleted');
SET ducache.users_table = 'rb.users';
SET ducache.api_keys_table = 'rb.api_keys';

-- Three days of raw data; the shape of shared/examples/raw-daily-activity.json.
CREATE FUNCTION rb.key_entry(n int, alias text) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('metadata', jsonb_build_object('key_alias', alias),
        'metrics', jsonb_build_object('api_requests', n, 'total_tokens', n * 1000, 'prompt_tokens', n * 700,
                                      'completion_tokens', n * 300, 'spend', round(n * 0.0123456789, 10),
                                      'successful_requests', n - 1, 'failed_requests', 1))
$$;
INSERT INTO daily_usage_cache (date, raw_data)
SELECT date '2025-10-13' + i,
       jsonb_build_object('date', date '2025-10-13' + i,
         'metrics', jsonb_build_object('api_requests', 100 + i, 'spend', 1.5),
         'breakdown', jsonb_build_object(
            'models', jsonb_build_object(
                'granite-3.1-8b-instruct', jsonb_build_object(
                    'metrics', jsonb_build_object('api_requests', 30 + i, 'total_tokens', 40000, 'spend', 0.6),
                    'api_keys', jsonb_build_object('k-ada-1', rb.key_entry(10 + i, 'ada laptop'),
                                                   'k-grace', rb.key_entry(5, 'grace'),
                                                   'k-unknown', rb.key_entry(3 + i, 'not ours'),
                                                   '', rb.key_entry(1, ''))),
                'llama-3.1-8b', jsonb_build_object(
                    'metrics', jsonb_build_object('api_requests', 11, 'spend', '0.2123'),
                    'api_keys', jsonb_build_object('k-ada-2', rb.key_entry(7, 'ada ci'),
                                                   'k-gone', rb.key_entry(2 + i, 'deleted'),
                                                   'k-ada-1', rb.key_entry(1, 'ada laptop')))),
            'providers', jsonb_build_object('vllm', jsonb_build_object('metrics', jsonb_build_object('api_requests', 41))),
            'api_keys', '{}'::jsonb))
FROM generate_series(0, 2) AS i;
-- A day outside the range must not be touched.
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user) VALUES ('2025-10-20', '{"breakdown": {}}', '{"keep": {"totalRequests": 1}}');

SELECT * FROM ducache_rebuild('2025-10-13', '2025-10-16');

-- Reference: every (day, model, key) with its owner, straight from raw_data (CONTRACT §5.5: a
-- key whose users row is gone is unmapped, as LiteMaaS's inner join; NULL role reads 'user'),
-- plus, per model, the requests the gateway reports beyond its keys: the Unknown User,
-- requests only.
CREATE VIEW rb.key_rows AS
SELECT c.date, m.key AS model, k.key AS key_hash, k.value->'metrics' AS km,
       COALESCE(a.user_id::text, '00000000-0000-0000-0000-000000000000') AS uid,
       CASE WHEN a.user_id IS NULL THEN 'Unknown User' ELSE a.username END AS username,
       CASE WHEN a.user_id IS NULL THEN 'unknown@system.local' ELSE a.email END AS email,
       COALESCE(a.role, 'user') AS role
FROM daily_usage_cache AS c, jsonb_each(c.raw_data->'breakdown'->'models') AS m, jsonb_each(m.value->'api_keys') AS k
LEFT JOIN (SELECT a.key_hash, a.user_id, u.username, u.email, u.roles[1] AS role
           FROM rb.api_keys AS a JOIN rb.users AS u ON u.id = a.user_id) AS a ON a.key_hash = k.key
WHERE k.key <> '' AND c.date BETWEEN '2025-10-13' AND '2025-10-16'
UNION ALL
SELECT c.date, m.key, NULL, jsonb_build_object('api_requests', r.rest, 'total_tokens', 0, 'prompt_tokens', 0,
           'completion_tokens', 0, 'spend', 0, 'successful_requests', 0, 'failed_requests', 0),
       '00000000-0000-0000-0000-000000000000', 'Unknown User', 'unknown@system.local', 'user'
FROM daily_usage_cache AS c, jsonb_each(c.raw_data->'breakdown'->'models') AS m,
     LATERAL (SELECT (m.value->'metrics'->>'api_requests')::numeric
                     - (SELECT sum((k.value->'metrics'->>'api_requests')::numeric) FROM jsonb_each(m.value->'api_keys') AS k) AS rest) AS r
WHERE r.rest > 0 AND c.date BETWEEN '2025-10-13' AND '2025-10-16';
CREATE FUNCTION rb.metrics_of(m jsonb) RETURNS TABLE (requests numeric, tokens numeric, prompt numeric, completion numeric,
                                                    spend numeric, ok numeric, failed numeric)
LANGUAGE sql IMMUTABLE AS $$
    SELECT (m->>'api_requests')::numeric, (m->>'total_tokens')::numeric, (m->>'prompt_tokens')::numeric,
           (m->>'completion_tokens')::numeric, (m->>'spend')::numeric, (m->>'successful_requests')::numeric,
           (m->>'failed_requests')::numeric
$$;

-- Users: per day and user, sums over all keys and models, with identity.
CREATE VIEW rb.want_users AS
SELECT date, uid, username, email, role, sum(x.requests) AS requests, sum(x.tokens) AS tokens, sum(x.prompt) AS prompt,
       sum(x.completion) AS completion, sum(x.spend) AS spend, sum(x.ok) AS ok, sum(x.failed) AS failed
FROM rb.key_rows, rb.metrics_of(km) AS x GROUP BY date, uid, username, email, role;
CREATE VIEW rb.got_users AS
SELECT c.date, u.key AS uid, u.value->>'username' AS username, u.value->>'email' AS email, u.value->>'role' AS role, x.*
FROM daily_usage_cache AS c, jsonb_each(c.aggregated_by_user) AS u, rb.metrics_of(u.value->'metrics') AS x
WHERE c.date BETWEEN '2025-10-13' AND '2025-10-16';
SELECT (SELECT count(*) FROM (SELECT * FROM rb.want_users EXCEPT ALL SELECT * FROM rb.got_users) a) AS users_missing,
       (SELECT count(*) FROM (SELECT * FROM rb.got_users EXCEPT ALL SELECT * FROM rb.want_users) b) AS users_extra,
       (SELECT count(*) FROM rb.got_users) AS user_rows;

-- Per user and model (users.models) and per model and user (models.users): the same sums.
CREATE VIEW rb.want_user_models AS
SELECT date, uid, model, sum(x.requests) AS requests, sum(x.spend) AS spend, sum(x.failed) AS failed
FROM rb.key_rows, rb.metrics_of(km) AS x GROUP BY date, uid, model;
SELECT (SELECT count(*) FROM (
            SELECT * FROM rb.want_user_models EXCEPT ALL
            SELECT c.date, u.key, um.key, x.requests, x.spend, x.failed
            FROM daily_usage_cache AS c, jsonb_each(c.aggregated_by_user) AS u, jsonb_each(u.value->'models') AS um,
                 rb.metrics_of(um.value->'metrics') AS x WHERE c.date BETWEEN '2025-10-13' AND '2025-10-16') a) AS user_models_missing,
       (SELECT count(*) FROM (
            SELECT * FROM rb.want_user_models EXCEPT ALL
            SELECT c.date, mu.key, m.key, x.requests, x.spend, x.failed
            FROM daily_usage_cache AS c, jsonb_each(c.aggregated_by_model) AS m, jsonb_each(m.value->'users') AS mu,
                 rb.metrics_of(mu.value->'metrics') AS x WHERE c.date BETWEEN '2025-10-13' AND '2025-10-16') b) AS model_users_missing,
       (SELECT bool_and(um.value->>'modelName' = um.key)
        FROM daily_usage_cache AS c, jsonb_each(c.aggregated_by_user) AS u, jsonb_each(u.value->'models') AS um) AS model_names_ok;

-- Models are the sums of their parts (LiteMaaS adds the keys' tokens twice: docs/litemaas.md L2);
-- providers are copied from raw_data; totals are raw_data's metrics without the skipped
-- (empty-key) requests, successful/failed summed from the keys kept (L16).
SELECT bool_and((m.value->'metrics'->>'api_requests')::numeric = w.requests
                AND (m.value->'metrics'->>'spend')::numeric = w.spend) AS model_metrics_ok,
       bool_and(c.aggregated_by_provider = c.raw_data->'breakdown'->'providers') AS providers_ok
FROM daily_usage_cache AS c, jsonb_each(c.aggregated_by_model) AS m,
     (SELECT date, model, sum(requests) AS requests, sum(spend) AS spend FROM rb.want_user_models GROUP BY 1, 2) AS w
WHERE w.date = c.date AND w.model = m.key AND c.date BETWEEN '2025-10-13' AND '2025-10-16';
SELECT bool_and((c.total_metrics->>'api_requests')::numeric = (c.raw_data->'metrics'->>'api_requests')::numeric
                    - (SELECT coalesce(sum((k.value->'metrics'->>'api_requests')::numeric), 0)
                       FROM jsonb_each(c.raw_data->'breakdown'->'models') AS m, jsonb_each(m.value->'api_keys') AS k
                       WHERE k.key = '')
                AND (c.total_metrics->>'spend')::numeric = (c.raw_data->'metrics'->>'spend')::numeric
                AND (c.total_metrics->>'failed_requests')::numeric = (SELECT sum(failed) FROM rb.want_users w WHERE w.date = c.date)
                AND (c.total_metrics->>'successful_requests')::numeric = (SELECT sum(ok) FROM rb.want_users w WHERE w.date = c.date)
       ) AS totals_ok
FROM daily_usage_cache AS c WHERE c.date BETWEEN '2025-10-13' AND '2025-10-16';

-- What the example promises: ada gets every request of her two keys; the unmapped hash, the key
-- of the deleted user and the requests without a key go to the zero-UUID Unknown User; the
-- empty key is skipped.
SELECT u.key AS user_id, u.value->>'username' AS username, u.value->'metrics'->>'api_requests' AS requests,
       u.value->'metrics'->>'spend' AS spend
FROM daily_usage_cache AS c, jsonb_each(c.aggregated_by_user) AS u WHERE c.date = '2025-10-13' ORDER BY 1;

-- The breakdown functions read rebuilt rows; the day outside the range kept its old value.
SELECT user_id, username, role, total_requests, total_cost, active_days FROM ducache_user_breakdown('2025-10-13', '2025-10-16');
SELECT aggregated_by_user FROM daily_usage_cache WHERE date = '2025-10-20';

-- Idempotent: a second rebuild writes the same values.
SELECT md5(string_agg(concat_ws('|', aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics), '#' ORDER BY date)) AS first
FROM daily_usage_cache \gset
SELECT count(*) AS rebuilt_again FROM ducache_rebuild('2025-10-13', '2025-10-16');
SELECT md5(string_agg(concat_ws('|', aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics), '#' ORDER BY date)) = :'first' AS same_rows
FROM daily_usage_cache;
-- With statistics the api-keys table (6 rows for the range's 4 hashes) is read whole and the
-- rows of other hashes skipped (core/lookup_rule.hpp): the same rows again.
INSERT INTO rb.api_keys VALUES ('k-elsewhere-1', '7a2d3c4b-1e5f-4a6b-8c9d-0e1f2a3b4c5d', 'other'),
    ('k-elsewhere-2', '6f1c2b3a-0d4e-4f5a-9b8c-7d6e5f4a3b2c', 'other');
ANALYZE rb.api_keys;
SELECT count(*) AS rebuilt_whole_table FROM ducache_rebuild('2025-10-13', '2025-10-16');
SELECT md5(string_agg(concat_ws('|', aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics), '#' ORDER BY date)) = :'first' AS same_rows_whole_table
FROM daily_usage_cache;
DELETE FROM rb.api_keys WHERE key_hash LIKE 'k-elsewhere-%';

-- Bad raw data: an ERROR naming the date and the path, and nothing is rewritten.
UPDATE daily_usage_cache SET raw_data = jsonb_set(raw_data, '{breakdown,models,llama-3.1-8b,api_keys}', '"oops"')
WHERE date = '2025-10-15';
SELECT ducache_test.error_of($$SELECT * FROM ducache_rebuild('2025-10-13', '2025-10-16')$$);
UPDATE daily_usage_cache SET raw_data = '[1]' WHERE date = '2025-10-15';
SELECT ducache_test.error_of($$SELECT * FROM ducache_rebuild('2025-10-13', '2025-10-16')$$);
UPDATE daily_usage_cache SET raw_data = jsonb_set(raw_data, '{breakdown,models,granite-3.1-8b-instruct,api_keys,k-ada-1,metrics,api_requests}', '"many"')
WHERE date = '2025-10-14';
SELECT ducache_test.error_of($$SELECT * FROM ducache_rebuild('2025-10-14', '2025-10-14')$$);
SELECT md5(string_agg(concat_ws('|', aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics), '#' ORDER BY date)) = :'first' AS nothing_rewritten
FROM daily_usage_cache;
SELECT ducache_test.error_of($$SELECT * FROM ducache_rebuild('2025-10-16', '2025-10-13')$$);

-- An api-keys setting that names nothing is an ERROR; the default simply being absent maps no key.
SET ducache.api_keys_table = 'rb.missing';
SELECT ducache_test.error_of($$SELECT * FROM ducache_rebuild('2025-10-13', '2025-10-13')$$);
RESET ducache.api_keys_table;
SELECT * FROM ducache_rebuild('2025-10-13', '2025-10-13');
SELECT jsonb_object_keys(aggregated_by_user) AS only_unknown FROM daily_usage_cache WHERE date = '2025-10-13';

-- More days than one write batch holds (8): every batch is written, memory contexts survive.
INSERT INTO daily_usage_cache (date, raw_data)
SELECT date '2025-11-01' + i, jsonb_build_object('breakdown', jsonb_build_object('models', jsonb_build_object(
           'm', jsonb_build_object('metrics', jsonb_build_object('api_requests', i),
                                   'api_keys', jsonb_build_object('k-grace', rb.key_entry(i + 1, 'grace'))))))
FROM generate_series(0, 19) AS i;
SELECT count(*) AS days_rebuilt, sum(users) AS user_entries FROM ducache_rebuild('2025-11-01', '2025-11-30');
SELECT total_requests = (SELECT sum(i + 1) FROM generate_series(0, 19) AS i) AS all_batches_written, active_days
FROM ducache_user_breakdown('2025-11-01', '2025-11-30');

RESET ducache.users_table;
DROP SCHEMA rb CASCADE;
TRUNCATE daily_usage_cache;
