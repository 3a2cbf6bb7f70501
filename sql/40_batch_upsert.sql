-- ducache_batch_upsert: actions, stored values, NULL arrays, empty batch, and every error class
-- with proof that nothing was written.
TRUNCATE daily_usage_cache;
CREATE FUNCTION pg_temp.checksum() RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY date)), 'empty') FROM daily_usage_cache AS t
$$;

-- First write inserts; rows come back in date order whatever the input order.
BEGIN;
SELECT * FROM ducache_batch_upsert(
    ARRAY['2025-05-03', '2025-05-01', '2025-05-02']::date[],
    ARRAY['{"day": 3}', '{"day": 1}', '{"day": 2}']::jsonb[],
    ARRAY['{"u1": {"totalRequests": 3}}', '{"u1": {"totalRequests": 1}}', NULL]::jsonb[],
    ARRAY['{"m": {"totalRequests": 3}}', '{}', '{}']::jsonb[],
    ARRAY['{"p": {"totalRequests": 3}}', '{}', '{}']::jsonb[],
    ARRAY['{"api_requests": 3}', NULL, '{"api_requests": 2}']::jsonb[],
    ARRAY[false, NULL, true]);
SELECT date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics,
       is_complete, cached_at = now() AS stamped_now
FROM daily_usage_cache ORDER BY date;
COMMIT;

-- Second write: an overlap updates, a new day inserts; NULL arrays store NULLs, NULL
-- is_complete means true, and the defaults of the last two arguments apply.
SELECT * FROM ducache_batch_upsert(ARRAY['2025-05-02', '2025-05-04']::date[],
                                   ARRAY['{"day": 2, "v": 2}', '{"day": 4}']::jsonb[], NULL, NULL, NULL);
SELECT date, raw_data, aggregated_by_user IS NULL AS user_null, total_metrics IS NULL AS totals_null, is_complete
FROM daily_usage_cache WHERE date IN ('2025-05-02', '2025-05-04') ORDER BY date;

-- An empty batch writes nothing and returns nothing.
SELECT count(*) AS rows_returned FROM ducache_batch_upsert('{}'::date[], '{}'::jsonb[], '{}', '{}', '{}');

-- Errors: nothing is half-written.
SELECT pg_temp.checksum() AS before \gset
SELECT what, ducache_test.error_of(stmt) AS error FROM (VALUES
    ('lengths differ', $$SELECT * FROM ducache_batch_upsert(ARRAY['2025-06-01', '2025-06-02']::date[], ARRAY['{}']::jsonb[], NULL, NULL, NULL)$$),
    ('NULL date', $$SELECT * FROM ducache_batch_upsert(ARRAY['2025-06-01', NULL]::date[], ARRAY['{}', '{}']::jsonb[], NULL, NULL, NULL)$$),
    ('NULL raw_data element', $$SELECT * FROM ducache_batch_upsert(ARRAY['2025-06-01', '2025-06-02']::date[], ARRAY['{}', NULL]::jsonb[], NULL, NULL, NULL)$$),
    ('NULL raw_data array', $$SELECT * FROM ducache_batch_upsert(ARRAY['2025-06-01']::date[], NULL, NULL, NULL, NULL)$$),
    ('NULL dates array', $$SELECT * FROM ducache_batch_upsert(NULL, ARRAY['{}']::jsonb[], NULL, NULL, NULL)$$),
    ('same date twice', $$SELECT * FROM ducache_batch_upsert(ARRAY['2025-06-01', '2025-06-02', '2025-06-01']::date[], ARRAY['{}', '{}', '{}']::jsonb[], NULL, NULL, NULL)$$),
    ('raw_data not an object', $$SELECT * FROM ducache_batch_upsert(ARRAY['2025-06-01', '2025-06-02']::date[], ARRAY['{}', '[1, 2]']::jsonb[], NULL, NULL, NULL)$$),
    ('breakdown not an object', $$SELECT * FROM ducache_batch_upsert(ARRAY['2025-06-01']::date[], ARRAY['{}']::jsonb[], NULL, ARRAY['"text"']::jsonb[], NULL)$$),
    ('totals not an object', $$SELECT * FROM ducache_batch_upsert(ARRAY['2025-06-01']::date[], ARRAY['{}']::jsonb[], NULL, NULL, NULL, ARRAY['42']::jsonb[])$$),
    ('infinity date', $$SELECT * FROM ducache_batch_upsert(ARRAY['2025-06-01', 'infinity']::date[], ARRAY['{}', '{}']::jsonb[], NULL, NULL, NULL)$$),
    ('two-dimensional', $$SELECT * FROM ducache_batch_upsert(ARRAY[['2025-06-01'], ['2025-06-02']]::date[], ARRAY['{}', '{}']::jsonb[], NULL, NULL, NULL)$$),
    ('is_complete too short', $$SELECT * FROM ducache_batch_upsert(ARRAY['2025-06-01', '2025-06-02']::date[], ARRAY['{}', '{}']::jsonb[], NULL, NULL, NULL, NULL, ARRAY[true])$$)
) AS cases(what, stmt);
SELECT pg_temp.checksum() = :'before' AS table_unchanged;

-- Without INSERT/UPDATE rights the write is refused by PostgreSQL itself (42501), nothing written.
CREATE ROLE ducache_reader;
GRANT SELECT ON daily_usage_cache TO ducache_reader;
SET ROLE ducache_reader;
SELECT ducache_test.error_of($$SELECT * FROM ducache_batch_upsert(ARRAY['2025-06-01']::date[], ARRAY['{}']::jsonb[], NULL, NULL, NULL)$$);
RESET ROLE;
SELECT pg_temp.checksum() = :'before' AS table_unchanged_after_denied_write;

-- The breakdowns read what was written.
SELECT user_id, total_requests, active_days FROM ducache_user_breakdown('2025-05-01', '2025-05-31');

-- Several calls in one transaction, plus a later one: the last write wins for each day.
BEGIN;
SELECT count(*) FROM ducache_batch_upsert(ARRAY['2025-05-10', '2025-05-11']::date[], ARRAY['{"v": 1}', '{"v": 1}']::jsonb[], NULL, NULL, NULL);
SELECT count(*) FROM ducache_batch_upsert(ARRAY['2025-05-11', '2025-05-10']::date[], ARRAY['{"v": 2}', '{"v": 2}']::jsonb[], NULL, NULL, NULL);
COMMIT;
SELECT date, raw_data FROM daily_usage_cache WHERE date >= '2025-05-10' ORDER BY date;

REVOKE ALL ON daily_usage_cache FROM ducache_reader;
DROP ROLE ducache_reader;
TRUNCATE daily_usage_cache;
