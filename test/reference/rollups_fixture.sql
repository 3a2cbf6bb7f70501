-- The rollups fixture (issue 12, CONTRACT §7): LiteMaaS-shaped days over several months, with
-- what month rollups must reproduce exactly. 2025-01-20 .. 2025-04-05 (10 users, the
-- generator of litemaas_gen.sql) with, on top of what the generator already varies (users
-- absent some days, flat entries of user 8 on some days, keyName renamed from 2025-01-25,
-- aggregated_by_provider {} / NULL / non-empty by day, the Unknown User every 3rd day):
--   * gaps: 01-25, 02-10..12, 03-01 (a month's first day), 03-31 (its last day) are missing;
--   * 04-03 is_complete = false (April can get no rollup);
--   * 03-15 is cached with no usage at all ({} everywhere); 01-28 has aggregated_by_model NULL;
--   * own provider strings that change: mistral-7b-instruct 'mistralai' -> 'mistral' from
--     02-15 -> 'mistralai-v2' from 03-21; granite gets 'ibm' from 03-10; gpt-4o gets 'azure'
--     on 02-03 and a non-string provider (7) on 02-20 (not a provider);
--   * identity changes: user3 renamed (username and email) from 02-18; user1 admin -> user
--     from 03-12; user5's email absent from 03-20; user2's email JSON null on 02-27;
--   * keyName: u4-ci renamed from 02-05, and without keyName from 03-28;
--   * user9 flat (no models, no username) all February, while aggregated_by_model still lists
--     it with a username; user10 absent from aggregated_by_user all February;
--   * costs of various scales on a few cells: 1.30, 2, 0.000000000000000001, 123456789012.5;
--   * "~days" members (the rollups' own mask name) in day rows: 02-17 and 04-02, user1.
-- Plain SQL only; run from psql (\ir resolves beside this file).
--
-- Built once per database: the test command runs this file in ten regression files, and under
-- valgrind memcheck the build (the generator's INSERT and the UPDATEs below) takes ~65 s each
-- time. Where the database has schema ducache_test (sql/00_setup) and the extension, the first
-- file to include it keeps the finished rows of its dates, and the change-log rows its
-- statements logged, in ducache_test.rollups_fixture_days and ducache_test.rollups_fixture_changes;
-- a later file inserts those rows (one INSERT, in the same order) and then puts the same
-- change-log rows (month, block, day) in place of the ones that INSERT logged, so it starts
-- from the same day rows and the same log as if it had built them. Include this file in
-- autocommit mode (each statement its own transaction) with the fixture's dates absent: its
-- change-log rows are told apart by changed_at >= a clock_timestamp() taken first.
\ir litemaas_gen.sql
SELECT to_regclass('ducache_test.rollups_fixture_days') IS NOT NULL AS rollups_fixture_saved,
       to_regnamespace('ducache_test') IS NOT NULL AND to_regclass('ducache_rollup_changes') IS NOT NULL
           AS rollups_fixture_keep,
       clock_timestamp() AS rollups_fixture_t0 \gset
\if :rollups_fixture_saved
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model,
                               aggregated_by_provider, total_metrics, is_complete)
SELECT date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics, is_complete
FROM ducache_test.rollups_fixture_days ORDER BY n;
DELETE FROM ducache_rollup_changes WHERE changed_at >= :'rollups_fixture_t0';
INSERT INTO ducache_rollup_changes (month, block, day)
SELECT month, block, day FROM ducache_test.rollups_fixture_changes ORDER BY n;
\else
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model,
                               aggregated_by_provider, total_metrics)
SELECT g.* FROM generate_series(0, 75) AS d, LATERAL litemaas_ref.gen_day(10, d, date '2025-01-20', false) AS g
WHERE g.date NOT IN ('2025-01-25', '2025-02-10', '2025-02-11', '2025-02-12', '2025-03-01', '2025-03-31');

UPDATE daily_usage_cache SET is_complete = false WHERE date = '2025-04-03';
UPDATE daily_usage_cache SET aggregated_by_user = '{}', aggregated_by_model = '{}',
       aggregated_by_provider = NULL, total_metrics = '{}' WHERE date = '2025-03-15';
UPDATE daily_usage_cache SET aggregated_by_model = NULL WHERE date = '2025-01-28';

-- Own providers over time.
UPDATE daily_usage_cache
SET aggregated_by_model = jsonb_set(aggregated_by_model, '{mistral-7b-instruct,provider}',
        to_jsonb(CASE WHEN date >= '2025-03-21' THEN 'mistralai-v2' WHEN date >= '2025-02-15' THEN 'mistral'
                      ELSE 'mistralai' END))
WHERE aggregated_by_model ? 'mistral-7b-instruct';
UPDATE daily_usage_cache
SET aggregated_by_model = jsonb_set(aggregated_by_model, '{granite-3.1-8b-instruct,provider}', '"ibm"')
WHERE date >= '2025-03-10' AND aggregated_by_model ? 'granite-3.1-8b-instruct';
UPDATE daily_usage_cache
SET aggregated_by_model = jsonb_set(aggregated_by_model, '{gpt-4o,provider}',
        CASE WHEN date = '2025-02-03' THEN '"azure"'::jsonb ELSE '7'::jsonb END)
WHERE date IN ('2025-02-03', '2025-02-20') AND aggregated_by_model ? 'gpt-4o';

-- Identity over time (only where the entry is nested, i.e. carries a username).
UPDATE daily_usage_cache
SET aggregated_by_user = jsonb_set(jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(3), 'username'], '"user3.new"'),
                                   ARRAY[litemaas_ref.user_id(3), 'email'], '"user3.new@example.org"')
WHERE date >= '2025-02-18' AND aggregated_by_user -> litemaas_ref.user_id(3) ? 'username';
UPDATE daily_usage_cache
SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(1), 'role'], '"user"')
WHERE date >= '2025-03-12' AND aggregated_by_user -> litemaas_ref.user_id(1) ? 'role';
UPDATE daily_usage_cache
SET aggregated_by_user = aggregated_by_user #- ARRAY[litemaas_ref.user_id(5), 'email']
WHERE date >= '2025-03-20' AND aggregated_by_user ? litemaas_ref.user_id(5);
UPDATE daily_usage_cache
SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(2), 'email'], 'null')
WHERE date = '2025-02-27' AND aggregated_by_user -> litemaas_ref.user_id(2) ? 'email';

-- keyName of u4-ci: renamed, then absent.
UPDATE daily_usage_cache d
SET aggregated_by_user = jsonb_set(d.aggregated_by_user, ARRAY[litemaas_ref.user_id(4), 'models'],
        (SELECT jsonb_object_agg(m.key, CASE WHEN m.value -> 'api_keys' ? 'u4-ci' THEN
                    jsonb_set(m.value, '{api_keys,u4-ci}',
                              CASE WHEN d.date >= '2025-03-28' THEN (m.value -> 'api_keys' -> 'u4-ci') - 'keyName'::text
                                   ELSE jsonb_set(m.value -> 'api_keys' -> 'u4-ci', '{keyName}', '"CI of user4 (v2)"') END)
                    ELSE m.value END)
         FROM jsonb_each(d.aggregated_by_user -> litemaas_ref.user_id(4) -> 'models') m))
WHERE d.date >= '2025-02-05' AND jsonb_typeof(d.aggregated_by_user -> litemaas_ref.user_id(4) -> 'models') = 'object';

-- user9 flat all February; user10 absent from aggregated_by_user all February.
UPDATE daily_usage_cache
SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(9)],
        jsonb_build_object('totalRequests', aggregated_by_user -> litemaas_ref.user_id(9) -> 'metrics' -> 'api_requests',
                           'totalTokens', aggregated_by_user -> litemaas_ref.user_id(9) -> 'metrics' -> 'total_tokens',
                           'totalCost', aggregated_by_user -> litemaas_ref.user_id(9) -> 'metrics' -> 'spend'))
WHERE date BETWEEN '2025-02-01' AND '2025-02-28' AND aggregated_by_user ? litemaas_ref.user_id(9);
UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user - litemaas_ref.user_id(10)
WHERE date BETWEEN '2025-02-01' AND '2025-02-28';

-- Costs of other scales, at each level (the levels need not agree: each is summed on its own).
UPDATE daily_usage_cache
SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(2), 'metrics', 'spend'], '1.30')
WHERE date = '2025-02-07' AND aggregated_by_user -> litemaas_ref.user_id(2) ? 'metrics';
UPDATE daily_usage_cache d
SET aggregated_by_user = jsonb_set(d.aggregated_by_user, ARRAY[litemaas_ref.user_id(6), 'models', m.model, 'metrics', 'spend'], '2')
FROM (SELECT date, min(m.key) AS model FROM daily_usage_cache, jsonb_each(aggregated_by_user -> litemaas_ref.user_id(6) -> 'models') m
      WHERE date IN ('2025-01-30', '2025-03-05') GROUP BY date) m
WHERE d.date = m.date;
UPDATE daily_usage_cache
SET aggregated_by_model = jsonb_set(aggregated_by_model, '{gemini-1.5-pro,metrics,spend}', '0.000000000000000001')
WHERE date IN ('2025-02-02', '2025-03-18') AND aggregated_by_model ? 'gemini-1.5-pro';
UPDATE daily_usage_cache d
SET aggregated_by_user = jsonb_set(d.aggregated_by_user,
        ARRAY[litemaas_ref.user_id(7), 'models', k.model, 'api_keys', k.alias, 'metrics', 'spend'], '123456789012.5')
FROM (SELECT c.date, min(m.key) AS model, min(a.key) AS alias
      FROM daily_usage_cache c, jsonb_each(c.aggregated_by_user -> litemaas_ref.user_id(7) -> 'models') m,
           jsonb_each(m.value -> 'api_keys') a
      WHERE c.date IN ('2025-02-21', '2025-03-26') GROUP BY c.date) k
WHERE d.date = k.date;
UPDATE daily_usage_cache
SET aggregated_by_provider = jsonb_set(aggregated_by_provider, '{vllm,metrics,spend}', '0.50')
WHERE date = '2025-02-13' AND jsonb_typeof(aggregated_by_provider) = 'object' AND aggregated_by_provider ? 'vllm';

-- User data may hold any key: "~days" (the rollups' own day-mask member) in day rows, on a user
-- entry, a user-model cell and a key cell (02-17: February gets a rollup; 04-02: April does not).
UPDATE daily_usage_cache d
SET aggregated_by_user = jsonb_set(jsonb_set(d.aggregated_by_user, ARRAY[litemaas_ref.user_id(1), '~days'], '2147483647'),
        ARRAY[litemaas_ref.user_id(1), 'models', k.model],
        jsonb_set(d.aggregated_by_user -> litemaas_ref.user_id(1) -> 'models' -> k.model, ARRAY['api_keys', k.alias, '~days'], '"x"')
        || '{"~days": 0}')
FROM (SELECT c.date, min(m.key) AS model, min(a.key) AS alias
      FROM daily_usage_cache c, jsonb_each(c.aggregated_by_user -> litemaas_ref.user_id(1) -> 'models') m,
           jsonb_each(m.value -> 'api_keys') a
      WHERE c.date IN ('2025-02-17', '2025-04-02') GROUP BY c.date) k
WHERE d.date = k.date;

\if :rollups_fixture_keep
-- Kept for the later files of this database (see the top): the rows in their heap order, with
-- the table's columns and compression; a later file inserts all but cached_at (now() then, as
-- in a build's INSERT).
CREATE TABLE ducache_test.rollups_fixture_days (n bigint, LIKE daily_usage_cache INCLUDING COMPRESSION);
INSERT INTO ducache_test.rollups_fixture_days
SELECT row_number() OVER (ORDER BY ctid), * FROM daily_usage_cache WHERE date BETWEEN '2025-01-20' AND '2025-04-05';
CREATE TABLE ducache_test.rollups_fixture_changes AS
SELECT row_number() OVER (ORDER BY ctid) AS n, month, block, day
FROM ducache_rollup_changes WHERE changed_at >= :'rollups_fixture_t0';
\endif
\endif
