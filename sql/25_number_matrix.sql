-- The number and range matrix of CONTRACT §2-§4, through every read function (and the
-- writers for ranges, dates and NULLs): each bad-value class gives the same SQLSTATE in all six
-- read paths with the date in the message; every valid number form gives plain SQL's answer
-- digit for digit; bad ranges and NULLs behave alike everywhere.
SET ducache.users_table = '';

-- A matrix cell: the statement's first value, or the SQLSTATE it ends with, flagged when the
-- message and DETAIL do not name the day.
CREATE FUNCTION pg_temp.cell(stmt text, day date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text; v text;
BEGIN
    EXECUTE stmt INTO v;
    RETURN coalesce(v, 'NULL');
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || CASE WHEN day IS NULL OR (msg || det) LIKE '%' || to_char(day, 'YYYY-MM-DD') || '%' THEN '' ELSE ' (day not named)' END;
END $$;

-- 1. Bad values: one class per day (the cases of 22_read_errors), in all three breakdown
--    columns, read by all six paths (the merge as ducache_merge(column, date)).
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider)
SELECT day, users, users, users FROM ref.bad_cases;
SELECT what,
       pg_temp.cell(format('SELECT count(*) FROM ducache_user_breakdown(%L, %L)', day, day), day) AS users,
       pg_temp.cell(format('SELECT count(*) FROM ducache_model_breakdown(%L, %L)', day, day), day) AS models,
       pg_temp.cell(format('SELECT count(*) FROM ducache_provider_breakdown(%L, %L)', day, day), day) AS providers,
       pg_temp.cell(format('SELECT count(*) FROM ducache_analytics(%L, %L)', day, day), day) AS analytics,
       pg_temp.cell(format('SELECT count(*) FROM ducache_daily_trend(%L, %L)', day, day), day) AS trend,
       pg_temp.cell(format('SELECT ducache_merge(aggregated_by_provider, date) FROM daily_usage_cache WHERE date = %L', day), day) AS merge
FROM ref.bad_cases ORDER BY day;
-- ducache_merge(jsonb) has no date to name: its errors name the input row instead.
SELECT ducache_test.error_of($$SELECT ducache_merge(aggregated_by_provider) FROM daily_usage_cache WHERE date = '2030-01-09'$$);
SELECT ducache_test.error_of($$SELECT ducache_merge(aggregated_by_provider, date) FROM daily_usage_cache WHERE date = '2030-01-09'$$);
DELETE FROM daily_usage_cache WHERE date >= '2030-01-01';

-- 2. Valid number forms: number strings, exponents, 12.0, negative refunds, JSON null, a
--    missing field, tiny and huge costs, and sums past 2^63 (cost is numeric; the request
--    count of "b", and the period's total, end exactly at bigint's maximum).
CREATE TEMP TABLE valid_days (date date, entries jsonb);
INSERT INTO valid_days VALUES
    ('2031-03-01', '{"a": {"totalRequests": "12", "totalCost": "-0.5"},
                     "b": {"totalRequests": 1e3, "totalCost": "1e-20"}}'),
    ('2031-03-02', '{"a": {"totalRequests": 12.0, "totalCost": 0.1},
                     "b": {"totalRequests": "1.5e1", "totalCost": 0.2},
                     "c": {"totalRequests": null, "totalCost": null}}'),
    ('2031-03-03', '{"a": {"totalRequests": -24, "totalCost": 9223372036854775807},
                     "b": {"totalRequests": 9223372036854774000, "totalCost": 9223372036854775807},
                     "c": {}}'),
    ('2031-03-04', '{"a": {"totalCost": "1E+2"},
                     "b": {"totalRequests": "792", "totalCost": 1.000}}');
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider)
SELECT date, entries, entries, entries FROM valid_days;
-- The reference: plain SQL over the same entries, numbers cast to numeric.
CREATE TEMP VIEW ref_keys AS
SELECT e.key, COALESCE(sum((e.value->>'totalRequests')::numeric), 0) AS requests,
       COALESCE(sum((e.value->>'totalCost')::numeric), 0) AS cost, count(*) AS days
FROM valid_days, jsonb_each(entries) AS e GROUP BY e.key;
SELECT key, requests, cost, days FROM ref_keys ORDER BY key;
SELECT 'users' AS path, count(*) AS rows,
       bool_and(r.requests = d.total_requests AND r.cost::text = d.total_cost::text AND r.days = d.active_days) AS equal
FROM ducache_user_breakdown('2031-03-01', '2031-03-04') AS d JOIN ref_keys AS r ON r.key = d.user_id
UNION ALL
SELECT 'models', count(*), bool_and(r.requests = d.total_requests AND r.cost::text = d.total_cost::text AND r.days = d.active_days)
FROM ducache_model_breakdown('2031-03-01', '2031-03-04') AS d JOIN ref_keys AS r ON r.key = d.model
UNION ALL
SELECT 'providers', count(*), bool_and(r.requests = d.total_requests AND r.cost::text = d.total_cost::text AND r.days = d.active_days)
FROM ducache_provider_breakdown('2031-03-01', '2031-03-04') AS d JOIN ref_keys AS r ON r.key = d.provider
UNION ALL
SELECT 'merge', count(*), bool_and(r.requests = (m.value->>'requests')::numeric AND r.cost::text = m.value->>'cost'
                                   AND r.days = (m.value->>'days')::int)
FROM jsonb_each((SELECT ducache_merge(aggregated_by_model) FROM daily_usage_cache
                 WHERE date BETWEEN '2031-03-01' AND '2031-03-04')) AS m JOIN ref_keys AS r ON r.key = m.key
UNION ALL
SELECT 'analytics', 1, a.active_users = (SELECT count(*) FROM ref_keys)
                       AND a.total_requests = (SELECT sum(requests) FROM ref_keys)
                       AND a.total_cost::text = (SELECT sum(cost) FROM ref_keys)::text
FROM ducache_analytics('2031-03-01', '2031-03-04') AS a
UNION ALL
SELECT 'trend', count(*), bool_and(t.total_requests = r.requests AND t.total_cost::text = r.cost::text AND t.active_users = r.users)
FROM ducache_daily_trend('2031-03-01', '2031-03-04') AS t
JOIN (SELECT date, COALESCE(sum((e.value->>'totalRequests')::numeric), 0) AS requests,
             COALESCE(sum((e.value->>'totalCost')::numeric), 0) AS cost, count(*) AS users
      FROM valid_days, jsonb_each(entries) AS e GROUP BY date) AS r ON r.date = t.date;

SELECT ducache_merge(aggregated_by_model, date) = ducache_merge(aggregated_by_model) AS dated_merge_equal
FROM daily_usage_cache WHERE date BETWEEN '2031-03-01' AND '2031-03-04';

-- One more request for "b" passes bigint: an ERROR (22003) in every path that sums across
-- days; the daily trend sums one day at a time, so it still answers.
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider)
VALUES ('2031-03-05', '{"b": {"totalRequests": 1}}', '{"b": {"totalRequests": 1}}', '{"b": {"totalRequests": 1}}');
SELECT pg_temp.cell($$SELECT count(*) FROM ducache_user_breakdown('2031-03-01', '2031-03-05')$$, NULL) AS users,
       pg_temp.cell($$SELECT count(*) FROM ducache_model_breakdown('2031-03-01', '2031-03-05')$$, NULL) AS models,
       pg_temp.cell($$SELECT count(*) FROM ducache_provider_breakdown('2031-03-01', '2031-03-05')$$, NULL) AS providers,
       pg_temp.cell($$SELECT count(*) FROM ducache_analytics('2031-03-01', '2031-03-05')$$, NULL) AS analytics,
       pg_temp.cell($$SELECT count(*) FROM ducache_daily_trend('2031-03-01', '2031-03-05')$$, NULL) AS trend,
       pg_temp.cell($$SELECT ducache_merge(aggregated_by_user) FROM daily_usage_cache WHERE date >= '2031-03-01'$$, NULL) AS merge;

-- Values at numeric's limits (2e122912 has 122,913 digits; 1e-16000 has 16,000 decimals), as
-- numbers and as strings: still digit for digit, through every path that sums cost.
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider)
SELECT d, j, j, j FROM (VALUES
    ('2031-03-10'::date, '{"h": {"totalCost": 2e122912}, "t": {"totalCost": 1e-16000}}'::jsonb),
    ('2031-03-11', '{"h": {"totalCost": "-1e122912"}, "t": {"totalCost": "3.5"}}')) AS v(d, j);
CREATE TEMP VIEW huge_ref AS
SELECT e.key, sum((e.value->>'totalCost')::numeric) AS cost
FROM daily_usage_cache, jsonb_each(aggregated_by_user) AS e WHERE date >= '2031-03-10' GROUP BY e.key;
SELECT key, length(cost::text) AS digits,
       cost::text = (SELECT total_cost::text FROM ducache_user_breakdown('2031-03-10', '2031-03-11') WHERE user_id = key) AS users,
       cost::text = (SELECT total_cost::text FROM ducache_provider_breakdown('2031-03-10', '2031-03-11') WHERE provider = key) AS providers,
       cost::text = (SELECT ducache_merge(aggregated_by_model)->key->>'cost' FROM daily_usage_cache WHERE date >= '2031-03-10') AS merge
FROM huge_ref ORDER BY key;
SELECT total_cost::text = (SELECT sum(cost)::text FROM huge_ref) AS analytics_total
FROM ducache_analytics('2031-03-10', '2031-03-11');
DELETE FROM daily_usage_cache WHERE date >= '2031-03-10';

-- Entries too big for the reader's layout cache (more than 32 keys, or long keys) take the
-- uncached path: same answers, same alias order (null falls through), same error naming.
INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES
    ('2031-03-20', (SELECT jsonb_object_agg('extra_' || i, i) FROM generate_series(1, 40) AS i)
                   || '{"totalRequests": null, "api_requests": 7, "requests": 9, "spend": "1.25"}'),
    ('2031-03-21', jsonb_build_object(repeat('k', 600), 1, 'requests', 5, 'cost', 0.5)),
    ('2031-03-22', jsonb_build_object('metrics', (SELECT jsonb_object_agg('m_' || i, i) FROM generate_series(1, 40) AS i)
                                                 || '{"total_tokens": 11, "completion_tokens": 4}'));
UPDATE daily_usage_cache SET aggregated_by_user = jsonb_build_object('big', aggregated_by_user) WHERE date >= '2031-03-20';
SELECT user_id, total_requests, total_tokens, completion_tokens, total_cost, active_days
FROM ducache_user_breakdown('2031-03-20', '2031-03-22');
UPDATE daily_usage_cache SET aggregated_by_user = jsonb_set(aggregated_by_user, '{big,api_requests}', '"x"') WHERE date = '2031-03-20';
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2031-03-20', '2031-03-20')$$);
DELETE FROM daily_usage_cache WHERE date >= '2031-03-20';

-- Result rows laid out by ducache (pg/tuple_writer.cpp, round 12 of issue 13), against plain
-- SQL over the same rows: keys of 126 and 127 bytes (the 1-byte header's limit), one longer
-- than the writer's 16 KB batch buffer, a cost past 128 bits (its numeric from numeric_in), a
-- negative cost, NULL identity columns, a last_active per key.
INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES
    ('2031-03-23', jsonb_build_object(repeat('a', 126), jsonb_build_object('requests', 1, 'cost', 0.5),
                                      repeat('b', 127), jsonb_build_object('requests', 2, 'cost', 1.25),
                                      repeat('c', 20000), jsonb_build_object('requests', 3, 'cost', 123456789012345678901234567890123456789012.5),
                                      'x', jsonb_build_object('requests', 5, 'cost', -7))),
    ('2031-03-24', jsonb_build_object(repeat('b', 127), jsonb_build_object('requests', 4, 'cost', 0.000001),
                                      'y', jsonb_build_object('requests', 6)));
SELECT length(b.user_id) AS key_bytes, b.username IS NULL AND b.email IS NULL AND b.role IS NULL AS no_identity,
       b.total_requests, b.total_cost, b.active_days, b.last_active,
       (b.total_requests, b.total_cost, b.active_days, b.last_active) IS NOT DISTINCT FROM
       (SELECT (sum((e.value->>'requests')::numeric)::bigint, COALESCE(sum((e.value->>'cost')::numeric), 0),
                count(*)::int, max(c.date))
        FROM daily_usage_cache AS c, jsonb_each(c.aggregated_by_user) AS e
        WHERE c.date BETWEEN '2031-03-23' AND '2031-03-24' AND e.key = b.user_id) AS as_plain_sql
FROM ducache_user_breakdown('2031-03-23', '2031-03-24') AS b;
DELETE FROM daily_usage_cache WHERE date >= '2031-03-23';

-- 3. Ranges through every function that takes one (cells: rows returned, or the SQLSTATE):
--    reversed 22023, ±infinity 22008, a NULL bound is STRICT (no call, no rows), an empty
--    range gives no rows (analytics: one row of zeros).
CREATE TEMP TABLE ranges (what text, s date, e date);
INSERT INTO ranges VALUES ('reversed', '2031-03-04', '2031-03-01'), ('-infinity start', '-infinity', '2031-03-01'),
                          ('infinity end', '2031-03-01', 'infinity'), ('NULL start', NULL, '2031-03-01'),
                          ('NULL end', '2031-03-01', NULL), ('empty', '1999-01-01', '1999-12-31');
SELECT what,
       pg_temp.cell(format('SELECT count(*) FROM ducache_user_breakdown(%L, %L)', s, e), NULL) AS users,
       pg_temp.cell(format('SELECT count(*) FROM ducache_model_breakdown(%L, %L)', s, e), NULL) AS models,
       pg_temp.cell(format('SELECT count(*) FROM ducache_provider_breakdown(%L, %L)', s, e), NULL) AS providers,
       pg_temp.cell(format('SELECT count(*) FROM ducache_daily_trend(%L, %L)', s, e), NULL) AS trend,
       pg_temp.cell(format('SELECT count(*) FROM ducache_rebuild(%L, %L)', s, e), NULL) AS rebuild
FROM ranges ORDER BY what;
SELECT what, pg_temp.cell(format('SELECT count(*) FROM ducache_analytics(%L, %L)', s, e), NULL) AS analytics_rows,
       (SELECT row(days_cached, active_users, total_requests, total_cost)::text
        FROM ducache_analytics(r.s, r.e) WHERE r.s <= r.e AND r.s > '-infinity' AND r.e < 'infinity') AS analytics_row
FROM ranges AS r ORDER BY what;
-- The merge aggregate skips NULL inputs; over no rows (or only NULLs) it is NULL.
SELECT ducache_merge(x) IS NULL AS merge_of_nulls FROM (VALUES (NULL::jsonb), (NULL)) AS t(x);
SELECT ducache_merge(aggregated_by_user) IS NULL AS merge_of_no_rows FROM daily_usage_cache WHERE false;
SELECT ducache_merge(x)->'k'->>'requests' AS merge_skips_null FROM (VALUES (NULL::jsonb), ('{"k": {"totalRequests": 2}}')) AS t(x);

-- 4. Dates and NULLs through the upsert: ±infinity 22008, NULL element 22004, NULL date array
--    22004; nothing is written by any of them.
SELECT what, pg_temp.cell(stmt, NULL) AS upsert FROM (VALUES
    ('infinity date', $$SELECT * FROM ducache_batch_upsert(ARRAY['2031-04-01', 'infinity']::date[], ARRAY['{}', '{}']::jsonb[], NULL, NULL, NULL)$$),
    ('-infinity date', $$SELECT * FROM ducache_batch_upsert(ARRAY['-infinity']::date[], ARRAY['{}']::jsonb[], NULL, NULL, NULL)$$),
    ('NULL date', $$SELECT * FROM ducache_batch_upsert(ARRAY['2031-04-01', NULL]::date[], ARRAY['{}', '{}']::jsonb[], NULL, NULL, NULL)$$),
    ('NULL dates array', $$SELECT * FROM ducache_batch_upsert(NULL, ARRAY['{}']::jsonb[], NULL, NULL, NULL)$$),
    ('NULL raw_data element', $$SELECT * FROM ducache_batch_upsert(ARRAY['2031-04-01']::date[], ARRAY[NULL]::jsonb[], NULL, NULL, NULL)$$),
    ('NULL breakdown element', $$SELECT * FROM ducache_batch_upsert(ARRAY['2031-04-01']::date[], ARRAY['{}']::jsonb[], ARRAY[NULL]::jsonb[], NULL, NULL)$$)
) AS t(what, stmt) ORDER BY what;
-- The one valid call above (a NULL breakdown element stores NULL) wrote its day; nothing else.
SELECT date, aggregated_by_user IS NULL AS user_null FROM daily_usage_cache WHERE date >= '2031-04-01' ORDER BY date;
-- Numbers written by the upsert are stored as given and read like any other row.
SELECT count(*) FROM ducache_batch_upsert(ARRAY['2031-04-02']::date[], ARRAY['{}']::jsonb[],
                                          ARRAY['{"z": {"totalRequests": "7", "totalCost": "2.50"}}']::jsonb[], NULL, NULL);
SELECT user_id, total_requests, total_cost FROM ducache_user_breakdown('2031-04-02', '2031-04-02');

RESET ducache.users_table;

-- End of the read-path tests: leave an empty cache for the next ones.
SET client_min_messages = warning;
DROP SCHEMA ref CASCADE;
RESET client_min_messages;
TRUNCATE daily_usage_cache;
