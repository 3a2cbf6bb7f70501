-- The dashboard and filter-options documents built as jsonb (round 8): ducache_dashboard and
-- ducache_filter_options write their document into a sink that builds the jsonb directly
-- (pg/rollup_jsonb.cpp), no JSON text. Every document must be byte for byte what jsonb_in makes
-- of the core's JSON text (the path before; a DUCACHE_TEST_HOOKS build takes it when
-- ducache.test_json_text is on): key order, escapes, non-ASCII and empty strings, numeric
-- scales (costs, trends, the successRate real), counts past 2^53, nulls, empty objects and
-- arrays. On one node, days and rollups (the coordinator: test/shell/scale_out*.sh and
-- bench/document_md5.sh). Own rows (the cache emptied first and last); needs 00_setup.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ducache;
TRUNCATE daily_usage_cache;
DELETE FROM ducache_rollups;
DELETE FROM ducache_rollup_changes;
DELETE FROM ducache_rollup_blocks;
\set ECHO none
\i test/reference/rollups_fixture.sql
RESET client_min_messages;
\set ECHO all

-- A jsonb value's bytes (byteasend returns its argument's varlena, detoasted): equal bytes,
-- not jsonb equality, which takes 0.30 for 0.3.
CREATE FUNCTION pg_temp.bytes(jsonb) RETURNS bytea LANGUAGE internal IMMUTABLE STRICT AS 'byteasend';
-- One call's document built (the default) and through jsonb_in of its text.
CREATE FUNCTION pg_temp.both(call text, OUT built jsonb, OUT parsed jsonb) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('ducache.test_json_text', 'off', true);
    EXECUTE 'SELECT ' || call INTO built;
    PERFORM set_config('ducache.test_json_text', 'on', true);
    EXECUTE 'SELECT ' || call INTO parsed;
    PERFORM set_config('ducache.test_json_text', 'off', true);
END $$;
-- One call both ways (with the key sort of the built path disabled, every document of this
-- test differs: checked once by hand).
SELECT pg_temp.bytes(built) = pg_temp.bytes(parsed) AS same_bytes FROM pg_temp.both($$ducache_filter_options('2025-02-01', '2025-02-28')$$);

-- May, every day cached, and on three of its days strings JSON text must escape, non-ASCII and
-- empty keys and strings, counts past 2^53, costs of many digits, failed requests (successRate).
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics)
SELECT g.* FROM generate_series(0, 30) AS d, LATERAL litemaas_ref.gen_day(10, d, date '2025-05-01', false) AS g;
UPDATE daily_usage_cache SET
  aggregated_by_user = aggregated_by_user || jsonb_build_object(
    E'quote"back\\slash\nnew\ttab\u0001ctl', jsonb_build_object(
        'username', E'na"me\\\u001f', 'email', 'é@ü.example', 'role', '',
        'metrics', litemaas_ref.metrics(9007199254740993, 3000000000, 7, 0.000000000000000001, 3000000000000000),
        'models', jsonb_build_object(
            '', jsonb_build_object('metrics', litemaas_ref.metrics(8191, 1, 2, 12345678901234567890.123, 1),
                                   'api_keys', jsonb_build_object(
                                       'k😀', jsonb_build_object('keyAlias', 'k😀', 'keyName', E'tab\there',
                                                                'metrics', litemaas_ref.metrics(8192, 0, 0, 12345678901234567890.10, 0)),
                                       'k', jsonb_build_object('keyAlias', '', 'metrics', litemaas_ref.metrics(2, 0, 0, 0, 0)))),
            'mödel "x"', jsonb_build_object('metrics', litemaas_ref.metrics(1, 0, 0, 2.500, 0)))),
    'Ä', jsonb_build_object('totalRequests', extract(day FROM date)::int, 'totalCost', 2.50)),
  aggregated_by_model = aggregated_by_model || jsonb_build_object(
    'mödel "x"', jsonb_build_object('provider', E'prov\\"ider', 'metrics', litemaas_ref.metrics(1, 0, 0, 2.500, 0),
                                    'users', jsonb_build_object(E'quote"back\\slash\nnew\ttab\u0001ctl',
                                                                jsonb_build_object('username', E'na"me\\\u001f'))),
    '', jsonb_build_object('metrics', litemaas_ref.metrics(8191, 1, 2, 12345678901234567890.123, 1)))
WHERE date BETWEEN '2025-05-10' AND '2025-05-12';

-- Every call: ranges (a month of rollups, whole and part months, a day, the first day, no day
-- cached, a day of no usage) x filters (none; users, models, providers, keys, hostile ones
-- included; a filter nothing passes), and the filter options of each range.
CREATE TEMP TABLE calls AS
SELECT format('ducache_dashboard(%L, %L, %L)', r.s, r.e, f.f) AS call
FROM (VALUES ('2025-01-20', '2025-05-31'), ('2025-05-01', '2025-05-31'), ('2025-05-11', '2025-05-11'),
             ('2025-02-01', '2025-03-31'), ('2025-01-20', '2025-01-20'), ('2024-01-01', '2024-01-31'),
             ('2025-03-15', '2025-03-15'), ('2025-05-09', '2025-05-13')) AS r(s, e),
     (VALUES ('{}'), (jsonb_build_object('userIds', jsonb_build_array(E'quote"back\\slash\nnew\ttab\u0001ctl', litemaas_ref.user_id(3)))::text),
             (jsonb_build_object('userIds', jsonb_build_array(litemaas_ref.user_id(1)))::text),
             ('{"modelIds": ["mödel \"x\"", "", "gpt-4o"]}'), ('{"providerIds": ["prov\\\"ider", "openai"]}'),
             ('{"providerIds": ["mistralai"]}'), ('{"apiKeyIds": ["k😀", "k"]}'),
             (jsonb_build_object('apiKeyIds', '["u1-ci", "team-shared"]'::jsonb, 'modelIds', '["gpt-4o"]'::jsonb)::text),
             ('{"userIds": ["nobody"]}')) AS f(f)
UNION ALL
SELECT format('ducache_filter_options(%L, %L)', s, e)
FROM (VALUES ('2025-01-20', '2025-05-31'), ('2025-05-10', '2025-05-12'), ('2025-03-15', '2025-03-15'),
             ('2024-01-01', '2024-01-31')) AS r(s, e);

CREATE TEMP VIEW compared AS
SELECT count(*) AS calls,
       count(*) FILTER (WHERE pg_temp.bytes(b.built) IS DISTINCT FROM pg_temp.bytes(b.parsed)) AS differing,
       count(*) FILTER (WHERE b.built IS NULL) AS null_documents,
       sum(octet_length(pg_temp.bytes(b.built))) > 100000 AS has_bytes
FROM calls, LATERAL pg_temp.both(calls.call) AS b;

-- On the days.
SET ducache.use_rollups = off;
SELECT * FROM compared;
-- On rollups (months and blocks; April is_complete = false on a day: days).
RESET ducache.use_rollups;
SELECT count(*) > 0 AS refreshed FROM ducache_refresh_rollups(NULL, NULL);
SELECT * FROM compared;
-- Rollups were read: a tampered May rollup shows through (until a write to May rebuilds it).
SET ducache.use_rollups = off;
SELECT (ducache_dashboard('2025-05-01', '2025-05-31')->>'totalRequests')::bigint AS may_requests \gset
RESET ducache.use_rollups;
UPDATE ducache_rollups
SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(3), 'metrics', 'totalRequests'],
        to_jsonb((aggregated_by_user #>> ARRAY[litemaas_ref.user_id(3), 'metrics', 'totalRequests'])::bigint + 1000000))
WHERE month = '2025-05-01';
SELECT (ducache_dashboard('2025-05-01', '2025-05-31')->>'totalRequests')::bigint - :may_requests AS tampered_requests_added;
SELECT * FROM compared;
UPDATE daily_usage_cache SET cached_at = cached_at WHERE date = '2025-05-02';
SELECT count(*) > 0 AS refreshed FROM ducache_refresh_rollups('2025-05-01', '2025-05-31');
SELECT (ducache_dashboard('2025-05-01', '2025-05-31')->>'totalRequests')::bigint - :may_requests AS after_refresh_added;

-- What the documents hold, against plain SQL: the hostile strings, the big count, the exact cost
-- text, the successRate real (the double PostgreSQL's float8 prints as "%.15g" with
-- extra_float_digits = 0, that text as numeric), an empty object and null.
SET extra_float_digits = 0;
WITH d AS (SELECT ducache_dashboard('2025-05-10', '2025-05-12', '{"userIds": ["quote\"back\\slash\nnew\ttab\u0001ctl"]}') AS j),
     r AS (SELECT sum((u.value->'metrics'->>'api_requests')::bigint) AS req,
                  sum((u.value->'metrics'->>'successful_requests')::bigint) AS ok
           FROM daily_usage_cache c, jsonb_each(c.aggregated_by_user) u
           WHERE c.date BETWEEN '2025-05-10' AND '2025-05-12' AND u.key = E'quote"back\\slash\nnew\ttab\u0001ctl')
SELECT j->'topMetrics'->'topUser'->>'username' = E'na"me\\\u001f' AS username_equal,
       j->'topMetrics'->'topUser'->>'email' AS email, j->'topMetrics'->'topUser'->'role' AS role,
       (j->>'totalRequests')::bigint = req AS requests_equal, req > 2^53 AS past_2_53,
       j->'totalCost'->'byModel'->'' AS empty_model_cost,
       j->'successRate' AS success_rate,
       pg_temp.bytes(j->'successRate') = pg_temp.bytes(to_jsonb((ok::float8 * 100 / req::float8)::text::numeric)) AS rate_bytes_equal,
       j->'topMetrics'->'topApiKey' AS top_key
FROM d, r;
RESET extra_float_digits;
SELECT ducache_dashboard('2024-01-01', '2024-01-31', '{"userIds": ["nobody"]}')->'totalCost' AS empty_cost,
       ducache_dashboard('2024-01-01', '2024-01-31')->'topMetrics' AS empty_top;

DROP VIEW compared;
DROP TABLE calls;
TRUNCATE daily_usage_cache;
DELETE FROM ducache_rollups;
DELETE FROM ducache_rollup_changes;
DELETE FROM ducache_rollup_blocks;
