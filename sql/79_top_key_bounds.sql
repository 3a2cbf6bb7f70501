-- The unfiltered dashboard's top API key from per-user bounds (docs/rollups.md "Round 11",
-- core/key_bounds.hpp, pg/dashboard_top_key.cpp): user_totals' "~keycost"/"~keymag" bound each
-- user's pairs, and only the users whose bound reaches the best exact cost found have their
-- key_totals pairs summed. On generated days 2026-01-01 .. 2026-03-20 (the last one incomplete:
-- "today"), for scenarios of costs (flat with ties, a user whose second key wins, negative
-- costs, every cost negative, equal totals at the top), every ducache_dashboard over ranges
-- made of months, blocks, day projections and leftover day rows is byte-identical to the same
-- call with ducache.use_rollups = off (the days, read as before). Then tampered projections:
-- a row without the members (before or after rows kept aside) still gives the days' answer;
-- bounds set to 0 change the answer (so the bounds are what the call reads).
-- Own rows: the cache is emptied first and last.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
DELETE FROM daily_usage_cache;
TRUNCATE ducache_rollups, ducache_rollup_blocks, ducache_rollup_days, ducache_rollup_changes;

-- A cell's metrics; cost as numeric text.
CREATE FUNCTION pg_temp.m(r int, cost numeric) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('totalRequests', r, 'totalTokens', r * 100, 'promptTokens', r * 60,
                              'completionTokens', r * 40, 'successfulRequests', r - 1, 'failedRequests', 1,
                              'totalCost', cost)
$$;
-- The cost of user u's key k on day d in scenario s.
CREATE FUNCTION pg_temp.cost(s int, u int, k int, d int) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE s
        WHEN 1 THEN 0.10                                               -- flat: every pair ties by day
        WHEN 2 THEN CASE WHEN u = 2 AND k = 2 THEN 0.2001 ELSE 0.10 END  -- user 2's second key wins (k1 has two models)
        WHEN 3 THEN CASE WHEN (u + k + d) % 4 = 0 THEN -0.35 ELSE round(0.01 * ((u * 7 + k * 3 + d) % 11), 2) END
        WHEN 4 THEN -0.01 * (1 + (u + k + d) % 5)                      -- every cost negative
        ELSE CASE WHEN u IN (2, 5) AND k = 1 THEN 0.25 ELSE 0.05 * ((u + d) % 3) END  -- equal totals at the top
    END
$$;
-- Scenario s's days: 8 users (user 8 without keys), keys k1..k3 (user u has u % 3 + 1 of them),
-- two models; requests vary (negative on some cells in scenario 3).
CREATE FUNCTION pg_temp.load(s int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM daily_usage_cache;
    INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider)
    SELECT date '2026-01-01' + d,
           (SELECT jsonb_object_agg('user-' || u, jsonb_build_object(
                'username', 'name' || u, 'metrics', pg_temp.m(10 * u, 1),
                'models', CASE WHEN u = 8 THEN jsonb_build_object('m1', jsonb_build_object('metrics', pg_temp.m(3, 0.5)))
                          ELSE (SELECT jsonb_object_agg(mo, jsonb_build_object('metrics', pg_temp.m(5, 1),
                                   'api_keys', (SELECT jsonb_object_agg('k' || k, jsonb_build_object('keyName', 'key ' || k,
                                        'metrics', pg_temp.m(CASE WHEN s = 3 AND (u + d) % 7 = 0 THEN -2 ELSE 1 + (u * k + d) % 4 END,
                                                             pg_temp.cost(s, u, k, d))))
                                                FROM generate_series(1, u % 3 + 1) k WHERE mo = 'm1' OR k <> 2)))
                                FROM unnest(ARRAY['m1', 'm2']) mo) END))
            FROM generate_series(1, 8) u WHERE (u + d) % 9 <> 0),
           jsonb_build_object('m1', jsonb_build_object('metrics', pg_temp.m(50, 5)), 'm2', jsonb_build_object('metrics', pg_temp.m(40, 4))),
           '{}'
    FROM generate_series(0, 78) d;
    UPDATE daily_usage_cache SET is_complete = false WHERE date = '2026-03-20';
    PERFORM count(*) FROM ducache_refresh_rollups('2026-01-01', '2026-03-31');
END $$;
-- Ranges: a month; months + blocks + projections + today's incomplete day; blocks and
-- projections; projections only; a range starting mid-month.
CREATE TEMP TABLE ranges (s date, e date);
INSERT INTO ranges VALUES ('2026-01-01', '2026-01-31'), ('2026-01-01', '2026-03-20'), ('2026-02-05', '2026-03-19'),
                          ('2026-03-02', '2026-03-05'), ('2026-01-17', '2026-02-28');
CREATE FUNCTION pg_temp.compare(label text) RETURNS TABLE (scenario text, ranges bigint, identical bigint, top_key_users text)
LANGUAGE sql AS $$
    SELECT label, count(*), count(*) FILTER (WHERE on_text = off_text),
           string_agg(DISTINCT (on_doc -> 'topMetrics' -> 'topApiKey' ->> 'userId') || '/' ||
                      (on_doc -> 'topMetrics' -> 'topApiKey' ->> 'keyAlias'), ' ')
    FROM (SELECT d::text AS on_text, d AS on_doc,
                 ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L)::text', r.s, r.e)) AS off_text
          FROM ranges r, LATERAL ducache_dashboard(r.s, r.e) d) x
$$;

-- The rows read carry the members.
SELECT pg_temp.load(1);
SELECT (SELECT count(*) FROM ducache_rollups WHERE built) AS months,
       (SELECT count(*) FROM ducache_rollup_blocks WHERE built) AS blocks,
       (SELECT count(*) FROM ducache_rollup_days WHERE built) AS projections,
       (SELECT count(*) FROM ducache_rollup_days p, jsonb_each(p.user_totals) u
        WHERE p.built AND NOT (u.value ? '~keycost' AND u.value ? '~keymag')) AS projection_entries_without_members;
SELECT * FROM pg_temp.compare('flat');
SELECT pg_temp.load(2);
SELECT * FROM pg_temp.compare('second key wins');
SELECT pg_temp.load(3);
SELECT * FROM pg_temp.compare('negative costs and counts');
SELECT pg_temp.load(4);
SELECT * FROM pg_temp.compare('every cost negative');
SELECT pg_temp.load(5);
SELECT * FROM pg_temp.compare('equal totals at the top');
-- The rounds of the two-pass read (docs/rollups.md "Round 12"): one user summed in pass 2 (the
-- tie at the top needs pass 3), a probe budget of 1 and 0 (every user not probed summed in full,
-- another read): the same documents.
SET ducache.test_top_key_first = 1;
SELECT * FROM pg_temp.compare('equal totals, 1 user in pass 2');
SET ducache.test_top_key_max = 1;
SELECT * FROM pg_temp.compare('equal totals, probe budget 1');
SET ducache.test_top_key_max = 0;
SELECT * FROM pg_temp.compare('equal totals, probe budget 0');
RESET ducache.test_top_key_first;
RESET ducache.test_top_key_max;

-- Leftover day rows: a write to a day (its month, block and projection no longer fresh, no
-- refresh) makes the ranges over it read day rows beside the rollups.
UPDATE daily_usage_cache SET aggregated_by_user = jsonb_set(aggregated_by_user, '{user-4,models,m1,api_keys,k1,metrics,totalCost}', '3.5')
WHERE date = '2026-01-20';
SELECT * FROM pg_temp.compare('a day row left over');
SELECT pg_temp.load(2);

-- Tampered projections (no change logged): a row without the members, early in the range and
-- late (the call runs again without bounds), still give the days' answer.
UPDATE ducache_rollup_days SET user_totals = (SELECT jsonb_object_agg(key, value - '~keycost' - '~keymag') FROM jsonb_each(user_totals))
WHERE day IN ('2026-03-02', '2026-03-18');
-- (the packs as the refresh derives them from such user_totals: the dashboard reads those)
UPDATE ducache_rollup_days SET user_pack = ducache_user_pack(user_totals) WHERE day IN ('2026-03-02', '2026-03-18');
SELECT * FROM pg_temp.compare('projections without the members');
-- One entry without them.
SELECT pg_temp.load(2);
UPDATE ducache_rollup_days SET user_totals = jsonb_set(user_totals, '{user-3}', (user_totals -> 'user-3') - '~keymag')
WHERE day = '2026-03-04';
UPDATE ducache_rollup_days SET user_pack = ducache_user_pack(user_totals) WHERE day = '2026-03-04';
SELECT * FROM pg_temp.compare('an entry without the members');
-- Bounds set to 0 in every projection: the ranges read from projections only change their top
-- key (the bounds are what the call reads), the others not.
SELECT pg_temp.load(2);
UPDATE ducache_rollup_days SET user_totals = (SELECT jsonb_object_agg(key, jsonb_set(value, '{~keycost}', '0')) FROM jsonb_each(user_totals));
UPDATE ducache_rollup_days SET user_pack = ducache_user_pack(user_totals);
SELECT r.s, r.e, ducache_dashboard(r.s, r.e)::text = ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L)::text', r.s, r.e)) AS same
FROM ranges r ORDER BY r.s, r.e;

-- key_totals as pass 2 reads it, tampered in the day projections (no trigger there; no change
-- logged). A refused value in the top user's pairs: read, so the full walk's error and then the
-- days' answer. NULL beside user_totals: the full walk's 22023, then the days. A valid but wrong
-- cost in the pairs of a user that is not probed (one user in pass 2): not read, the days'
-- answer; with a probe budget of 0 every pair is summed and the tampered one wins in the ranges
-- that read projections (so it is there to be read).
SELECT pg_temp.load(2);
UPDATE ducache_rollup_days SET key_totals = jsonb_set(key_totals, '{user-2,k2,metrics,totalRequests}', '"many"');
SELECT * FROM pg_temp.compare('a refused value in the top pair');
UPDATE ducache_rollup_days SET key_totals = NULL WHERE day = '2026-03-04';
SELECT * FROM pg_temp.compare('a projection without key totals');
SELECT pg_temp.load(2);
UPDATE ducache_rollup_days SET key_totals = jsonb_set(key_totals, '{user-1,k1,metrics,totalCost}', '1000');
SET ducache.test_top_key_first = 1;
SELECT * FROM pg_temp.compare('a wrong cost, user not probed');
SET ducache.test_top_key_max = 0;
SELECT * FROM pg_temp.compare('a wrong cost, every pair summed');
RESET ducache.test_top_key_first;
RESET ducache.test_top_key_max;

DELETE FROM daily_usage_cache;
SELECT count(*) >= 0 AS refreshed FROM ducache_refresh_rollups('2026-01-01', '2026-03-31');
SELECT (SELECT count(*) FROM ducache_rollups WHERE built) + (SELECT count(*) FROM ducache_rollup_days WHERE built) AS rollups_left;
