-- One overflow error for every count sum (core/count_sum.hpp): the daily trend (keys of one
-- day) and the period totals behind ducache_analytics (all users of the period) name the key
-- and the field whose sum passes bigint, like the breakdowns do (22_read_errors).
-- Own rows (2031), removed at the end; needs only 00_setup (the extension is there after 20).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES
    ('2031-01-01', '{"a": {"totalTokens": 9223372036854775807}, "b": {"totalTokens": 1}}'),
    ('2031-02-01', '{"a": {"metrics": {"api_requests": 9223372036854775807}}}'),
    ('2031-02-02', '{"b": {"metrics": {"api_requests": 1}}}');

-- Plain SQL: both sums do pass bigint.
SELECT 'one day' AS rows, sum((COALESCE(x.value->>'totalTokens', x.value->'metrics'->>'api_requests'))::numeric) > 9223372036854775807 AS passes_bigint
FROM daily_usage_cache, jsonb_each(aggregated_by_user) AS x
WHERE date = '2031-01-01'
UNION ALL
SELECT 'the period', sum((x.value->'metrics'->>'api_requests')::numeric) > 9223372036854775807
FROM daily_usage_cache, jsonb_each(aggregated_by_user) AS x
WHERE date BETWEEN '2031-02-01' AND '2031-02-02';

SELECT ducache_test.error_of($$SELECT * FROM ducache_daily_trend('2031-01-01', '2031-01-01')$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_analytics('2031-02-01', '2031-02-02')$$);

-- Each user alone stays within bigint: the breakdown of the same period is fine.
SELECT user_id, total_requests FROM ducache_user_breakdown('2031-02-01', '2031-02-02') ORDER BY user_id;

DELETE FROM daily_usage_cache WHERE date >= '2031-01-01';
