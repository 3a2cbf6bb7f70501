-- ducache_merge is closed under composition (CONTRACT §6): merging outputs of ducache_merge
-- (per month, any grouping of disjoint day sets, nested, mixed with raw days) gives the same
-- result as one merge over the days, `days` included, and both equal plain SQL sums
-- (days = the number of days with the key); also under parallel plans, whose partial states
-- cross serialize/combine/deserialize. Then what a bad "days" value does.
-- Own schema m76 (regular tables: parallel workers cannot read temp tables), dropped at the
-- end; needs 00_setup and the extension (created by 13_plans / 20_read_fixture).
CREATE SCHEMA m76;
-- A year of days, one row each; pad (stored plain, uncompressed) spreads the rows over many
-- pages so that both parallel workers get some. 40 keys, present on most days: even keys in
-- LiteMaaS's nested shape, odd keys flat; numbers as strings, negative and long costs, nulls.
CREATE TABLE m76.days (d date PRIMARY KEY, obj jsonb, pad text);
ALTER TABLE m76.days ALTER COLUMN pad SET STORAGE PLAIN;
INSERT INTO m76.days
SELECT d::date,
       (SELECT jsonb_object_agg('k' || k, CASE WHEN k % 2 = 0 THEN
                   jsonb_build_object('userId', 'k' || k, 'metrics', jsonb_build_object(
                       'api_requests', (i * k) % 97 + 1, 'total_tokens', (i * k * 31) % 5000,
                       'prompt_tokens', CASE WHEN k % 4 = 0 THEN NULL ELSE (i * k * 17) % 3000 END,
                       'completion_tokens', (i * k * 13) % 2000,
                       'spend', CASE WHEN k % 6 = 0 THEN -round(i * k * 0.0000001234567, 13)
                                     ELSE round(i * k * 0.0012345678911, 13) END,
                       'successful_requests', (i * k) % 90, 'failed_requests', (i + k) % 7))
                 ELSE
                   jsonb_build_object('totalRequests', ((i * k) % 50)::text, 'totalTokens', i * k,
                                      'totalCost', CASE WHEN k % 3 = 0 THEN to_jsonb(((i % 9) * 0.25)::text)
                                                        ELSE to_jsonb(i * 0.000000001) END,
                                      'failedRequests', CASE WHEN i % 5 = 0 THEN NULL ELSE i % 3 END)
                 END)
        FROM generate_series(0, 39) AS k WHERE (i * 7 + k * 13) % 5 <> 0)
       -- a key on one day only, and one on the first and last day
       || CASE WHEN i = 200 THEN '{"once": {"requests": 4, "cost": 0.5}}'::jsonb ELSE '{}' END
       || CASE WHEN i IN (1, 365) THEN '{"ends": {"requests": 1, "cost": "1e-20"}}'::jsonb ELSE '{}' END,
       repeat(md5(i::text), 80)
FROM generate_series(date '2031-01-01', date '2031-12-31', interval '1 day') WITH ORDINALITY AS g(d, i);
ANALYZE m76.days;

-- The reference, plain SQL: per key the sums (aliases by COALESCE in the contract's order,
-- costs as numeric) and the number of days the key appears on.
CREATE VIEW m76.ref AS
SELECT e.key,
       COALESCE(sum(COALESCE(m.v->>'totalRequests', m.v->>'api_requests', m.v->>'requests')::numeric), 0)::bigint AS requests,
       COALESCE(sum(COALESCE(m.v->>'totalTokens', m.v->>'total_tokens')::numeric), 0)::bigint AS total_tokens,
       COALESCE(sum((m.v->>'prompt_tokens')::numeric), 0)::bigint AS prompt_tokens,
       COALESCE(sum((m.v->>'completion_tokens')::numeric), 0)::bigint AS completion_tokens,
       COALESCE(sum(COALESCE(m.v->>'totalCost', m.v->>'spend', m.v->>'cost')::numeric), 0) AS cost,
       COALESCE(sum((m.v->>'successful_requests')::numeric), 0)::bigint AS successful_requests,
       COALESCE(sum(COALESCE(m.v->>'failedRequests', m.v->>'failed_requests')::numeric), 0)::bigint AS failed_requests,
       count(*) AS days
FROM m76.days, jsonb_each(obj) AS e,
     LATERAL (SELECT COALESCE(e.value->'metrics', e.value) AS v) AS m
GROUP BY e.key;

-- Compares a merged object with the reference: same keys, every field equal, costs digit for digit.
CREATE FUNCTION m76.equals_ref(merged jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN (SELECT count(*) FROM jsonb_object_keys(merged)) <> (SELECT count(*) FROM m76.ref)
                THEN 'key count differs'
                ELSE COALESCE(string_agg(r.key, ', ' ORDER BY r.key), 'equal') END
    FROM m76.ref AS r LEFT JOIN jsonb_each(merged) AS m ON m.key = r.key
    WHERE m.value IS NULL
       OR (m.value->>'requests')::bigint <> r.requests OR (m.value->>'total_tokens')::bigint <> r.total_tokens
       OR (m.value->>'prompt_tokens')::bigint <> r.prompt_tokens
       OR (m.value->>'completion_tokens')::bigint <> r.completion_tokens
       OR m.value->>'cost' <> r.cost::text
       OR (m.value->>'successful_requests')::bigint <> r.successful_requests
       OR (m.value->>'failed_requests')::bigint <> r.failed_requests
       OR (m.value->>'days')::bigint <> r.days
$$;

SELECT count(*) AS keys, sum(days) AS key_days, min(days) AS min_days, max(days) AS max_days FROM m76.ref;

-- One merge over all days equals the reference.
CREATE TABLE m76.results (name text PRIMARY KEY, merged jsonb);
INSERT INTO m76.results SELECT 'one', ducache_merge(obj) FROM m76.days;
SELECT m76.equals_ref(merged) AS one_vs_plain_sql FROM m76.results WHERE name = 'one';

-- Per-month merges (padded like the days, so a parallel plan spreads them too), re-merged.
CREATE TABLE m76.months (month date PRIMARY KEY, merged jsonb, pad text);
ALTER TABLE m76.months ALTER COLUMN pad SET STORAGE PLAIN;
INSERT INTO m76.months
SELECT date_trunc('month', d)::date, ducache_merge(obj), repeat('x', 3000) FROM m76.days GROUP BY 1;
ANALYZE m76.months;
-- each month's own days are right too (January and February by plain SQL)
SELECT month, (SELECT count(*) FROM m76.days WHERE date_trunc('month', d) = month AND obj ? 'k1') AS k1_days_sql,
       (merged->'k1'->>'days')::int AS k1_days_merge
FROM m76.months WHERE month < '2031-03-01' ORDER BY month;
INSERT INTO m76.results SELECT 'months', ducache_merge(merged) FROM m76.months;
SELECT m76.equals_ref(merged) AS months_remerged_vs_plain_sql,
       merged::text = (SELECT merged::text FROM m76.results WHERE name = 'one') AS identical_to_one
FROM m76.results WHERE name = 'months';

-- Any grouping of disjoint day sets: non-contiguous groups (day of year mod 7), quarters of
-- unequal length, and a single group holding every day.
SELECT 'doy mod 7' AS grouping_kind, count(*) AS groups,
       ducache_merge(merged)::text = (SELECT merged::text FROM m76.results WHERE name = 'one') AS identical_to_one
FROM (SELECT extract(doy FROM d)::int % 7, ducache_merge(obj) FROM m76.days GROUP BY 1) AS g(n, merged)
UNION ALL
SELECT 'quarters', count(*), ducache_merge(merged)::text = (SELECT merged::text FROM m76.results WHERE name = 'one')
FROM (SELECT extract(quarter FROM d)::int, ducache_merge(obj) FROM m76.days GROUP BY 1) AS g(n, merged)
UNION ALL
SELECT 'one group', count(*), ducache_merge(merged)::text = (SELECT merged::text FROM m76.results WHERE name = 'one')
FROM (SELECT ducache_merge(obj) FROM m76.days) AS g(merged);

-- Nested composition: ten-day buckets per month -> quarters -> the year (a merge of merges of
-- merges), and merges mixed with raw days in one input (months Jan-Jun merged, Jul-Dec raw).
CREATE TABLE m76.buckets (month date, bucket int, merged jsonb, pad text);
ALTER TABLE m76.buckets ALTER COLUMN pad SET STORAGE PLAIN;
INSERT INTO m76.buckets
SELECT date_trunc('month', d)::date, least((extract(day FROM d)::int - 1) / 10, 2), ducache_merge(obj), repeat('x', 3000)
FROM m76.days GROUP BY 1, 2;
ANALYZE m76.buckets;
CREATE TABLE m76.quarters AS
SELECT extract(quarter FROM month)::int AS quarter, ducache_merge(merged) AS merged FROM m76.buckets GROUP BY 1;
SELECT (SELECT count(*) FROM m76.buckets) AS buckets, (SELECT count(*) FROM m76.quarters) AS quarters,
       m76.equals_ref(ducache_merge(merged)) AS three_levels_vs_plain_sql,
       ducache_merge(merged)::text = (SELECT merged::text FROM m76.results WHERE name = 'one') AS identical_to_one
FROM m76.quarters;
SELECT m76.equals_ref(ducache_merge(x)) AS mixed_vs_plain_sql,
       ducache_merge(x)::text = (SELECT merged::text FROM m76.results WHERE name = 'one') AS identical_to_one
FROM (SELECT merged FROM m76.months WHERE month < '2031-07-01'
      UNION ALL SELECT obj FROM m76.days WHERE d >= '2031-07-01') AS t(x);
-- Merging one output again changes nothing.
SELECT ducache_merge(merged)::text = merged::text AS idempotent_on_one_output
FROM m76.results WHERE name = 'one' GROUP BY merged;
-- The dated form reads days the same way.
SELECT ducache_merge(merged, month)::text = (SELECT merged::text FROM m76.results WHERE name = 'one') AS dated_form
FROM m76.months;

-- Parallel plans: workers build partial states over the days and over the month outputs;
-- the states cross serialize/deserialize and combine in the leader.
CREATE FUNCTION pg_temp.workers_launched(q text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE line text; ok boolean := false;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
        ok := ok OR line ~ 'Workers Launched: [1-9]';
    END LOOP;
    RETURN ok;
END $$;
-- Forced: free workers and pages that cost nothing to read (so the tables' few rows make a
-- parallel scan cheaper), and a dear transition function (so it runs in the workers).
SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET seq_page_cost = 0; SET cpu_operator_cost = 10;
SET min_parallel_table_scan_size = 0; SET max_parallel_workers_per_gather = 2; SET parallel_leader_participation = off;
SELECT q AS query, bool_or(line ~ 'Partial Aggregate') AS partial_aggregate, pg_temp.workers_launched(q) AS workers_launched
FROM unnest(ARRAY['SELECT ducache_merge(obj) FROM m76.days', 'SELECT ducache_merge(merged) FROM m76.months',
                  'SELECT ducache_merge(merged) FROM m76.buckets']) AS q,
     LATERAL ducache_test.plan_of(q) AS line
GROUP BY q ORDER BY q;
INSERT INTO m76.results SELECT 'parallel days', ducache_merge(obj) FROM m76.days;
INSERT INTO m76.results SELECT 'parallel months', ducache_merge(merged) FROM m76.months;
INSERT INTO m76.results SELECT 'parallel buckets', ducache_merge(merged) FROM m76.buckets;
INSERT INTO m76.results
SELECT 'parallel months of parallel merges', ducache_merge(merged)
FROM (SELECT date_trunc('month', d), ducache_merge(obj) FROM m76.days GROUP BY 1) AS t(month, merged);
RESET parallel_leader_participation;
SET max_parallel_workers_per_gather = 0;
SELECT name, m76.equals_ref(merged) AS vs_plain_sql,
       merged::text = (SELECT merged::text FROM m76.results WHERE name = 'one') AS identical_to_serial
FROM m76.results WHERE name LIKE 'parallel%' ORDER BY name;
RESET parallel_setup_cost; RESET parallel_tuple_cost; RESET seq_page_cost; RESET cpu_operator_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

-- What "days" may hold. Counted: absent or null (one day), a whole number from 0 to
-- 2147483647, or a string holding one (like the metrics, CONTRACT §2); 12.0 is 12. Only the
-- entry's own "days" counts, not one inside "metrics".
SELECT v AS days_value, ducache_merge(x)->'k'->'days' AS counted_days
FROM (VALUES ('null'), ('0'), ('1'), ('12.0'), ('"31"'), ('1e2'), ('2147483647')) AS t(v),
     LATERAL (SELECT ('{"k": {"requests": 1, "days": ' || v || '}}')::jsonb) AS r(x)
GROUP BY v ORDER BY counted_days;
SELECT ducache_merge(x)->'k' AS days_inside_metrics_not_counted
FROM (VALUES ('{"k": {"metrics": {"api_requests": 2, "days": 9}}}'::jsonb)) AS t(x);
-- Anything else is an error naming the row, the key and the field.
SELECT v AS days_value,
       ducache_test.error_of(format($q$SELECT ducache_merge(x) FROM (VALUES ('{"a": {"days": 2}}'::jsonb),
                                        ('{"a": {"requests": 1}, "b": {"requests": 1, "days": %s}}')) AS t(x)$q$, v)) AS error
FROM unnest(ARRAY['-1', '2.5', '"2.5"', '2147483648', '1e30', '-1e30', '"many"', '""', 'true', '[3]', '{"n": 3}']) AS v;
-- The dated form names the date.
SELECT ducache_test.error_of($q$SELECT ducache_merge(x, d) FROM (VALUES ('{"k": {"days": -3}}'::jsonb, date '2031-02-03')) AS t(x, d)$q$);
-- Day sums past 2147483647 are 22003, like the count sums.
SELECT ducache_test.error_of($q$SELECT ducache_merge(x) FROM (VALUES ('{"k": {"days": 2147483647}}'::jsonb), ('{"k": {}}')) AS t(x)$q$);
SELECT ducache_test.error_of($q$SELECT ducache_merge(x) FROM (VALUES ('{"k": {"days": 2000000000}}'::jsonb), ('{"k": {"days": 200000000}}')) AS t(x)$q$);

-- The same values read on the merge's fast path (round 9b of issue 13): "j" comes before "k" and
-- has k's layout, so k is read by the remembered layout's plan and its "days" found there. Each
-- count equals the one read on the general path (k's counts as JSON strings: a layout the fast
-- path never takes), and equals the list above.
SELECT v AS days_value, fast AS fast_path, general AS general_path, fast = general AS same
FROM unnest(ARRAY['null', '0', '1', '12.0', '"31"', '1e2', '2147483647']) AS v,
     LATERAL (SELECT ducache_merge(x)->'k'->'days'
              FROM (VALUES (('{"j": {"requests": 1, "days": 5}, "k": {"requests": 1, "days": ' || v || '}}')::jsonb)) AS t(x)) AS f(fast),
     LATERAL (SELECT ducache_merge(x)->'k'->'days'
              FROM (VALUES (('{"k": {"requests": "1", "days": ' || v || '}}')::jsonb)) AS t(x)) AS g(general)
ORDER BY fast, v;
-- Its errors: the general path's, naming the same row, key and field.
SELECT v AS days_value, fast = general AS same_error, fast AS error
FROM unnest(ARRAY['-1', '2.5', '"2.5"', '2147483648', '1e30', '"many"', 'true', '[3]']) AS v,
     LATERAL ducache_test.error_of(format($q$SELECT ducache_merge(x) FROM (VALUES ('{"a": {"requests": 1}}'::jsonb),
        ('{"j": {"requests": 1, "days": 2}, "k": {"requests": 1, "days": %s}}')) AS t(x)$q$, v)) AS fast,
     LATERAL ducache_test.error_of(format($q$SELECT ducache_merge(x) FROM (VALUES ('{"a": {"requests": 1}}'::jsonb),
        ('{"k": {"requests": "1", "days": %s}}')) AS t(x)$q$, v)) AS general;
-- A day sum past 2147483647 on the fast path, and a cost past the 64-bit form in a layout with
-- "days" (its adds out of line): the plain SQL sums.
SELECT ducache_test.error_of($q$SELECT ducache_merge(x) FROM (VALUES ('{"k": {"requests": 1, "days": 2000000000}}'::jsonb),
                                ('{"j": {"requests": 1, "days": 1}, "k": {"requests": 1, "days": 200000000}}')) AS t(x)$q$);
SELECT m->'k'->>'cost' AS cost, (m->'k'->>'cost')::numeric = 123456789012345678901234.5 + 2.25 AS cost_is_sum,
       m->'k'->>'days' AS days, m->'k'->>'requests' AS requests
FROM (SELECT ducache_merge(x) FROM (VALUES
        ('{"j": {"requests": 1, "cost": 1.5, "days": 2}, "k": {"requests": 2, "cost": 123456789012345678901234.5, "days": 3}}'::jsonb),
        ('{"j": {"requests": 1, "cost": 1.5, "days": 2}, "k": {"requests": 4, "cost": 2.25, "days": 4}}')) AS t(x)) AS r(m);

-- The result's bytes are laid out by ducache_merge_final itself (round 9b of issue 13): byte for
-- byte what jsonb_in makes of its text (byteasend returns its argument's varlena), for keys of
-- every length and more than JB_OFFSET_STRIDE of them (whose JEntries then hold offsets), wide,
-- negative and scaled costs, negative counts, days, and the empty result.
CREATE FUNCTION pg_temp.bytes(jsonb) RETURNS bytea LANGUAGE internal IMMUTABLE STRICT AS 'byteasend';
SELECT name, pg_temp.bytes(m) = pg_temp.bytes(m::text::jsonb) AS same_bytes, (SELECT count(*) FROM jsonb_object_keys(m)) AS keys
FROM (SELECT 'one year' AS name, merged AS m FROM m76.results WHERE name = 'one'
      UNION ALL
      SELECT 'generated', ducache_merge(jsonb_build_object(repeat('k', g % 40) || g,
                                                           jsonb_build_object('requests', g - 500, 'totalCost', g / 7.0 - 50,
                                                                              'days', g % 3, 'totalTokens', g::bigint * 100000000)))
      FROM generate_series(1, 1000) AS g
      UNION ALL
      SELECT 'wide', ducache_merge(x) FROM (VALUES ('{"a": {"cost": 1e30}, "bb": {"cost": -0.000000000001}}'::jsonb),
                                                   ('{"a": {"cost": 123456789012345678901234567890.123}}')) AS t(x)
      UNION ALL
      SELECT 'empty', ducache_merge(x) FROM (VALUES ('{}'::jsonb)) AS t(x)) AS r
ORDER BY name;

-- Called from JIT-compiled plans (the test command's clients run with jit = off: scripts/test.sh):
-- the merge's transition and final functions, plain and grouped, jit forced on
-- (no optimization or inlining: only the expressions compiled), equal to the same calls without.
SET jit = on; SET jit_above_cost = 0; SET jit_optimize_above_cost = -1; SET jit_inline_above_cost = -1;
CREATE FUNCTION pg_temp.jit_functions(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || q INTO plan;
    RETURN coalesce((plan -> 0 -> 'JIT' ->> 'Functions')::bigint, 0);
END $$;
SELECT pg_temp.jit_functions('SELECT ducache_merge(obj) FROM m76.days') > 0 AS merge_jit_compiled,
       pg_temp.jit_functions('SELECT date_trunc(''month'', d), ducache_merge(obj, d) FROM m76.days GROUP BY 1') > 0
           AS grouped_merge_jit_compiled;
SELECT ducache_merge(obj) AS merged_jit, (SELECT jsonb_agg(m ORDER BY mo) FROM (SELECT date_trunc('month', d) AS mo, ducache_merge(obj, d) AS m
                                           FROM m76.days GROUP BY 1) g) AS grouped_jit
FROM m76.days \gset
SET jit = off;
SELECT ducache_merge(obj) = :'merged_jit'::jsonb AS merge_equal,
       (SELECT jsonb_agg(m ORDER BY mo) FROM (SELECT date_trunc('month', d) AS mo, ducache_merge(obj, d) AS m
                                              FROM m76.days GROUP BY 1) g) = :'grouped_jit'::jsonb AS grouped_equal
FROM m76.days;
RESET jit; RESET jit_above_cost; RESET jit_optimize_above_cost; RESET jit_inline_above_cost;

DROP SCHEMA m76 CASCADE;
