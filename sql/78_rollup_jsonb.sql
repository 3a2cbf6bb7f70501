-- Rollups written as built jsonb (issue 15): the refresh hands its UPDATE jsonb datums it
-- builds itself (pg/rollup_jsonb.cpp), no JSON text. Every column of every month rollup and
-- day block must be byte for byte what PostgreSQL's jsonb_in makes of the builder's JSON text
-- (the path before: ducache_test_rollup_text gives that text, a DUCACHE_TEST_HOOKS build):
-- key order, repeated keys, escapes, non-ASCII, numeric scales and big counts. Own rows (the
-- cache emptied first and last); needs 00_setup and the extension.
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

CREATE FUNCTION ducache_test_rollup_text(date, date) RETURNS text[]
    AS 'ducache', 'ducache_test_rollup_text' LANGUAGE C STRICT;
-- A jsonb value's bytes (byteasend returns its argument's varlena, detoasted): equal bytes,
-- not jsonb equality, which takes 0.30 for 0.3.
CREATE FUNCTION pg_temp.bytes(jsonb) RETURNS bytea LANGUAGE internal IMMUTABLE STRICT AS 'byteasend';
SELECT '{"a": 0.30}'::jsonb = '{"a": 0.3}'::jsonb AS jsonb_equal,
       pg_temp.bytes('{"a": 0.30}') = pg_temp.bytes('{"a": 0.3}') AS bytes_equal,
       pg_temp.bytes('{"b": 1, "a": 2}') = pg_temp.bytes('{"a": 2, "b": 1}') AS key_order_is_jsonb_s;

-- May, every day cached ("~days" masks up to 2^31 - 1), and on three of its days strings JSON
-- text must escape, non-ASCII and empty keys, keys of many lengths, counts past 2^53 and costs
-- of many digits.
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics)
SELECT g.* FROM generate_series(0, 30) AS d, LATERAL litemaas_ref.gen_day(10, d, date '2025-05-01', false) AS g;
UPDATE daily_usage_cache SET
  aggregated_by_user = aggregated_by_user || jsonb_build_object(
    E'quote"back\\slash\nnew\ttab\u0001ctl', jsonb_build_object(
        'username', E'na"me\\', 'email', 'é@ü.example', 'role', '',
        'metrics', litemaas_ref.metrics(9007199254740993, 3000000000, 7, 0.000000000000000001, 1),
        'models', jsonb_build_object(
            '', jsonb_build_object('metrics', litemaas_ref.metrics(8191, 1, 2, 12345678901234567890.123, 0),
                                   'api_keys', jsonb_build_object(
                                       'k😀', jsonb_build_object('keyAlias', 'k😀', 'keyName', E'tab\there',
                                                                'metrics', litemaas_ref.metrics(8192, 0, 0, 1.10, 0)),
                                       'k', jsonb_build_object('keyAlias', '', 'metrics', litemaas_ref.metrics(2, 0, 0, 0, 0)))),
            'mödel "x"', jsonb_build_object('metrics', litemaas_ref.metrics(1, 0, 0, 2.500, 0)))),
    'Ä', jsonb_build_object('totalRequests', extract(day FROM date)::int, 'totalCost', 2.50)),
  aggregated_by_model = aggregated_by_model || jsonb_build_object(
    'mödel "x"', jsonb_build_object('provider', E'prov\\"ider', 'metrics', litemaas_ref.metrics(1, 0, 0, 2.500, 0),
                                    'users', jsonb_build_object(E'quote"back\\slash\nnew\ttab\u0001ctl',
                                                                jsonb_build_object('username', E'na"me\\'))),
    '', jsonb_build_object('metrics', litemaas_ref.metrics(8191, 1, 2, 12345678901234567890.123, 0)))
WHERE date BETWEEN '2025-05-10' AND '2025-05-12';

SELECT month, action FROM ducache_refresh_rollups(NULL, NULL) ORDER BY month;

-- Every built month and block, every column: the stored bytes against jsonb_in of the text.
CREATE TEMP VIEW compared AS
WITH r AS (
    SELECT 'month ' || month AS what, days, aggregated_by_user, aggregated_by_model, aggregated_by_provider,
           providers_derived, models_unprovided, daily,
           ducache_test_rollup_text(month, (month + interval '1 month - 1 day')::date) AS t
    FROM ducache_rollups WHERE built
    UNION ALL
    SELECT 'block ' || block, days, aggregated_by_user, aggregated_by_model, aggregated_by_provider,
           providers_derived, models_unprovided, daily, ducache_test_rollup_text(block, last_day)
    FROM ducache_rollup_blocks WHERE built)
SELECT r.what, r.days,
       count(c.stored) AS documents,
       coalesce(sum(octet_length(pg_temp.bytes(c.stored))), 0) > 0 AS has_bytes,
       array_agg(c.name ORDER BY c.i) FILTER (WHERE pg_temp.bytes(c.stored) IS DISTINCT FROM pg_temp.bytes(r.t[c.i]::jsonb))
           AS differing
FROM r, LATERAL (VALUES (1, 'aggregated_by_user', r.aggregated_by_user), (2, 'aggregated_by_model', r.aggregated_by_model),
                        (3, 'aggregated_by_provider', r.aggregated_by_provider), (4, 'providers_derived', r.providers_derived),
                        (5, 'models_unprovided', r.models_unprovided), (6, 'daily', r.daily)) AS c(i, name, stored)
GROUP BY r.what, r.days;
SELECT * FROM compared ORDER BY what;

-- The hostile entries are in May's rollup, as plain SQL has them (a sum and the strings).
SELECT aggregated_by_user -> E'quote"back\\slash\nnew\ttab\u0001ctl' -> 'metrics' ->> 'totalRequests' AS requests,
       aggregated_by_user -> E'quote"back\\slash\nnew\ttab\u0001ctl' ->> 'username' AS username,
       aggregated_by_user #>> ARRAY[E'quote"back\\slash\nnew\ttab\u0001ctl', 'models', '', 'api_keys', 'k😀', 'keyName'] AS key_name,
       aggregated_by_model #>> ARRAY['mödel "x"', 'provider'] AS provider,
       aggregated_by_user #>> ARRAY['Ä', 'metrics', 'totalCost'] AS a_cost,
       (SELECT 3 * 9007199254740993) AS plain_requests
FROM ducache_rollups WHERE month = '2025-05-01';

-- Rewritten in place: a change to one block's day, then the refresh (the blocks' UPDATE path).
UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user || '{"late": {"totalRequests": 5, "totalCost": 0.05}}'
WHERE date IN ('2025-02-03', '2025-05-11', '2025-05-30');
SELECT month, action FROM ducache_refresh_rollups('2025-02-01', '2025-05-31') ORDER BY month;
SELECT * FROM compared WHERE differing IS NOT NULL;
SELECT count(*) AS compared, count(*) FILTER (WHERE documents >= 5 AND has_bytes) AS with_documents FROM compared;

DROP VIEW compared;
DROP FUNCTION ducache_test_rollup_text(date, date);
TRUNCATE daily_usage_cache;
DELETE FROM ducache_rollups;
DELETE FROM ducache_rollup_changes;
DELETE FROM ducache_rollup_blocks;
