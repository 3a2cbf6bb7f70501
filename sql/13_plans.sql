-- Plans with 400 cached days and fresh statistics: date lookups and ranges use a date btree,
-- key-existence tests use the GIN index.
CREATE EXTENSION IF NOT EXISTS ducache;
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider)
SELECT date '2024-01-01' + i,
       (SELECT jsonb_object_agg('user-' || u, jsonb_build_object('totalRequests', u, 'totalCost', 0.01 * u))
        FROM generate_series((i % 50) * 10, (i % 50) * 10 + 19) AS u),
       jsonb_build_object('model-' || (i % 7), jsonb_build_object('totalRequests', i)),
       jsonb_build_object('provider-' || (i % 3), jsonb_build_object('totalRequests', i))
FROM generate_series(0, 399) AS i;
-- Move GIN entries out of the pending list (fastupdate) so the planner prices the index
-- fairly; autovacuum does the same in production.
VACUUM ANALYZE daily_usage_cache;

-- Single date: the planner picks idx_daily_usage_cache_date. The primary key is an identical
-- btree on (date) and costs the same; the planner keeps the later-considered of two equal
-- paths. Either proves a date-btree lookup; docs/indexes.md measures what keeping the
-- duplicate costs on writes.
SELECT * FROM ducache_test.plan_of($$SELECT * FROM daily_usage_cache WHERE date = date '2024-06-01'$$);
SELECT bool_or(line ~ 'Index Scan using (daily_usage_cache_pkey|idx_daily_usage_cache_date) on daily_usage_cache')
       AS single_date_uses_date_btree
FROM ducache_test.plan_of($$SELECT * FROM daily_usage_cache WHERE date = date '2024-06-01'$$) AS line;

-- One week.
SELECT * FROM ducache_test.plan_of($$SELECT date, aggregated_by_user FROM daily_usage_cache
                                     WHERE date BETWEEN date '2024-06-01' AND date '2024-06-07' ORDER BY date$$);
SELECT bool_or(line ~ 'Index Scan using (daily_usage_cache_pkey|idx_daily_usage_cache_date)')
       AND NOT bool_or(line ~ 'Seq Scan') AS week_uses_date_btree
FROM ducache_test.plan_of($$SELECT date, aggregated_by_user FROM daily_usage_cache
                            WHERE date BETWEEN date '2024-06-01' AND date '2024-06-07' ORDER BY date$$) AS line;

-- Key existence: a bitmap scan on the user GIN index.
SELECT * FROM ducache_test.plan_of($$SELECT date FROM daily_usage_cache WHERE aggregated_by_user ? 'user-42'$$);
SELECT bool_or(line ~ 'Bitmap Index Scan on idx_daily_usage_cache_user_jsonb') AS user_key_uses_gin
FROM ducache_test.plan_of($$SELECT date FROM daily_usage_cache WHERE aggregated_by_user ? 'user-42'$$) AS line;
-- ... and the index answers exactly what a sequential scan answers.
SELECT count(*) AS days_with_user_42 FROM daily_usage_cache WHERE aggregated_by_user ? 'user-42';
SET enable_bitmapscan = off; SET enable_indexscan = off;
SELECT count(*) AS days_with_user_42_seqscan FROM daily_usage_cache WHERE aggregated_by_user ? 'user-42';
RESET enable_bitmapscan; RESET enable_indexscan;
-- Model and provider GIN indexes serve their columns too.
SELECT bool_or(line ~ 'Bitmap Index Scan on idx_daily_usage_cache_model_jsonb') AS model_key_uses_gin
FROM ducache_test.plan_of($$SELECT date FROM daily_usage_cache WHERE aggregated_by_model ? 'model-3'$$) AS line;
-- Freshness check (latest write per day in a range) can use (date, cached_at).
SELECT bool_or(line ~ 'Index (Only )?Scan using (idx_daily_usage_cache_date_cached_at|daily_usage_cache_pkey|idx_daily_usage_cache_date)')
       AS freshness_uses_btree
FROM ducache_test.plan_of($$SELECT date, cached_at FROM daily_usage_cache
                            WHERE date BETWEEN date '2024-06-01' AND date '2024-06-30'$$) AS line;

TRUNCATE daily_usage_cache;
