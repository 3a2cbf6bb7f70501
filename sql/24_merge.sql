-- ducache_merge: equal to plain SQL, identical in parallel and serial plans, NULL-safe.
CREATE FUNCTION ref.merge(col text, s date, e date) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_object_agg(key, jsonb_build_object(
               'requests', total_requests, 'total_tokens', total_tokens, 'prompt_tokens', prompt_tokens,
               'completion_tokens', completion_tokens, 'cost', total_cost,
               'successful_requests', successful_requests, 'failed_requests', failed_requests,
               'days', active_days))
    FROM ref.breakdown(col, s, e)
$$;
SELECT col,
       (SELECT ducache_merge(CASE col WHEN 'aggregated_by_user' THEN aggregated_by_user
                                      WHEN 'aggregated_by_model' THEN aggregated_by_model
                                      ELSE aggregated_by_provider END)
        FROM daily_usage_cache WHERE date BETWEEN '2025-03-01' AND '2025-03-10')
       = ref.merge(col, '2025-03-01', '2025-03-10') AS equals_reference
FROM unnest(ARRAY['aggregated_by_user', 'aggregated_by_model', 'aggregated_by_provider']) AS col;
SELECT jsonb_pretty(ducache_merge(aggregated_by_provider)) FROM daily_usage_cache WHERE date BETWEEN '2025-03-01' AND '2025-03-10';

-- NULL rows are skipped; no rows (or only NULLs) give NULL, like sum().
SELECT ducache_merge(x) IS NULL AS no_rows FROM (SELECT NULL::jsonb WHERE false) AS t(x);
SELECT ducache_merge(x) IS NULL AS only_nulls FROM (VALUES (NULL::jsonb), (NULL)) AS t(x);
SELECT ducache_merge(x) FROM (VALUES (NULL::jsonb), ('{"k": {"totalRequests": 2, "totalCost": 0.1}}'), (NULL)) AS t(x);
SELECT ducache_merge(x) FROM (VALUES ('{}'::jsonb)) AS t(x);
-- Grouped use: one merged object per month.
SELECT date_trunc('month', date)::date AS month, ducache_merge(aggregated_by_provider)->'openai'->>'requests' AS openai_requests
FROM daily_usage_cache GROUP BY 1 ORDER BY 1;

-- Parallel: a bigger table so the planner wants workers, forced cheap.
CREATE TABLE ref.many AS
SELECT g AS id, jsonb_build_object('k' || (g % 50), jsonb_build_object('totalRequests', g, 'totalCost', g * 0.001),
                                   'shared', jsonb_build_object('metrics', jsonb_build_object('api_requests', 1, 'spend', '0.0000001'))) AS j
FROM generate_series(1, 20000) AS g;
ANALYZE ref.many;
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off;
SELECT * FROM ducache_test.plan_of('SELECT ducache_merge(j) FROM ref.many');
-- The workers really ran, and their partial states crossed serialize/deserialize.
CREATE FUNCTION pg_temp.workers_launched(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE line text; ok boolean := false;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
        ok := ok OR line ~ 'Workers Launched: [1-9]';
    END LOOP;
    RETURN ok;
END $$;
SELECT pg_temp.workers_launched('SELECT ducache_merge(j) FROM ref.many') AS workers_launched;
SELECT ducache_merge(j) AS parallel_result FROM ref.many \gset
RESET parallel_leader_participation;
SET max_parallel_workers_per_gather = 0;
SELECT bool_or(line ~ 'Partial Aggregate') AS serial_plan_has_partial FROM ducache_test.plan_of('SELECT ducache_merge(j) FROM ref.many') AS line;
SELECT :'parallel_result'::jsonb = ducache_merge(j) AS parallel_equals_serial,
       ducache_merge(j) = (SELECT jsonb_object_agg(key, jsonb_build_object(
               'requests', total_requests, 'total_tokens', total_tokens, 'prompt_tokens', prompt_tokens,
               'completion_tokens', completion_tokens, 'cost', total_cost,
               'successful_requests', successful_requests, 'failed_requests', failed_requests, 'days', n))
           FROM (SELECT x.key, sum(COALESCE(ref.m(x.value)->>'totalRequests', ref.m(x.value)->>'api_requests')::numeric)::bigint AS total_requests,
                        0::bigint AS total_tokens, 0::bigint AS prompt_tokens, 0::bigint AS completion_tokens,
                        sum(COALESCE(ref.m(x.value)->>'totalCost', ref.m(x.value)->>'spend')::numeric) AS total_cost,
                        0::bigint AS successful_requests, 0::bigint AS failed_requests, count(*) AS n
                 FROM ref.many, jsonb_each(j) AS x GROUP BY x.key) AS r) AS equals_reference
FROM ref.many;
SELECT (:'parallel_result'::jsonb)->'shared' AS shared_key;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- Size limits: a clean 54000 with a DETAIL naming what was too large, never an internal_error. Reached
-- through the test builds' settings that lower the limits (the real ones: an allocation past
-- MaxAllocSize, 1 GB, i.e. the final's member values of 16.7 M+ keys; a result body past
-- JENTRY_OFFLENMASK, 256 MB), so the test needs no gigabyte of keys.
CREATE TABLE ref.limit_keys AS
SELECT jsonb_object_agg('k' || g, jsonb_build_object('totalRequests', g, 'totalCost', g * 0.01)) AS j
FROM generate_series(1, 100) AS g;
CREATE TABLE ref.limit_ref AS
SELECT jsonb_object_agg(key, jsonb_build_object(
           'requests', (value->>'totalRequests')::bigint, 'total_tokens', 0, 'prompt_tokens', 0,
           'completion_tokens', 0, 'cost', (value->>'totalCost')::numeric, 'successful_requests', 0,
           'failed_requests', 0, 'days', 1)) AS m
FROM ref.limit_keys, jsonb_each(j);
SELECT (SELECT ducache_merge(j) FROM ref.limit_keys) = m AS equals_reference,
       (SELECT count(*) FROM jsonb_object_keys(m)) AS keys
FROM ref.limit_ref;
-- Over the allocation limit: the final's array of member values (101 x 8 numerics x 8 bytes).
SET ducache.test_alloc_limit = 4000;
SELECT ducache_test.error_of('SELECT ducache_merge(j) FROM ref.limit_keys') AS over_alloc_limit;
-- The same limit met by the parallel workers' serialize function (the state's bytes: how many
-- depends on how the two workers, started at different times, share the rows).
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off;
SELECT count(*) > 0 AS gathers FROM ducache_test.plan_of('SELECT ducache_merge(j) FROM ref.many') AS l WHERE l ~ 'Gather';
SET ducache.test_alloc_limit = 1000;
SELECT regexp_replace(ducache_test.error_of('SELECT ducache_merge(j) FROM ref.many'), 'allocate \d+ bytes', 'allocate N bytes')
       AS over_alloc_limit_parallel;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather; RESET parallel_leader_participation;
RESET ducache.test_alloc_limit;
-- Over the jsonb body's limit: the final's 54000 (PostgreSQL's message, ducache's DETAIL).
SET ducache.test_jsonb_limit = 8000;
SELECT ducache_test.error_of('SELECT ducache_merge(j) FROM ref.limit_keys') AS over_jsonb_limit;
-- The limit is the body's size: a result of exactly the limit passes (equal to the reference),
-- one byte less is the 54000.
RESET ducache.test_jsonb_limit;
SELECT pg_column_size(ducache_merge(j)) - 4 AS body FROM ref.limit_keys \gset
SELECT set_config('ducache.test_jsonb_limit', :'body', false) IS NOT NULL AS limit_set;
SELECT (SELECT ducache_merge(j) FROM ref.limit_keys) = m AS at_limit_equals_reference FROM ref.limit_ref;
SELECT set_config('ducache.test_jsonb_limit', (:'body'::int - 1)::text, false) IS NOT NULL AS limit_set;
SELECT ducache_test.error_of('SELECT ducache_merge(j) FROM ref.limit_keys') AS one_byte_over;
RESET ducache.test_jsonb_limit;
SELECT (SELECT ducache_merge(j) FROM ref.limit_keys) = m AS equals_reference_after FROM ref.limit_ref;
