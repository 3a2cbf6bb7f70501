-- ducache_rebuild under row-level security that lets the caller read every day but update only
-- some: it writes every day it reports, or raises 42501 naming the first day it could not
-- update and writes nothing at all (also days of earlier write batches).
SET client_min_messages = warning;  -- self-contained: no NOTICE whether or not 20 ran before
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
TRUNCATE daily_usage_cache;
SET ducache.users_table = '';
SET ducache.api_keys_table = '';
CREATE ROLE ducache_rls_rebuilder;
GRANT SELECT, UPDATE ON daily_usage_cache TO ducache_rls_rebuilder;
-- Twelve days (more than one write batch of 8), each with one key; a marker in the old value.
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user)
SELECT date '2025-08-01' + i,
       jsonb_build_object('breakdown', jsonb_build_object('models', jsonb_build_object('m', jsonb_build_object(
           'metrics', jsonb_build_object('api_requests', i),
           'api_keys', jsonb_build_object('k', jsonb_build_object('metrics', jsonb_build_object('api_requests', i + 1))))))),
       '{"old": {}}'
FROM generate_series(0, 11) AS i;
ALTER TABLE daily_usage_cache ENABLE ROW LEVEL SECURITY;
CREATE POLICY rls_read_all ON daily_usage_cache FOR SELECT TO ducache_rls_rebuilder USING (true);
CREATE POLICY rls_update_some ON daily_usage_cache FOR UPDATE TO ducache_rls_rebuilder
    USING (date NOT IN ('2025-08-03', '2025-08-11'));
CREATE VIEW pg_temp.old_days AS
SELECT count(*) FILTER (WHERE aggregated_by_user = '{"old": {}}') AS still_old, count(*) AS days FROM daily_usage_cache;

SET ROLE ducache_rls_rebuilder;
-- A forbidden day in the first batch, and one in the second batch only.
SELECT ducache_test.error_of($$SELECT * FROM ducache_rebuild('2025-08-01', '2025-08-12')$$) AS first_batch;
SELECT ducache_test.error_of($$SELECT * FROM ducache_rebuild('2025-08-04', '2025-08-12')$$) AS second_batch;
RESET ROLE;
SELECT * FROM pg_temp.old_days;

-- Days the caller may update are rebuilt, and equal what plain SQL sums from raw_data.
SET ROLE ducache_rls_rebuilder;
SELECT date, users, models FROM ducache_rebuild('2025-08-04', '2025-08-10');
RESET ROLE;
SELECT * FROM pg_temp.old_days;
SELECT bool_and((aggregated_by_user->'00000000-0000-0000-0000-000000000000'->'metrics'->>'api_requests')::int
                = (raw_data->'breakdown'->'models'->'m'->'api_keys'->'k'->'metrics'->>'api_requests')::int) AS rebuilt_right,
       count(*) AS rebuilt_days
FROM daily_usage_cache WHERE aggregated_by_user <> '{"old": {}}';

-- No day of the range updatable: the same error, naming that day. (A day that still holds its
-- old value: an already rebuilt day is 'unchanged' and needs no UPDATE at all, CONTRACT §9.)
CREATE POLICY rls_update_none ON daily_usage_cache AS RESTRICTIVE FOR UPDATE TO ducache_rls_rebuilder USING (false);
SET ROLE ducache_rls_rebuilder;
SELECT ducache_test.error_of($$SELECT * FROM ducache_rebuild('2025-08-01', '2025-08-01')$$) AS no_day_updatable;
RESET ROLE;
SELECT * FROM pg_temp.old_days;

ALTER TABLE daily_usage_cache DISABLE ROW LEVEL SECURITY;
DROP POLICY rls_read_all ON daily_usage_cache;
DROP POLICY rls_update_some ON daily_usage_cache;
DROP POLICY rls_update_none ON daily_usage_cache;
REVOKE ALL ON daily_usage_cache FROM ducache_rls_rebuilder;
DROP ROLE ducache_rls_rebuilder;
RESET ducache.users_table;
RESET ducache.api_keys_table;
TRUNCATE daily_usage_cache;
