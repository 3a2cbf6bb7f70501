-- CONTRACT §7, the readers: every read function answers whole calendar months inside its range
-- from fresh month rollups and reads only the other days, with the results of reading the days.
-- Checked against the plain-SQL references of test/reference/cells.sql over the same days,
-- and shown to really read a rollup: a rollup tampered with (as superuser, no change logged)
-- changes the answer; a logged change to the month makes it right again. Callers who may not
-- read every row (column privileges only, row-level security) read the days.
-- Own rows: the cache and the rollups are emptied first and last; needs 00_setup.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
DELETE FROM daily_usage_cache;
DELETE FROM ducache_rollups;
DELETE FROM ducache_rollup_changes;
\set ECHO none
SET client_min_messages = warning;
\i test/reference/litemaas_gen.sql
\i test/reference/cells.sql
RESET client_min_messages;
\set ECHO all

-- 2025-02-25 .. 2025-04-03 (38 days, 3 users + the Unknown User): whole March, parts of
-- February and April.
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model,
                               aggregated_by_provider, total_metrics)
SELECT g.* FROM generate_series(0, 37) AS d, LATERAL litemaas_ref.gen_day(3, d, date '2025-02-25') AS g;
SELECT month, action FROM ducache_refresh_rollups();
SELECT month, built, length(replace(days::bit(32)::text, '0', '')) AS days_cached,
       (SELECT count(*) FROM daily_usage_cache d WHERE date_trunc('month', d.date)::date = r.month) AS day_rows
FROM ducache_rollups r ORDER BY month;
SHOW ducache.use_rollups;

-- Rows of ducache_<fn> and litemaas_ref.<fn> that differ (text and position), both ways.
CREATE FUNCTION pg_temp.diff(fn text, s date, e date, u text[], m text[], k text[], OUT diffs bigint, OUT rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
    args text := format('%L::date, %L::date, %L::text[], %L::text[], %L::text[]', s, e, u, m, k);
    duc text[];
    ref text[];
BEGIN
    EXECUTE format('SELECT array(SELECT t::text FROM ducache_%s(%s) t)', fn, args) INTO duc;
    EXECUTE format('SELECT array(SELECT t::text FROM litemaas_ref.%s(%s) t)', fn, args) INTO ref;
    SELECT count(*) INTO diffs FROM (
        (SELECT * FROM unnest(duc) WITH ORDINALITY EXCEPT ALL SELECT * FROM unnest(ref) WITH ORDINALITY)
        UNION ALL
        (SELECT * FROM unnest(ref) WITH ORDINALITY EXCEPT ALL SELECT * FROM unnest(duc) WITH ORDINALITY)) d;
    rows := cardinality(ref);
END $$;

-- Every function, against the reference: a range with whole March and parts of the months
-- around it; no filter, users and models, keys: 0 differing rows.
SELECT fn, count(*) AS calls, sum(d.diffs) AS differing_rows, sum(d.rows) > 0 AS compared_rows
FROM unnest(ARRAY['user_breakdown', 'model_breakdown', 'provider_breakdown', 'analytics', 'daily_trend',
                  'user_model_breakdown', 'api_key_breakdown']) AS fn,
     (VALUES (date '2025-02-27', date '2025-04-02')) AS r(s, e),
     (VALUES (NULL::text[], NULL::text[], NULL::text[]),
             (ARRAY['00000000-0000-0000-0000-000000000000', litemaas_ref.user_id(2)], '{gpt-4o,meta-llama/Llama-3.1-8B-Instruct}', NULL),
             (NULL, NULL, '{team-shared,u1-ci}')) AS f(u, m, k),
     LATERAL pg_temp.diff(fn, s, e, f.u, f.m, f.k) d
GROUP BY fn ORDER BY fn;

-- More ranges (no whole month, the whole table, a month but its last day, unbounded around
-- it), every function with and without rollups: the same rows in the same order.
CREATE FUNCTION pg_temp.run(q text, rollups boolean) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE r text[];
BEGIN
    PERFORM set_config('ducache.use_rollups', rollups::text, true);
    EXECUTE 'SELECT array(SELECT x::text FROM (' || q || ') x)' INTO r;
    RETURN r;
END $$;
SELECT count(*) AS calls, count(*) FILTER (WHERE pg_temp.run(q, true) IS DISTINCT FROM pg_temp.run(q, false)) AS differing_calls
FROM (SELECT format('SELECT * FROM ducache_%s(%L, %L, %s)', fn, s, e, f) AS q
      FROM unnest(ARRAY['user_breakdown', 'model_breakdown', 'provider_breakdown', 'analytics', 'daily_trend',
                        'user_model_breakdown', 'api_key_breakdown']) AS fn,
           (VALUES (date '2025-03-02', date '2025-03-31'), ('2025-03-01', '2025-03-31'), ('2025-03-01', '2025-03-30'),
                   ('2025-01-01', '2025-12-31'), ('2025-03-01', '2025-04-30')) AS r(s, e),
           (VALUES ('NULL, NULL, NULL'), ('ARRAY[' || quote_literal(litemaas_ref.user_id(1)) || '], NULL, NULL'),
                   ($$NULL, '{gpt-4o}', NULL$$),
                   ($$NULL, '{claude-3-5-sonnet}', '{u1-laptop,u2-ci,team-shared}'$$)) AS f(f)
      UNION ALL
      SELECT format('SELECT ducache_%s(%L, %L)', fn, s, e)
      FROM unnest(ARRAY['dashboard', 'filter_options']) AS fn,
           (VALUES (date '2025-02-25', date '2025-04-03'), ('2025-03-01', '2025-03-31')) AS r(s, e)) qs;

-- The comparison can fail: a filtered call against the reference without the filter.
SELECT (SELECT count(*) FROM ((SELECT t::text FROM ducache_user_breakdown('2025-03-01', '2025-04-03', NULL, '{gpt-4o}') t)
        EXCEPT ALL (SELECT t::text FROM litemaas_ref.user_breakdown('2025-03-01', '2025-04-03') t)) x) > 0 AS detects_a_difference;

-- A rollup is really read: tamper with March's documents (as superuser: no change is logged).
-- Every reader of a whole March now answers the tampered sums; days only, or a range without
-- whole March, answers the days'.
SET ducache.use_rollups = off;
CREATE TEMP TABLE truth AS
SELECT (SELECT total_requests FROM ducache_user_breakdown('2025-03-01', '2025-03-31') WHERE user_id = litemaas_ref.user_id(2)) AS user_requests,
       (SELECT total_requests FROM ducache_model_breakdown('2025-03-01', '2025-03-31') WHERE model = 'gpt-4o') AS model_requests,
       (SELECT total_requests FROM ducache_provider_breakdown('2025-03-01', '2025-03-31') WHERE provider = 'openai') AS provider_requests,
       (SELECT total_requests FROM ducache_daily_trend('2025-03-01', '2025-03-31') WHERE date = '2025-03-07') AS trend_requests,
       (SELECT total_requests FROM ducache_user_model_breakdown('2025-03-01', '2025-03-31') WHERE user_id = litemaas_ref.user_id(2) AND model = 'gpt-4o') AS cell_requests,
       (SELECT total_requests FROM ducache_analytics('2025-03-01', '2025-03-31')) AS period_requests;
RESET ducache.use_rollups;
UPDATE ducache_rollups
SET aggregated_by_user = jsonb_set(jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(2), 'metrics', 'totalRequests'],
                                             to_jsonb((aggregated_by_user #>> ARRAY[litemaas_ref.user_id(2), 'metrics', 'totalRequests'])::bigint + 1000000)),
                                   ARRAY[litemaas_ref.user_id(2), 'models', 'gpt-4o', 'metrics', 'totalRequests'],
                                   to_jsonb((aggregated_by_user #>> ARRAY[litemaas_ref.user_id(2), 'models', 'gpt-4o', 'metrics', 'totalRequests'])::bigint + 1000)),
    aggregated_by_model = jsonb_set(aggregated_by_model, '{gpt-4o,metrics,totalRequests}',
                                    to_jsonb((aggregated_by_model #>> '{gpt-4o,metrics,totalRequests}')::bigint + 2000000)),
    providers_derived = jsonb_set(providers_derived, '{openai,metrics,totalRequests}',
                                  to_jsonb((providers_derived #>> '{openai,metrics,totalRequests}')::bigint + 3000000)),
    daily = jsonb_set(daily, '{7,metrics,totalRequests}', to_jsonb((daily #>> '{7,metrics,totalRequests}')::bigint + 4000000))
WHERE month = '2025-03-01';
SELECT (SELECT count(*) FROM ducache_rollup_changes) AS changes_logged;
CREATE FUNCTION pg_temp.tampered() RETURNS TABLE (user_added bigint, model_added bigint, provider_added bigint,
                                                  trend_added bigint, cell_added bigint, period_added bigint)
LANGUAGE sql AS $$
SELECT (SELECT total_requests FROM ducache_user_breakdown('2025-03-01', '2025-03-31') WHERE user_id = litemaas_ref.user_id(2)) - user_requests,
       (SELECT total_requests FROM ducache_model_breakdown('2025-03-01', '2025-03-31') WHERE model = 'gpt-4o') - model_requests,
       (SELECT total_requests FROM ducache_provider_breakdown('2025-03-01', '2025-03-31') WHERE provider = 'openai') - provider_requests,
       (SELECT total_requests FROM ducache_daily_trend('2025-03-01', '2025-03-31') WHERE date = '2025-03-07') - trend_requests,
       (SELECT total_requests FROM ducache_user_model_breakdown('2025-03-01', '2025-03-31') WHERE user_id = litemaas_ref.user_id(2) AND model = 'gpt-4o') - cell_requests,
       (SELECT total_requests FROM ducache_analytics('2025-03-01', '2025-03-31')) - period_requests
FROM truth
$$;
SELECT * FROM pg_temp.tampered();
-- Filtered calls read the rollup's cells; the filtered trend reads the days.
SELECT (SELECT total_requests FROM ducache_user_breakdown('2025-02-25', '2025-04-02', model_ids => '{gpt-4o}') WHERE user_id = litemaas_ref.user_id(2))
     - (SELECT total_requests FROM litemaas_ref.user_breakdown('2025-02-25', '2025-04-02', model_ids => '{gpt-4o}') WHERE user_id = litemaas_ref.user_id(2)) AS filtered_user_added,
       (pg_temp.diff('daily_trend', '2025-03-01', '2025-03-31', NULL, '{gpt-4o}', NULL)).diffs AS filtered_trend_diffs;
SET ducache.use_rollups = off;
SELECT * FROM pg_temp.tampered();
RESET ducache.use_rollups;
SELECT (pg_temp.diff('user_breakdown', '2025-03-01', '2025-03-30', NULL, NULL, NULL)).diffs AS march_but_one_day_diffs;

-- Callers who may not read every row read the days (the tampered rollup stays fresh):
-- column privileges only; row-level security in force (for the caller, and for a superuser,
-- whom it does not filter: a rollup is used only where no row-level security is enabled).
CREATE ROLE regress_ducache_73_cols;
GRANT SELECT (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider) ON daily_usage_cache TO regress_ducache_73_cols;
GRANT USAGE ON SCHEMA litemaas_ref TO regress_ducache_73_cols;
GRANT SELECT ON truth TO regress_ducache_73_cols;
CREATE ROLE regress_ducache_73_table;
GRANT SELECT ON daily_usage_cache TO regress_ducache_73_table;
GRANT USAGE ON SCHEMA litemaas_ref TO regress_ducache_73_table;
GRANT SELECT ON truth TO regress_ducache_73_table;
GRANT USAGE ON SCHEMA ducache_test TO regress_ducache_73_cols, regress_ducache_73_table;
SET ROLE regress_ducache_73_cols;
SELECT * FROM pg_temp.tampered();
RESET ROLE;
-- Table-level SELECT: the rollup is read (as the rollups' owner), though the caller may not
-- read ducache_rollups itself; the caller's identity is back after the call.
SET ROLE regress_ducache_73_table;
SELECT * FROM pg_temp.tampered();
SELECT current_user, ducache_test.error_of('SELECT count(*) FROM ducache_rollups');
RESET ROLE;
ALTER TABLE daily_usage_cache ENABLE ROW LEVEL SECURITY;
CREATE POLICY regress_ducache_73_all ON daily_usage_cache FOR SELECT USING (true);
SET ROLE regress_ducache_73_table;
SELECT * FROM pg_temp.tampered();
RESET ROLE;
SELECT * FROM pg_temp.tampered();
DROP POLICY regress_ducache_73_all ON daily_usage_cache;
ALTER TABLE daily_usage_cache DISABLE ROW LEVEL SECURITY;
SELECT * FROM pg_temp.tampered();

-- A bad rollup value is an error naming the rollup's month, the key and the field; the caller's
-- identity is intact after it, caught or not.
UPDATE ducache_rollups SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(2), '~days'], '"x"')
WHERE month = '2025-03-01';
SET ROLE regress_ducache_73_table;
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2025-03-01', '2025-03-31')$$);
DO $$
BEGIN
    PERFORM * FROM ducache_user_breakdown('2025-03-01', '2025-03-31');
EXCEPTION WHEN invalid_parameter_value THEN
    RAISE NOTICE 'caught; current_user %', current_user;
END $$;
SELECT current_user;
RESET ROLE;

-- A logged change to March (an UPDATE that changes nothing still logs its month) makes March
-- read from the days again, before any refresh; the refresh rebuilds it right.
UPDATE daily_usage_cache SET date = date WHERE date = '2025-03-15';
SELECT month FROM ducache_rollup_changes;
SELECT * FROM pg_temp.tampered();
SELECT month, action FROM ducache_refresh_rollups('2025-03-01', '2025-03-31');
SELECT * FROM pg_temp.tampered();
SELECT (pg_temp.diff('user_breakdown', '2025-02-26', '2025-04-03', NULL, NULL, NULL)).diffs AS after_refresh_diffs;

DROP OWNED BY regress_ducache_73_cols, regress_ducache_73_table;
DROP ROLE regress_ducache_73_cols, regress_ducache_73_table;
DELETE FROM daily_usage_cache;
SELECT month, action FROM ducache_refresh_rollups();
SELECT count(*) AS rollups_left FROM ducache_rollups;
