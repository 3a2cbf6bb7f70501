-- The user breakdown's parallel path (issue 13, src/pg/parallel_breakdown.hpp): with parallel
-- workers forced on, its rows equal plain SQL over the same days (sums, active days, last
-- active day, the latest identity in date order) in the same order; what only the date order
-- can judge (negative counts, errors, a sum passing bigint) gives the serial path's answer.
-- Own rows in 2040 (deleted at the end); needs 00_setup and the extension.
CREATE FUNCTION ducache_test_parallel_worker_days() RETURNS integer
    AS '$libdir/ducache', 'ducache_test_parallel_worker_days' LANGUAGE C;
CREATE FUNCTION ducache_test_partial_dsa_reads() RETURNS integer
    AS '$libdir/ducache', 'ducache_test_partial_dsa_reads' LANGUAGE C;
CREATE FUNCTION ducache_test_parallel_days_claimed() RETURNS integer
    AS '$libdir/ducache', 'ducache_test_parallel_days_claimed' LANGUAGE C;
CREATE FUNCTION ducache_test_parallel_leader_reads() RETURNS integer
    AS '$libdir/ducache', 'ducache_test_parallel_leader_reads' LANGUAGE C;
SET ducache.users_table = '';  -- identity from the entries only

-- 121 days, 40 users: odd users flat, even users nested; each active on its own rhythm;
-- identity that changes every 30 days and is missing on some days; costs with 0 to 9
-- decimals, some as strings; counts sometimes strings or null.
INSERT INTO daily_usage_cache (date, aggregated_by_user)
SELECT d::date,
       (SELECT jsonb_object_agg('user-' || u,
            CASE WHEN u % 2 = 1 THEN
                jsonb_build_object('totalRequests', CASE WHEN u % 9 = 0 THEN to_jsonb((i * u % 50)::text) ELSE to_jsonb(i * u % 50) END,
                                   'totalTokens', i * u * 7 % 9000, 'promptTokens', i * u * 3 % 5000,
                                   'completionTokens', CASE WHEN u % 7 = 0 THEN NULL ELSE i * u * 2 % 4000 END,
                                   'totalCost', CASE WHEN u % 11 = 0 THEN to_jsonb(round(i * u * 0.000123, 6)::text)
                                                     ELSE to_jsonb(round(i * u * 0.0001234567, u % 10)) END,
                                   'successfulRequests', i % 13, 'failedRequests', u % 3)
            ELSE
                jsonb_build_object('metrics', jsonb_build_object('api_requests', i * u % 70, 'total_tokens', i * u % 7000,
                                   'prompt_tokens', i % 100, 'completion_tokens', u % 100,
                                   'spend', round(i * u * 0.00000987654321, 9),
                                   'successful_requests', i * u % 60, 'failed_requests', i % 5),
                                   'models', jsonb_build_object('m' || (u % 3), jsonb_build_object('metrics', jsonb_build_object('api_requests', 1))))
            END
            || CASE WHEN i % 3 <> 0 THEN jsonb_build_object('username', 'name-' || u || '-' || (i / 30)) ELSE '{}' END
            || CASE WHEN u % 5 <> 0 AND i % 4 <> 1 THEN jsonb_build_object('email', 'u' || u || '-' || (i / 45) || '@x.example') ELSE '{}' END
            || CASE WHEN u % 4 = 0 THEN jsonb_build_object('role', CASE WHEN i % 2 = 0 THEN to_jsonb('role-' || (i / 20)) ELSE '7' END) ELSE '{}' END)
        FROM generate_series(1, 40) AS u WHERE (i + u) % (1 + u % 4) = 0)
FROM generate_series(date '2040-01-01', date '2040-04-30', interval '1 day') WITH ORDINALITY AS g(d, i)
WHERE d::date <> date '2040-02-14';  -- a day missing from the range
-- Analyzed: with statistics that have not seen these rows and the forced costs below, the
-- planner may gather the rows to the leader's aggregate instead of aggregating in the workers.
ANALYZE daily_usage_cache;

-- Plain SQL: jsonb_each + GROUP BY, aliases by COALESCE, identity the latest string by date.
-- Serial (its own max_parallel_workers_per_gather = 0): the settings below force workers on for
-- ducache's call, not for the reference (under valgrind each worker is one more process).
CREATE FUNCTION pg_temp.ref(s date, e date)
RETURNS TABLE (user_id text, username text, email text, role text, total_requests bigint,
               total_tokens bigint, prompt_tokens bigint, completion_tokens bigint,
               total_cost numeric, successful_requests bigint, failed_requests bigint,
               active_days integer, last_active date)
LANGUAGE sql STABLE SET max_parallel_workers_per_gather = 0 AS $$
    WITH x AS (SELECT c.date, j.key, j.value AS v,
                      CASE WHEN jsonb_typeof(j.value->'metrics') = 'object' THEN j.value->'metrics' ELSE j.value END AS m
               FROM daily_usage_cache AS c, jsonb_each(c.aggregated_by_user) AS j
               WHERE c.date BETWEEN s AND e)
    SELECT key,
           (array_agg(v->>'username' ORDER BY date DESC) FILTER (WHERE jsonb_typeof(v->'username') = 'string'))[1],
           (array_agg(v->>'email' ORDER BY date DESC) FILTER (WHERE jsonb_typeof(v->'email') = 'string'))[1],
           (array_agg(v->>'role' ORDER BY date DESC) FILTER (WHERE jsonb_typeof(v->'role') = 'string'))[1],
           COALESCE(sum(COALESCE(m->>'totalRequests', m->>'api_requests', m->>'requests')::numeric), 0)::bigint,
           COALESCE(sum(COALESCE(m->>'totalTokens', m->>'total_tokens', m->>'tokens')::numeric), 0)::bigint,
           COALESCE(sum(COALESCE(m->>'promptTokens', m->>'prompt_tokens')::numeric), 0)::bigint,
           COALESCE(sum(COALESCE(m->>'completionTokens', m->>'completion_tokens')::numeric), 0)::bigint,
           COALESCE(sum(COALESCE(m->>'totalCost', m->>'spend', m->>'cost')::numeric), 0),
           COALESCE(sum(COALESCE(m->>'successfulRequests', m->>'successful_requests')::numeric), 0)::bigint,
           COALESCE(sum(COALESCE(m->>'failedRequests', m->>'failed_requests')::numeric), 0)::bigint,
           count(DISTINCT date)::integer, max(date)
    FROM x GROUP BY key
$$;

-- Rows missing either way, rows, and whether the order (cost DESC, user_id in byte order)
-- matches; then the days the workers read (-1: the serial path ran). The reference is computed
-- once, after ducache's call (a temporary table, which no parallel plan reads).
CREATE FUNCTION pg_temp.check(s date, e date) RETURNS TABLE (missing int, extra int, n int, same_order boolean, worker_days int)
LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE got AS SELECT row_number() OVER () AS k, * FROM ducache_user_breakdown(s, e);
    worker_days := ducache_test_parallel_worker_days();
    CREATE TEMP TABLE want AS SELECT * FROM pg_temp.ref(s, e);
    SELECT count(*) INTO missing FROM (SELECT * FROM want EXCEPT ALL
        SELECT user_id, username, email, role, total_requests, total_tokens, prompt_tokens, completion_tokens,
               total_cost, successful_requests, failed_requests, active_days, last_active FROM got) a;
    SELECT count(*) INTO extra FROM (SELECT user_id, username, email, role, total_requests, total_tokens, prompt_tokens,
               completion_tokens, total_cost, successful_requests, failed_requests, active_days, last_active FROM got
        EXCEPT ALL SELECT * FROM want) b;
    SELECT count(*) INTO n FROM got;
    SELECT bool_and(g.user_id = r.user_id) INTO same_order
    FROM got AS g JOIN (SELECT row_number() OVER (ORDER BY total_cost DESC, user_id COLLATE "C") AS k, user_id
                        FROM want) AS r USING (k);
    DROP TABLE got, want;
    RETURN NEXT;
END $$;

-- Workers forced on: every plan cost of parallelism zero, the leader leaves the rows to them.
-- (No byte minimum either: these rows are a few KB; the minimum is tested below.)
SELECT ducache_test.force_workers(true);
SELECT missing, extra, n, same_order, worker_days > 0 AS workers_read_days FROM pg_temp.check('2040-01-01', '2040-04-30');
SELECT missing, extra, n, same_order, worker_days > 0 AS workers_read_days FROM pg_temp.check('2040-01-17', '2040-03-02');
SELECT missing, extra, n, same_order, worker_days > 0 AS workers_read_days FROM pg_temp.check('2039-12-01', '2040-01-05');
-- Round 14: each worker's partial comes through the query's shared memory (pg/partial_dsa.hpp),
-- only its address through the Gather's queue. The fallback, the bytes through the queue (as
-- when the area cannot take a partial: a test setting), gives the same rows.
SELECT missing, extra, n, same_order, worker_days > 0 AS workers_read_days,
       ducache_test_partial_dsa_reads() > 0 AS through_shared_memory FROM pg_temp.check('2040-01-01', '2040-04-30');
SET ducache.test_partial_bytes = on;
SELECT missing, extra, n, same_order, worker_days > 0 AS workers_read_days,
       ducache_test_partial_dsa_reads() AS through_shared_memory FROM pg_temp.check('2040-01-01', '2040-04-30');
RESET ducache.test_partial_bytes;
-- Round 18 (pg/day_claims.hpp): every participant scans the whole range and reads a day only if
-- it claims it first. Each day with a row is claimed once (plain SQL counts them: 2040-02-14 has
-- none), all by the workers here (the leader leaves the rows to them).
SELECT missing, extra, n, same_order, worker_days = r.days AS workers_read_every_day,
       ducache_test_parallel_days_claimed() = r.days AS each_day_claimed_once
FROM pg_temp.check('2040-01-01', '2040-04-30'),
     (SELECT count(*)::int AS days FROM daily_usage_cache WHERE date BETWEEN '2040-01-01' AND '2040-04-30') AS r;
-- A worker leaves the last days to the leader only when the leader reads every row: it reads
-- none here, so told to leave every day it can (a test setting), the workers still read them all.
SET ducache.test_worker_leaves_ms = 1000000;
SELECT missing, extra, n, same_order, worker_days = r.days AS workers_read_every_day,
       ducache_test_parallel_days_claimed() = r.days AS each_day_claimed_once,
       ducache_test_parallel_leader_reads() AS leader_reads, ducache_test_partial_dsa_reads() > 0 AS through_shared_memory
FROM pg_temp.check('2040-01-01', '2040-04-30'),
     (SELECT count(*)::int AS days FROM daily_usage_cache WHERE date BETWEEN '2040-01-01' AND '2040-04-30') AS r;
RESET ducache.test_worker_leaves_ms;
-- The query's fourth parameter names the claims; a query of the aggregate's own passing another
-- value fails in its workers, naming it (a serial read of its own would read every row: right).
CREATE TABLE rows78c AS SELECT date, aggregated_by_user FROM daily_usage_cache
WHERE date BETWEEN '2040-01-01' AND '2040-04-30';
ANALYZE rows78c;
PREPARE own78c(date, date, int8, int8) AS
SELECT octet_length(ducache_user_partial(aggregated_by_user, date, $1)) AS size FROM rows78c WHERE date BETWEEN $1 AND $2;
SELECT ducache_test.error_of($$EXECUTE own78c('2040-01-01', '2040-04-30', 0, 7238801291575570489)$$) AS own_claims;
DEALLOCATE own78c;
DROP TABLE rows78c;
-- The aggregate in a query of its own, workers forced (a copy of the rows, analyzed): they send
-- their bytes; with the breakdown's marker as its third parameter ("ducache" 0x01 as int8),
-- their partials through the shared memory of the plan's one Gather. The state's size is the
-- serial plan's either way (the keys' order may differ).
CREATE TABLE rows78 AS SELECT date, aggregated_by_user FROM daily_usage_cache
WHERE date BETWEEN '2040-01-01' AND '2040-04-30';
ANALYZE rows78;
SET max_parallel_workers_per_gather = 0;
SELECT octet_length(ducache_user_partial(aggregated_by_user, date, '2040-01-01')) AS serial_size FROM rows78 \gset
SET max_parallel_workers_per_gather = 2;
PREPARE own78(date, date, int8) AS
SELECT octet_length(ducache_user_partial(aggregated_by_user, date, $1)) AS size FROM rows78 WHERE date BETWEEN $1 AND $2;
EXPLAIN (COSTS OFF) EXECUTE own78('2040-01-01', '2040-04-30', 0);
EXECUTE own78('2040-01-01', '2040-04-30', 0) \gset plain_
SELECT :plain_size = :serial_size AS same_size, ducache_test_partial_dsa_reads() AS through_shared_memory;
EXECUTE own78('2040-01-01', '2040-04-30', 7238801245998703873) \gset marked_
SELECT :marked_size = :serial_size AS same_size, ducache_test_partial_dsa_reads() > 0 AS through_shared_memory;
DEALLOCATE own78;
DROP TABLE rows78;
-- Round 19: a worker that loads the library defines no settings and reads the leader's
-- (pg/settings.cpp: from_leader): the leader's allocation limit fails the workers' reading
-- (the error comes from a worker: the leader reads nothing here).
CREATE FUNCTION pg_temp.error_from_worker(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE msg text; ctx text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, ctx = PG_EXCEPTION_CONTEXT;
    RETURN CASE WHEN ctx ~ 'parallel worker' THEN 'from a worker: ' ELSE 'from the leader: ' END || msg;
END $$;
BEGIN;
SET LOCAL ducache.test_alloc_limit = 200;
SELECT regexp_replace(pg_temp.error_from_worker($$SELECT * FROM ducache_user_breakdown('2040-01-01', '2040-04-30')$$),
                      '[0-9]+ bytes', 'N bytes') AS worker_limit;
COMMIT;
-- A range with no rows: no rows (the aggregate's state is NULL).
SELECT missing, extra, n, worker_days FROM pg_temp.check('2041-01-01', '2041-06-30');
-- The leader taking part too.
RESET parallel_leader_participation;
SELECT missing, extra, n, same_order, worker_days >= 0 AS parallel_path FROM pg_temp.check('2040-01-01', '2040-04-30');
-- Its scan reads every row (no scan of the plan is parallel-aware: PostgreSQL gives the query's
-- sorted scans none), so it says so and its workers may leave it the last days: told to leave
-- every day they can, each reads a few at most and the leader the rest, each day once.
SET ducache.test_worker_leaves_ms = 1000000;
RESET min_parallel_table_scan_size;
RESET min_parallel_index_scan_size;
SELECT missing, extra, n, same_order, ducache_test_parallel_leader_reads() AS leader_reads,
       ducache_test_parallel_days_claimed() = r.days AS each_day_claimed_once
FROM pg_temp.check('2040-01-01', '2040-04-30'),
     (SELECT count(*)::int AS days FROM daily_usage_cache WHERE date BETWEEN '2040-01-01' AND '2040-04-30') AS r;
SET min_parallel_table_scan_size = 0;
SET min_parallel_index_scan_size = 0;
RESET ducache.test_worker_leaves_ms;
-- With the leader reading, no more readers than CPUs (core/parallel_rule.hpp): the query alone
-- may run with fewer workers; the session's setting is the same afterwards, also when the query
-- fails inside (its partial state past ducache.test_alloc_limit), and the next call works.
SHOW max_parallel_workers_per_gather;
BEGIN;
SET LOCAL ducache.test_alloc_limit = 200;
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2040-01-01', '2040-04-30')$$) ~ 'the user breakdown''s partial state' AS failed_inside;
SHOW max_parallel_workers_per_gather;
COMMIT;
SELECT missing, extra, n, same_order, worker_days >= 0 AS parallel_path FROM pg_temp.check('2040-01-01', '2040-04-30');
-- The serial path gives the same (and says so): the setting off, a range below it, no workers.
SET ducache.parallel_min_days = -1;
SELECT * FROM pg_temp.check('2040-01-01', '2040-04-30');
SET ducache.parallel_min_days = 200;
SELECT * FROM pg_temp.check('2040-01-01', '2040-04-30');
-- The default byte minimum (12 MB): a range of a few KB stays serial.
SET ducache.parallel_min_days = 2;
RESET ducache.parallel_min_kb;
SELECT * FROM pg_temp.check('2040-01-01', '2040-04-30');
SET ducache.parallel_min_kb = 0;
SET ducache.parallel_min_days = 2;
SET max_parallel_workers_per_gather = 0;
SELECT * FROM pg_temp.check('2040-01-01', '2040-04-30');
SET max_parallel_workers_per_gather = 2;
-- Round 13: with workers the output (the users table's lookup, the sort, the rows) runs inside
-- the partial query's final function. With a users table naming some of the users: the rows,
-- in order, equal the serial path's with the same table, and the table's names are there.
CREATE TABLE pg_temp.users78 (id text, username text, email text, role text);
INSERT INTO pg_temp.users78 SELECT 'user-' || u, 'table-name-' || u, 'table-' || u || '@x.example', 'table-role'
FROM generate_series(1, 40, 3) AS u;
SET ducache.users_table = 'pg_temp.users78';
SELECT md5(string_agg(t::text, '|' ORDER BY t.ordinality)) AS rows78,
       count(*) FILTER (WHERE t.username LIKE 'table-name-%' AND t.role = 'table-role') AS from_table78
FROM ducache_user_breakdown('2040-01-01', '2040-04-30') WITH ORDINALITY AS t \gset
SELECT ducache_test_parallel_worker_days() >= 0 AS parallel_path, :from_table78 AS from_table;
SET ducache.parallel_min_days = -1;
SELECT md5(string_agg(t::text, '|' ORDER BY t.ordinality)) = :'rows78' AS serial_same_rows_in_order
FROM ducache_user_breakdown('2040-01-01', '2040-04-30') WITH ORDINALITY AS t;
SELECT ducache_test_parallel_worker_days() AS serial_worker_days;
SET ducache.parallel_min_days = 2;
SET ducache.users_table = '';
DROP TABLE pg_temp.users78;
-- The whole call inside a parallel worker (force_parallel_mode): no nested workers, same rows.
SET force_parallel_mode = on;
SELECT missing, extra, n, same_order FROM pg_temp.check('2040-01-01', '2040-04-30');
RESET force_parallel_mode;

-- A negative count: sums could pass bigint in one order and not another, so the serial path
-- answers (exactly).
UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user || '{"user-neg": {"totalRequests": -5, "totalCost": 1}}'
WHERE date = '2040-03-03';
SET parallel_leader_participation = off;
SELECT * FROM pg_temp.check('2040-01-01', '2040-04-30');

-- Errors: the serial path's error, naming the first bad day in date order, whatever the
-- workers met first.
UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user || '{"user-bad": {"totalTokens": "many"}}'
WHERE date IN ('2040-02-20', '2040-04-20');
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2040-01-01', '2040-04-30')$$) AS parallel_error;
SELECT ducache_test_parallel_worker_days() AS worker_days;
SET ducache.parallel_min_days = -1;
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2040-01-01', '2040-04-30')$$) AS serial_error;
SET ducache.parallel_min_days = 2;
UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user - 'user-bad' - 'user-neg';

-- A count sum passing bigint only when partials from different days are added up.
UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user || '{"user-big": {"totalRequests": 9223372036854775000}}'
WHERE date IN ('2040-01-10', '2040-04-10');
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2040-01-01', '2040-04-30')$$) AS parallel_error;
SET ducache.parallel_min_days = -1;
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2040-01-01', '2040-04-30')$$) AS serial_error;
SET ducache.parallel_min_days = 2;
UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user - 'user-big';

-- A built rollup in the range: the months come from it (CacheScan), not from the workers.
SELECT count(*) > 0 AS refreshed FROM ducache_refresh_rollups('2040-02-01', '2040-02-29');
SELECT * FROM pg_temp.check('2040-01-01', '2040-04-30');
-- Outside that month the workers again.
SELECT missing, extra, n, same_order, worker_days > 0 AS workers_read_days FROM pg_temp.check('2040-03-01', '2040-04-30');

-- Round 14 of issue 13: flat entries of five members, "totalCost" first (the dense5 program,
-- which the workers read in a loop of their own), users active on every 3rd day in turns (three
-- key lists taking turns, each known from its second turn: core::KeyAggregator::known_keys);
-- then entries that loop does not take (in lists that stay known: a cost past 64 bits, another
-- layout, read by the other ways with their keys found; a key more in a list), and a negative
-- count (the serial path answers).
INSERT INTO daily_usage_cache (date, aggregated_by_user)
SELECT d::date, (SELECT jsonb_object_agg('k' || (u * 37 % 101), jsonb_build_object(
            'totalCost', round(i * u * 0.0001234, 6), 'totalTokens', i * u % 9000, 'promptTokens', i * u % 5000,
            'totalRequests', i + u, 'completionTokens', u))
        FROM generate_series(1, 60) AS u WHERE (u + i) % 3 = 0)
FROM generate_series(date '2042-01-01', date '2042-02-28', interval '1 day') WITH ORDINALITY AS g(d, i);
ANALYZE daily_usage_cache;
SELECT missing, extra, n, same_order, worker_days > 0 AS workers_read_days FROM pg_temp.check('2042-01-01', '2042-02-28');
UPDATE daily_usage_cache SET aggregated_by_user = jsonb_set(aggregated_by_user, '{k37,totalCost}', '98765432109876543210.5')
WHERE date BETWEEN '2042-01-10' AND '2042-02-20' AND aggregated_by_user ? 'k37';
UPDATE daily_usage_cache SET aggregated_by_user = jsonb_set(aggregated_by_user, '{k10}', '{"totalRequests": 3, "totalCost": 0.25}')
WHERE date BETWEEN '2042-01-10' AND '2042-02-20' AND aggregated_by_user ? 'k10';
UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user || CASE date
    WHEN '2042-01-21' THEN '{"k74": {"totalCost": 12345678901234567890.5, "totalTokens": 1, "promptTokens": 1, "totalRequests": 2, "completionTokens": 3}}'
    ELSE '{"k1": {"totalRequests": 3, "totalCost": 0.25}}' END::jsonb
WHERE date IN ('2042-01-21', '2042-01-22');
SELECT missing, extra, n, same_order, worker_days > 0 AS workers_read_days FROM pg_temp.check('2042-01-01', '2042-02-28');
UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user ||
    '{"k37": {"totalCost": 1.5, "totalTokens": 1, "promptTokens": 1, "totalRequests": -5, "completionTokens": 3}}'
WHERE date = '2042-02-02';
SELECT * FROM pg_temp.check('2042-01-01', '2042-02-28');
DELETE FROM daily_usage_cache WHERE date BETWEEN '2042-01-01' AND '2042-12-31';

DELETE FROM daily_usage_cache WHERE date BETWEEN '2040-01-01' AND '2040-12-31';
DELETE FROM ducache_rollup_blocks WHERE month >= '2040-01-01';
DELETE FROM ducache_rollups WHERE month >= '2040-01-01';
DELETE FROM ducache_rollup_changes WHERE month >= '2040-01-01';
RESET ALL;

-- Round 19: every setting as a parallel worker's accessors return it (force_parallel_mode: the
-- query in one worker) against the leader's own: all at their defaults (none sent, no
-- placeholder: in the worker ducache.use_rollups is not even defined), then all set otherwise
-- (parallel_min_kb with a unit: sent as kB), then inside a function's own SET clause.
CREATE FUNCTION ducache_test_settings_seen() RETURNS text
    AS '$libdir/ducache', 'ducache_test_settings_seen' LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION pg_temp.seen_off() RETURNS text LANGUAGE sql PARALLEL SAFE
    SET ducache.use_rollups = off SET ducache.parallel_min_kb = '1MB' AS 'SELECT ducache_test_settings_seen()';
SELECT ducache_test_settings_seen() AS leader_view \gset
SET force_parallel_mode = on;
SELECT ducache_test_settings_seen() AS worker_view,
       ducache_test_settings_seen() = replace(:'leader_view', 'worker=no', 'worker=yes') AS same_as_leader,
       current_setting('ducache.use_rollups', true) IS NULL AS undefined_in_worker;
RESET force_parallel_mode;
SET ducache.users_table = 'pg_temp.nobody';
SET ducache.api_keys_table = '';
SET ducache.use_rollups = off;
SET ducache.use_user_packs = off;
SET ducache.use_user_directory = off;
SET ducache.parallel_min_days = -1;
SET ducache.parallel_min_kb = '3MB';
SET ducache.test_json_text = on;
SET ducache.test_top_key_pause = 7;
SET ducache.test_top_key_first = 0;
SET ducache.test_top_key_max = 0;
SET ducache.test_alloc_limit = 1234567;
SET ducache.test_jsonb_limit = 7654321;
SET ducache.test_trace_parallel = on;
SET ducache.test_partial_bytes = on;
SET ducache.test_gather_via_query = on;
SET ducache.test_shard_pause = 'after_prepare';
SELECT ducache_test_settings_seen() AS leader_view \gset
SET force_parallel_mode = on;
SELECT ducache_test_settings_seen() AS worker_view,
       ducache_test_settings_seen() = replace(:'leader_view', 'worker=no', 'worker=yes') AS same_as_leader;
RESET ALL;
SET force_parallel_mode = on;
SELECT pg_temp.seen_off() AS worker_view_in_function;
RESET ALL;
DROP FUNCTION ducache_test_settings_seen();
DROP FUNCTION ducache_test_parallel_worker_days();
DROP FUNCTION ducache_test_partial_dsa_reads();
