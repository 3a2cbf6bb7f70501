-- Every bad-value class of CONTRACT §2 is an ERROR with a specific SQLSTATE whose message names
-- the date, the key and the field; bad ranges too. Each case sits alone on its own day of 2030.
CREATE TABLE ref.bad_cases (day date, what text, users jsonb);
INSERT INTO ref.bad_cases VALUES
    ('2030-01-01', 'string that is not a number', '{"u1": {"totalRequests": "lots"}}'),
    ('2030-01-02', 'empty string',                '{"u1": {"totalCost": ""}}'),
    ('2030-01-03', 'string with a space',         '{"u1": {"totalTokens": " 12"}}'),
    ('2030-01-04', 'NaN string',                  '{"u1": {"spend": "NaN"}}'),
    ('2030-01-05', 'Infinity string',             '{"u1": {"metrics": {"spend": "Infinity"}}}'),
    ('2030-01-06', 'boolean',                     '{"u1": {"totalRequests": true}}'),
    ('2030-01-07', 'object',                      '{"u1": {"metrics": {"api_requests": {"n": 1}}}}'),
    ('2030-01-08', 'array',                       '{"u1": {"totalCost": [1]}}'),
    ('2030-01-09', 'fractional count',            '{"u1": {"totalRequests": 12.5}}'),
    ('2030-01-10', 'fractional count as string',  '{"u1": {"failed_requests": "0.5"}}'),
    ('2030-01-11', 'count beyond bigint',         '{"u1": {"totalTokens": 9223372036854775808}}'),
    ('2030-01-12', 'entry not an object',         '{"u1": 42}'),
    ('2030-01-13', 'top level not an object',     '[{"u1": {}}]'),
    ('2030-01-14', 'metrics not an object',       '{"u1": {"metrics": "none"}}'),
    ('2030-01-15', 'top level scalar',            '"text"');
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider)
SELECT day, users, users, users FROM ref.bad_cases;

SELECT what, ducache_test.error_of(format('SELECT * FROM ducache_user_breakdown(%L, %L)', day, day)) AS error
FROM ref.bad_cases ORDER BY day;
-- Same classes through the other functions (one each, they share the reader).
SELECT ducache_test.error_of($$SELECT * FROM ducache_model_breakdown('2030-01-09', '2030-01-09')$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_provider_breakdown('2030-01-06', '2030-01-06')$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_analytics('2030-01-01', '2030-01-01')$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_daily_trend('2030-01-12', '2030-01-12')$$);
SELECT ducache_test.error_of($$SELECT ducache_merge(aggregated_by_model) FROM daily_usage_cache WHERE date = '2030-01-04'$$);

-- Sums past bigint are an ERROR, never a wrap.
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model) VALUES
    ('2030-02-01', '{"big": {"totalRequests": 9223372036854775807}}', '{"big": {"totalRequests": 9223372036854775807}}'),
    ('2030-02-02', '{"big": {"totalRequests": 1}}', '{"big": {"totalRequests": 1}}');
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2030-02-01', '2030-02-02')$$);
SELECT ducache_test.error_of($$SELECT ducache_merge(aggregated_by_model) FROM daily_usage_cache WHERE date BETWEEN '2030-02-01' AND '2030-02-02'$$);
-- ... while one value at the edge is fine, and negative values are summed as they are.
SELECT user_id, total_requests FROM ducache_user_breakdown('2030-02-01', '2030-02-01');

-- Bad ranges.
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2025-03-10', '2025-03-01')$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_model_breakdown('-infinity', '2025-03-01')$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_provider_breakdown('2025-03-01', 'infinity')$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_daily_trend('2025-03-10', '2025-03-01')$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_analytics('2025-03-10', '2025-03-01')$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_analytics('2025-03-01', 'infinity')$$);
-- STRICT: a NULL bound gives no rows, like any strict set-returning function.
SELECT count(*) AS rows_for_null_bound FROM ducache_user_breakdown(NULL, '2025-03-01');

-- A users table that cannot be used is an ERROR naming it.
SET ducache.users_table = 'ref.no_such_table';
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2025-03-01', '2025-03-10')$$);
CREATE TABLE ref.users_no_email (id text, username text, role text);
SET ducache.users_table = 'ref.users_no_email';
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2025-03-01', '2025-03-10')$$);
SET ducache.users_table = 'users; DROP TABLE ref.users';
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2025-03-01', '2025-03-10')$$);
SELECT count(*) AS users_table_still_there FROM ref.users;
SET ducache.users_table = '"ref"."users"';
SELECT count(*) AS quoted_name_resolves FROM ducache_user_breakdown('2025-03-01', '2025-03-10') WHERE username LIKE 'table-user-%';
RESET ducache.users_table;

DELETE FROM daily_usage_cache WHERE date >= '2030-01-01';
