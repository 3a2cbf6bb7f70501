-- The read path's fast entry reads (pg/entry_reader.cpp, read_entry_fast; numeric_decode.hpp,
-- decode_jsonb_count / decode_jsonb_decimal): an entry with the previous entry's layout is read
-- by that layout's member indexes, its numbers decoded without the general code, and anything
-- unusual goes to the general path. Against plain SQL on the same rows, over numbers of every
-- form the decoders tell apart (0; one and two base-10000 digits; whole numbers written with a
-- fraction, 12.0; counts past 10^8 and multiples of 10^4; negatives; costs of 0 to 14 decimals,
-- below 10^-4, past 16 significant digits; numbers as JSON strings) and layouts that change from
-- entry to entry (flat with 5 or 7 metrics, nested under "metrics", a null "metrics" whose outer
-- members count, one member more).
SET ducache.users_table = '';
SET ducache.use_rollups = off;

CREATE TEMP TABLE fast_cells AS
WITH v AS (
    SELECT d, u,
           ('x' || substr(md5(d || '/' || u), 1, 15))::bit(60)::bigint AS h,
           ('x' || substr(md5(u || '\' || d), 1, 15))::bit(60)::bigint AS g
    FROM generate_series(0, 39) AS d, generate_series(1, 300) AS u
    WHERE (d + u) % 7 <> 0)
SELECT d, u, h, g,
       -- a count in one of the decoders' cases, by h
       (CASE h % 9
            WHEN 0 THEN '0'
            WHEN 1 THEN (g % 10000)::text                      -- one digit
            WHEN 2 THEN (g % 100000000)::text                  -- up to two digits
            WHEN 3 THEN ((g % 9 + 1) * 10000)::text            -- one digit of weight 1
            WHEN 4 THEN (g % 1000000000000000)::text           -- up to four digits
            WHEN 5 THEN '-' || (g % 100000)::text              -- negative
            WHEN 6 THEN (g % 1000)::text || '.0'               -- whole, written with a fraction
            WHEN 7 THEN (g % 100000000 * 10000)::text          -- trailing zero digits
            ELSE (g % 5000)::text END) AS cnt,
       -- a cost
       (CASE WHEN g % 5 = 0 THEN '-' ELSE '' END
        || (CASE g % 4 WHEN 0 THEN 0 WHEN 1 THEN g % 100 ELSE h % 100000000 END)::text
        || CASE WHEN h % 15 > 0
                THEN '.' || lpad((g % (10::bigint ^ (h % 15))::bigint)::text, (h % 15)::int, '0')
                ELSE '' END
        || CASE WHEN h % 97 = 0 THEN '123456789' ELSE '' END) AS cost
FROM v;

-- One day's entry of user u: the layout by (d, u), the numbers from the cell.
CREATE TEMP TABLE fast_entries AS
SELECT d, 'user' || u AS k, cnt, cost,
       CASE WHEN d % 10 = 9 AND u % 3 = 0 THEN 'nested'
            WHEN d % 10 = 8 AND u % 2 = 0 THEN 'nullmetrics'
            WHEN u % 50 = 7 THEN 'strings'
            WHEN d % 5 = 3 THEN 'seven'
            WHEN u % 40 = 11 THEN 'extra'
            ELSE 'flat' END AS layout
FROM fast_cells;

INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider)
SELECT date '2032-01-01' + d,
       jsonb_object_agg(k, CASE layout
           WHEN 'flat' THEN jsonb_build_object('totalRequests', cnt::numeric, 'totalTokens', cnt::numeric * 3,
                                               'promptTokens', cnt::numeric * 2, 'completionTokens', cnt::numeric,
                                               'totalCost', cost::numeric)
           WHEN 'seven' THEN jsonb_build_object('totalRequests', cnt::numeric, 'totalTokens', cnt::numeric * 3,
                                                'promptTokens', cnt::numeric * 2, 'completionTokens', cnt::numeric,
                                                'totalCost', cost::numeric, 'successfulRequests', cnt::numeric,
                                                'failedRequests', 0)
           WHEN 'extra' THEN jsonb_build_object('totalRequests', cnt::numeric, 'totalTokens', cnt::numeric * 3,
                                                'promptTokens', cnt::numeric * 2, 'completionTokens', cnt::numeric,
                                                'totalCost', cost::numeric, 'note', 'x')
           WHEN 'strings' THEN jsonb_build_object('totalRequests', cnt, 'totalTokens', cnt::numeric * 3,
                                                  'promptTokens', cnt::numeric * 2, 'completionTokens', cnt::numeric,
                                                  'totalCost', cost)
           WHEN 'nested' THEN jsonb_build_object('username', k, 'metrics',
                              jsonb_build_object('totalRequests', cnt::numeric, 'totalTokens', cnt::numeric * 3,
                                                 'promptTokens', cnt::numeric * 2, 'completionTokens', cnt::numeric,
                                                 'totalCost', cost::numeric))
           ELSE jsonb_build_object('metrics', NULL, 'totalRequests', cnt::numeric, 'totalTokens', cnt::numeric * 3,
                                   'promptTokens', cnt::numeric * 2, 'completionTokens', cnt::numeric,
                                   'totalCost', cost::numeric) END),
       '{}', '{}'
FROM fast_entries GROUP BY d;

SELECT layout, count(*) FROM fast_entries GROUP BY layout ORDER BY layout;

-- Plain SQL's sums per user, in the breakdown's columns.
CREATE TEMP TABLE fast_ref AS
SELECT k AS user_id,
       sum((m->>'totalRequests')::numeric) AS total_requests, sum((m->>'totalTokens')::numeric) AS total_tokens,
       sum((m->>'promptTokens')::numeric) AS prompt_tokens, sum((m->>'completionTokens')::numeric) AS completion_tokens,
       sum((m->>'totalCost')::numeric) AS total_cost,
       coalesce(sum((m->>'successfulRequests')::numeric), 0) AS successful_requests,
       coalesce(sum((m->>'failedRequests')::numeric), 0) AS failed_requests,
       count(*) AS active_days, max(date) AS last_active
FROM daily_usage_cache, jsonb_each(aggregated_by_user) AS e(k, v),
     LATERAL (SELECT CASE WHEN jsonb_typeof(v->'metrics') = 'object' THEN v->'metrics' ELSE v END AS m) AS x
WHERE date BETWEEN '2032-01-01' AND '2032-02-09'
GROUP BY k;

-- Every user, every column, digit for digit (costs as text: the scale counts too).
SELECT count(*) AS users,
       count(*) FILTER (WHERE d.user_id IS NULL OR r.user_id IS NULL) AS missing,
       count(*) FILTER (WHERE (d.total_requests, d.total_tokens, d.prompt_tokens, d.completion_tokens,
                               d.total_cost::text, d.successful_requests, d.failed_requests, d.active_days, d.last_active)
                              IS DISTINCT FROM
                              (r.total_requests, r.total_tokens, r.prompt_tokens, r.completion_tokens,
                               r.total_cost::text, r.successful_requests, r.failed_requests, r.active_days, r.last_active))
           AS differ
FROM ducache_user_breakdown('2032-01-01', '2032-02-09') AS d FULL JOIN fast_ref AS r USING (user_id);

-- The same sums through the merge aggregate, and through the month's rollup (whose entries carry
-- "~days": read by the same fast path with the mask).
SELECT * FROM ducache_test.merge_check('2032-01-01', '2032-02-09', 'fast_ref');
SELECT count(*) > 0 AS refreshed FROM ducache_refresh_rollups('2032-01-01', '2032-01-31');
SET ducache.use_rollups = on;
SELECT count(*) AS users,
       count(*) FILTER (WHERE (d.total_requests, d.total_tokens, d.total_cost::text, d.active_days, d.last_active)
                              IS DISTINCT FROM
                              (r.total_requests, r.total_tokens, r.total_cost::text, r.active_days, r.last_active))
           AS differ
FROM ducache_user_breakdown('2032-01-01', '2032-01-31') AS d
FULL JOIN (SELECT k AS user_id, sum((m->>'totalRequests')::numeric) AS total_requests,
                  sum((m->>'totalTokens')::numeric) AS total_tokens, sum((m->>'totalCost')::numeric) AS total_cost,
                  count(*) AS active_days, max(date) AS last_active
           FROM daily_usage_cache, jsonb_each(aggregated_by_user) AS e(k, v),
                LATERAL (SELECT CASE WHEN jsonb_typeof(v->'metrics') = 'object' THEN v->'metrics' ELSE v END AS m) AS x
           WHERE date BETWEEN '2032-01-01' AND '2032-01-31' GROUP BY k) AS r USING (user_id);
SELECT count(*) AS rollups_read FROM ducache_rollups WHERE month = '2032-01-01' AND built;
RESET ducache.use_rollups;

-- A value the fast path does not take still raises the general path's error, naming the field.
UPDATE daily_usage_cache SET aggregated_by_user = jsonb_set(aggregated_by_user, '{user1,totalRequests}', '12.5')
WHERE date = '2032-01-02';
SELECT ducache_test.error_of($$SELECT count(*) FROM ducache_user_breakdown('2032-01-01', '2032-01-05')$$);
DELETE FROM daily_usage_cache WHERE date BETWEEN '2032-01-01' AND '2032-02-09';

-- Round 6 of issue 13: counts of zero (no base-10000 digits: 0, 0.0, -0.000, 0e5) are read by the
-- fast path itself, amid entries of the same layout with one- and two-digit counts and counts it
-- leaves to the general path (10^8 and more, 1e8 of weight 2); the adds are made in the read's
-- loop. Against plain SQL, every user and column.
CREATE TEMP TABLE zero_entries AS
SELECT d, 'z' || u AS k,
       (ARRAY['0', '0.0', '-0.000', '0e5', '7', '12345678', '100000000', '1e8', '7.00', '-0'])[1 + (d * 7 + u) % 10] AS cnt
FROM generate_series(0, 4) AS d, generate_series(1, 50) AS u;
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider)
SELECT date '2032-03-01' + d,
       jsonb_object_agg(k, jsonb_build_object('totalRequests', cnt::numeric, 'totalTokens', cnt::numeric * 3,
                                              'promptTokens', cnt::numeric, 'completionTokens', cnt::numeric * 2,
                                              'failedRequests', cnt::numeric, 'totalCost', cnt::numeric / 4)),
       '{}', '{}'
FROM zero_entries GROUP BY d;
SELECT count(*) AS users,
       count(*) FILTER (WHERE d.user_id IS NULL OR r.user_id IS NULL) AS missing,
       count(*) FILTER (WHERE (d.total_requests, d.total_tokens, d.prompt_tokens, d.completion_tokens,
                               d.failed_requests, d.total_cost::text, d.active_days)
                              IS DISTINCT FROM
                              (r.total_requests, r.total_tokens, r.prompt_tokens, r.completion_tokens,
                               r.failed_requests, r.total_cost::text, r.active_days))
           AS differ
FROM ducache_user_breakdown('2032-03-01', '2032-03-05') AS d
FULL JOIN (SELECT k AS user_id, sum((v->>'totalRequests')::numeric) AS total_requests,
                  sum((v->>'totalTokens')::numeric) AS total_tokens, sum((v->>'promptTokens')::numeric) AS prompt_tokens,
                  sum((v->>'completionTokens')::numeric) AS completion_tokens,
                  sum((v->>'failedRequests')::numeric) AS failed_requests,
                  sum((v->>'totalCost')::numeric) AS total_cost, count(*) AS active_days
           FROM daily_usage_cache, jsonb_each(aggregated_by_user) AS e(k, v)
           WHERE date BETWEEN '2032-03-01' AND '2032-03-05' GROUP BY k) AS r USING (user_id);
DELETE FROM daily_usage_cache WHERE date BETWEEN '2032-03-01' AND '2032-03-05';

-- Round 13 of issue 13: LiteMaaS' entry layout (userId, username, email, role, metrics of its
-- seven snake_case names, models) read by its compiled program, amid entries of other layouts in
-- the same rows (no role; a flat entry of the same names; a null "metrics"), counts and costs of
-- every case above, and an identity that changes, is empty, null or a number on some days (the
-- latest non-empty string wins, field by field). Against plain SQL, every user and column.
CREATE TEMP TABLE lm_entries AS
SELECT d, 'lm' || u AS k, cnt, cost,
       CASE WHEN (d + u) % 11 = 0 THEN to_jsonb('renamed' || u || '-' || d) WHEN (d * u) % 13 = 0 THEN '""'::jsonb
            WHEN (d + 2 * u) % 17 = 0 THEN 'null'::jsonb WHEN (d + u) % 19 = 0 THEN '5'::jsonb
            ELSE to_jsonb('user' || u) END AS username,
       CASE WHEN (d + u) % 7 = 0 THEN to_jsonb('u' || u || '.' || d || '@example.org') WHEN (d * u) % 9 = 4 THEN '""'::jsonb
            WHEN (d + 3 * u) % 23 = 0 THEN 'null'::jsonb ELSE to_jsonb('user' || u || '@example.com') END AS email,
       CASE WHEN (d + u) % 5 = 0 THEN '"admin"'::jsonb WHEN (d + u) % 31 = 0 THEN '[]'::jsonb ELSE '"user"'::jsonb END AS role,
       CASE WHEN u % 23 = 5 AND d % 2 = 1 THEN 'norole' WHEN u % 29 = 3 AND d % 3 = 1 THEN 'flat'
            WHEN u % 37 = 8 AND d = 4 THEN 'nullmetrics' ELSE 'litemaas' END AS layout
FROM fast_cells WHERE d < 8 AND u <= 120;
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider)
SELECT date '2032-04-01' + d,
       jsonb_object_agg(k, CASE layout
           WHEN 'flat' THEN m
           WHEN 'nullmetrics' THEN m || jsonb_build_object('userId', k, 'username', username, 'metrics', NULL)
           WHEN 'norole' THEN jsonb_build_object('userId', k, 'username', username, 'email', email, 'metrics', m,
                                                 'models', '{}'::jsonb)
           ELSE jsonb_build_object('userId', k, 'username', username, 'email', email, 'role', role, 'metrics', m,
                                   'models', jsonb_build_object('model-1', jsonb_build_object('modelName', 'model-1',
                                        'metrics', jsonb_build_object('api_requests', 1, 'spend', 0.5)))) END),
       '{}', '{}'
FROM (SELECT *, jsonb_build_object('spend', cost::numeric, 'api_requests', cnt::numeric,
                                   'total_tokens', cnt::numeric * 3, 'prompt_tokens', cnt::numeric * 2,
                                   'completion_tokens', cnt::numeric, 'successful_requests', cnt::numeric,
                                   'failed_requests', (d + length(k)) % 3) AS m
      FROM lm_entries) AS x
GROUP BY d;
SELECT layout, count(*) FROM lm_entries GROUP BY layout ORDER BY layout;
CREATE TEMP TABLE lm_ref AS
SELECT k AS user_id,
       sum((m->>'api_requests')::numeric) AS total_requests, sum((m->>'total_tokens')::numeric) AS total_tokens,
       sum((m->>'prompt_tokens')::numeric) AS prompt_tokens, sum((m->>'completion_tokens')::numeric) AS completion_tokens,
       sum((m->>'spend')::numeric) AS total_cost, sum((m->>'successful_requests')::numeric) AS successful_requests,
       sum((m->>'failed_requests')::numeric) AS failed_requests, count(*) AS active_days, max(date) AS last_active,
       (array_agg(v->>'username' ORDER BY date DESC) FILTER (WHERE jsonb_typeof(v->'username') = 'string'
                                                          AND v->>'username' <> ''))[1] AS username,
       (array_agg(v->>'email' ORDER BY date DESC) FILTER (WHERE jsonb_typeof(v->'email') = 'string'
                                                       AND v->>'email' <> ''))[1] AS email,
       (array_agg(v->>'role' ORDER BY date DESC) FILTER (WHERE jsonb_typeof(v->'role') = 'string'
                                                      AND v->>'role' <> ''))[1] AS role
FROM daily_usage_cache, jsonb_each(aggregated_by_user) AS e(k, v),
     LATERAL (SELECT CASE WHEN jsonb_typeof(v->'metrics') = 'object' THEN v->'metrics' ELSE v END AS m) AS x
WHERE date BETWEEN '2032-04-01' AND '2032-04-08'
GROUP BY k;
SELECT count(*) AS users,
       count(*) FILTER (WHERE d.user_id IS NULL OR r.user_id IS NULL) AS missing,
       count(*) FILTER (WHERE (d.username, d.email, d.role) IS DISTINCT FROM (r.username, r.email, r.role))
           AS identity_differ,
       count(*) FILTER (WHERE (d.total_requests, d.total_tokens, d.prompt_tokens, d.completion_tokens,
                               d.total_cost::text, d.successful_requests, d.failed_requests, d.active_days, d.last_active)
                              IS DISTINCT FROM
                              (r.total_requests, r.total_tokens, r.prompt_tokens, r.completion_tokens,
                               r.total_cost::text, r.successful_requests, r.failed_requests, r.active_days, r.last_active))
           AS differ,
       count(*) FILTER (WHERE r.username LIKE 'renamed%') AS renamed
FROM ducache_user_breakdown('2032-04-01', '2032-04-08') AS d FULL JOIN lm_ref AS r USING (user_id);
-- The merge over the same rows (the same compiled program, its own adds).
SELECT count(*) AS merged,
       count(*) FILTER (WHERE ((m.value->>'requests')::numeric, (m.value->>'total_tokens')::numeric,
                               (m.value->>'failed_requests')::numeric, (m.value->>'cost')::numeric::text,
                               (m.value->>'days')::bigint)
                              IS DISTINCT FROM (r.total_requests, r.total_tokens, r.failed_requests, r.total_cost::text,
                                                r.active_days))
           AS merge_differ
FROM (SELECT ducache_merge(aggregated_by_user) AS doc FROM daily_usage_cache
      WHERE date BETWEEN '2032-04-01' AND '2032-04-08') AS x,
     jsonb_each(x.doc) AS m JOIN lm_ref AS r ON r.user_id = m.key;
-- A sum past bigint in a LiteMaaS entry: the general path's error, naming the key and field.
UPDATE daily_usage_cache SET aggregated_by_user = jsonb_set(aggregated_by_user, '{lm2,metrics,total_tokens}',
                                                            '9223372036854775000')
WHERE date BETWEEN '2032-04-02' AND '2032-04-03';
SELECT ducache_test.error_of($$SELECT count(*) FROM ducache_user_breakdown('2032-04-01', '2032-04-08')$$);
DELETE FROM daily_usage_cache WHERE date BETWEEN '2032-04-01' AND '2032-04-08';

-- Round 16 of issue 13: rows of seven-metric flat entries day after day, so each row starts
-- with the dense7 program (accumulate_dense_loop<7>, accumulate_partial_dense<7> in the
-- parallel transition, merge_dense_loop<7> in ducache_merge), its key list the last one of its
-- kind on most days (slots by position) and changing on others; amid them entries it does not
-- take (one member more, numbers as strings). Counts and costs of every case above. Serial, the
-- merge, and with workers forced, against plain SQL, every user and column.
CREATE FUNCTION ducache_test_parallel_worker_days() RETURNS integer
    AS '$libdir/ducache', 'ducache_test_parallel_worker_days' LANGUAGE C;
SET ducache.use_rollups = off;  -- the days themselves (2032's rollups of the sections above)
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider)
SELECT date '2032-05-01' + d,
       jsonb_object_agg('s' || u, CASE WHEN u % 40 = 11 THEN m || '{"note": "x"}'
                                       WHEN u % 50 = 7 THEN m || jsonb_build_object('totalRequests', cnt)
                                       ELSE m END),
       '{}', '{}'
FROM (SELECT d, u, cnt, jsonb_build_object('totalRequests', cnt::numeric, 'totalTokens', cnt::numeric * 3,
                                           'promptTokens', cnt::numeric * 2, 'completionTokens', cnt::numeric,
                                           'totalCost', cost::numeric, 'successfulRequests', cnt::numeric,
                                           'failedRequests', (d + u) % 3) AS m
      FROM fast_cells WHERE d < 30 AND NOT (d % 6 = 5 AND u % 4 = 0)) AS x
GROUP BY d;
CREATE TEMP TABLE seven_ref AS
SELECT k AS user_id,
       sum((v->>'totalRequests')::numeric) AS total_requests, sum((v->>'totalTokens')::numeric) AS total_tokens,
       sum((v->>'promptTokens')::numeric) AS prompt_tokens, sum((v->>'completionTokens')::numeric) AS completion_tokens,
       sum((v->>'totalCost')::numeric) AS total_cost, sum((v->>'successfulRequests')::numeric) AS successful_requests,
       sum((v->>'failedRequests')::numeric) AS failed_requests, count(*) AS active_days, max(date) AS last_active
FROM daily_usage_cache, jsonb_each(aggregated_by_user) AS e(k, v)
WHERE date BETWEEN '2032-05-01' AND '2032-05-30'
GROUP BY k;
-- The breakdown alone in its statement (a statement with a parallel plan of its own would keep
-- it serial: the workers cannot start workers), then compared.
CREATE FUNCTION pg_temp.seven_check() RETURNS TABLE (users bigint, missing bigint, differ bigint) LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE seven_got AS SELECT * FROM ducache_user_breakdown('2032-05-01', '2032-05-30');
    RETURN QUERY
    SELECT count(*), count(*) FILTER (WHERE d.user_id IS NULL OR r.user_id IS NULL),
           count(*) FILTER (WHERE (d.total_requests, d.total_tokens, d.prompt_tokens, d.completion_tokens,
                                   d.total_cost::text, d.successful_requests, d.failed_requests, d.active_days,
                                   d.last_active)
                                  IS DISTINCT FROM
                                  (r.total_requests, r.total_tokens, r.prompt_tokens, r.completion_tokens,
                                   r.total_cost::text, r.successful_requests, r.failed_requests, r.active_days,
                                   r.last_active))
    FROM seven_got AS d FULL JOIN seven_ref AS r USING (user_id);
    DROP TABLE seven_got;
END $$;
SELECT count(*) FILTER (WHERE cnt LIKE '-%') > 0 AS negative_counts, count(DISTINCT u) AS users
FROM fast_cells WHERE d < 30;
SELECT * FROM pg_temp.seven_check();
-- The merge over the same rows (merge_dense_loop<7>: the dense loop with the merge's adds).
SELECT count(*) AS merged,
       count(*) FILTER (WHERE ((m.value->>'requests')::numeric, (m.value->>'total_tokens')::numeric,
                               (m.value->>'prompt_tokens')::numeric, (m.value->>'completion_tokens')::numeric,
                               (m.value->>'successful_requests')::numeric, (m.value->>'failed_requests')::numeric,
                               (m.value->>'cost')::numeric::text, (m.value->>'days')::bigint)
                              IS DISTINCT FROM (r.total_requests, r.total_tokens, r.prompt_tokens, r.completion_tokens,
                                                r.successful_requests, r.failed_requests, r.total_cost::text,
                                                r.active_days))
           AS merge_differ
FROM (SELECT ducache_merge(aggregated_by_user) AS doc FROM daily_usage_cache
      WHERE date BETWEEN '2032-05-01' AND '2032-05-30') AS x,
     jsonb_each(x.doc) AS m JOIN seven_ref AS r ON r.user_id = m.key;
-- With workers forced (no negative count may be read out of date order: those rows give the
-- serial path's answer, sql/78_parallel_breakdown): the same sums. (Analyzed: with statistics
-- that have not seen these rows and the forced costs, the planner may gather the rows to the
-- leader's aggregate instead of aggregating in the workers.)
ANALYZE daily_usage_cache;
SELECT ducache_test.force_workers(true);
SELECT * FROM pg_temp.seven_check();
SELECT ducache_test_parallel_worker_days() AS worker_days;  -- -1: the negative counts sent it back
-- Without negative counts the workers read the days themselves (numbers as strings stay strings).
UPDATE daily_usage_cache SET aggregated_by_user = (
    SELECT jsonb_object_agg(k, (SELECT jsonb_object_agg(f, CASE WHEN f IN ('totalCost', 'note') THEN x
                                                               WHEN jsonb_typeof(x) = 'number'
                                                               THEN to_jsonb(abs(x::text::numeric))
                                                               ELSE to_jsonb(abs((x #>> '{}')::numeric)::text) END)
                                FROM jsonb_each(v) AS m(f, x)))
    FROM jsonb_each(aggregated_by_user) AS e(k, v))
WHERE date BETWEEN '2032-05-01' AND '2032-05-30';
TRUNCATE seven_ref;
INSERT INTO seven_ref
SELECT k, sum((v->>'totalRequests')::numeric), sum((v->>'totalTokens')::numeric), sum((v->>'promptTokens')::numeric),
       sum((v->>'completionTokens')::numeric), sum((v->>'totalCost')::numeric), sum((v->>'successfulRequests')::numeric),
       sum((v->>'failedRequests')::numeric), count(*), max(date)
FROM daily_usage_cache, jsonb_each(aggregated_by_user) AS e(k, v)
WHERE date BETWEEN '2032-05-01' AND '2032-05-30'
GROUP BY k;
SELECT * FROM pg_temp.seven_check();
SELECT ducache_test_parallel_worker_days() > 0 AS workers_read_days;
SELECT ducache_test.force_workers(false);
RESET ducache.use_rollups;
-- A sum past bigint in a seven-metric entry: the general path's error, naming the key and field.
UPDATE daily_usage_cache SET aggregated_by_user = jsonb_set(aggregated_by_user, '{s2,successfulRequests}',
                                                            '9223372036854775000')
WHERE date BETWEEN '2032-05-02' AND '2032-05-03';
SELECT ducache_test.error_of($$SELECT count(*) FROM ducache_user_breakdown('2032-05-01', '2032-05-30')$$);
DELETE FROM daily_usage_cache WHERE date BETWEEN '2032-05-01' AND '2032-05-30';
DROP FUNCTION ducache_test_parallel_worker_days();
