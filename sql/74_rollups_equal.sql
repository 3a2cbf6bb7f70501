-- CONTRACT §7: rollups never change an answer. On the multi-month fixture of
-- test/reference/rollups_fixture.sql (gaps, an incomplete day, identity, providers and key
-- names changing over time, flat and nested entries, costs of several scales), after
-- ducache_refresh_rollups(), every read function x filters x ranges equals
--   (a) the plain-SQL reference over the days (test/reference/cells.sql, as 60_filters), and
--   (b) the same call with ducache.use_rollups = off.
-- Then proof that rollups are read at all: a tampered rollup (no change logged) changes the
-- answer; a logged change of one of its days makes it right again with no refresh.
-- Own rows: the cache is emptied first and last.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
DELETE FROM daily_usage_cache;
\set ECHO none
SET client_min_messages = warning;
\i test/reference/rollups_fixture.sql
\i test/reference/cells.sql
\i test/reference/cells_materialized.sql
RESET client_min_messages;
\set ECHO all
-- Identity as the readers document it (core/aggregator.hpp, Totals): each of username, email,
-- role is the latest string value in day order (cells.sql takes the whole latest entry; the
-- fixture has entries without an email and with a null one, where the two rules differ).
CREATE OR REPLACE FUNCTION litemaas_ref.identity(uid text, s date, e date,
    OUT username text, OUT email text, OUT role text)
LANGUAGE sql STABLE AS $$
  SELECT max(v) FILTER (WHERE f = 'username'), max(v) FILTER (WHERE f = 'email'), max(v) FILTER (WHERE f = 'role')
  FROM (SELECT f, (SELECT c.entry ->> f FROM litemaas_ref.user_cells c
                   WHERE c.user_id = uid AND c.date BETWEEN s AND e AND jsonb_typeof(c.entry -> f) = 'string'
                   ORDER BY c.date DESC LIMIT 1) AS v
        FROM unnest(ARRAY['username', 'email', 'role']) AS f) x
$$;

-- ducache_filter_options in plain SQL (CONTRACT §5.4, core/filter_options.hpp): the models of
-- aggregated_by_model with their range provider; the users with a non-empty username (in
-- aggregated_by_user or aggregated_by_model[M].users), named by the latest aggregated_by_user
-- entry that has a "username" member; byte order.
CREATE FUNCTION pg_temp.filter_options_ref(s date, e date) RETURNS jsonb LANGUAGE sql STABLE AS $$
  WITH d AS (SELECT * FROM daily_usage_cache WHERE date BETWEEN s AND e),
  models AS (SELECT DISTINCT m.key FROM d, jsonb_each(litemaas_ref.obj(d.aggregated_by_model)) m),
  seen AS (SELECT u.key FROM d, jsonb_each(litemaas_ref.obj(d.aggregated_by_model)) m,
                  jsonb_each(litemaas_ref.obj(m.value -> 'users')) u
           WHERE jsonb_typeof(u.value -> 'username') = 'string' AND u.value ->> 'username' <> ''
           UNION
           SELECT u.key FROM d, jsonb_each(litemaas_ref.obj(d.aggregated_by_user)) u
           WHERE jsonb_typeof(u.value -> 'username') = 'string' AND u.value ->> 'username' <> ''),
  ident AS (SELECT DISTINCT ON (u.key) u.key,
                   CASE WHEN jsonb_typeof(u.value -> 'username') = 'string' THEN u.value ->> 'username' END AS username,
                   CASE WHEN jsonb_typeof(u.value -> 'email') = 'string' THEN u.value ->> 'email' ELSE '' END AS email
            FROM d, jsonb_each(litemaas_ref.obj(d.aggregated_by_user)) u
            WHERE jsonb_typeof(u.value) = 'object' AND u.value ? 'username'
            ORDER BY u.key, d.date DESC)
  SELECT jsonb_build_object(
      'models', coalesce((SELECT jsonb_agg(jsonb_build_object('id', key, 'name', key,
                                 'provider', litemaas_ref.provider_of(key, s, e)) ORDER BY key COLLATE "C") FROM models), '[]'),
      'users', coalesce((SELECT jsonb_agg(jsonb_build_object('userId', x.key, 'username', i.username,
                                'email', coalesce(i.email, ''))
                                ORDER BY coalesce(i.username, '') COLLATE "C", x.key COLLATE "C")
                         FROM seen x LEFT JOIN ident i USING (key)), '[]'))
$$;

-- Refresh: January, February, March get a rollup; April (an is_complete = false day) none.
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;
-- The day masks are the cached days (plain SQL), and no change is left logged.
SELECT r.month, r.built, r.days = coalesce((SELECT sum(1 << (extract(day FROM d.date)::int - 1))::int
                                            FROM daily_usage_cache d
                                            WHERE date_trunc('month', d.date) = r.month), 0) AS days_are_the_cached_days
FROM ducache_rollups r ORDER BY r.month;
SELECT count(*) AS changes_logged FROM ducache_rollup_changes;
SELECT md5(string_agg(t::text, '|' ORDER BY month)) AS rollups_before FROM ducache_rollups t \gset

-- One call of ducache_<fn> with rollups (the default) and without, and the reference: the
-- differing rows (text and position, EXCEPT ALL both ways) of on vs reference and on vs off.
CREATE FUNCTION pg_temp.cmp(fn text, s date, e date, u text[], m text[], k text[],
                            OUT vs_ref bigint, OUT vs_off bigint, OUT rows bigint)
LANGUAGE plpgsql AS $$
DECLARE
    args text := format('%L::date, %L::date, %L::text[], %L::text[], %L::text[]', s, e, u, m, k);
    duc text[];
    off text[];
    ref text[];
BEGIN
    EXECUTE format('SELECT array(SELECT t::text FROM ducache_%s(%s) t)', fn, args) INTO duc;
    PERFORM set_config('ducache.use_rollups', 'off', false);
    EXECUTE format('SELECT array(SELECT t::text FROM ducache_%s(%s) t)', fn, args) INTO off;
    PERFORM set_config('ducache.use_rollups', 'on', false);
    EXECUTE format('SELECT array(SELECT t::text FROM litemaas_ref.%s(%s) t)', fn, args) INTO ref;
    SELECT count(*) INTO vs_ref FROM (
        (SELECT * FROM unnest(duc) WITH ORDINALITY EXCEPT ALL SELECT * FROM unnest(ref) WITH ORDINALITY)
        UNION ALL
        (SELECT * FROM unnest(ref) WITH ORDINALITY EXCEPT ALL SELECT * FROM unnest(duc) WITH ORDINALITY)) x;
    SELECT count(*) INTO vs_off FROM (
        (SELECT * FROM unnest(duc) WITH ORDINALITY EXCEPT ALL SELECT * FROM unnest(off) WITH ORDINALITY)
        UNION ALL
        (SELECT * FROM unnest(off) WITH ORDINALITY EXCEPT ALL SELECT * FROM unnest(duc) WITH ORDINALITY)) x;
    rows := cardinality(ref);
END $$;

CREATE TEMP TABLE ranges (s date, e date, what text);
INSERT INTO ranges VALUES
    ('2025-02-01', '2025-02-28', 'one whole month'),
    ('2025-01-01', '2025-03-31', 'three whole months (January partly cached)'),
    ('2025-01-22', '2025-03-09', 'mid-month to mid-month, February whole'),
    ('2025-02-13', '2025-02-20', 'inside one month'),
    ('2025-03-01', '2025-04-30', 'March and the incomplete April'),
    ('2024-12-15', '2025-02-28', 'from an uncached month'),
    ('2025-02-10', '2025-03-31', 'from a gap to a gap, March whole'),
    ('2025-01-01', '2025-04-30', 'everything');
-- Filters: none, each kind, and combinations (a flat user, a renamed user and key, the
-- Unknown User, models whose own provider changes, an unknown id).
CREATE TEMP TABLE filters (u text[], m text[], k text[]);
INSERT INTO filters VALUES
    (NULL, NULL, NULL),
    (ARRAY[litemaas_ref.user_id(3), litemaas_ref.user_id(9)], NULL, NULL),
    (NULL, '{mistral-7b-instruct,granite-3.1-8b-instruct,no-such-model}', NULL),
    (NULL, NULL, '{u4-ci,team-shared}'),
    (ARRAY[litemaas_ref.user_id(4), litemaas_ref.user_id(0)], '{gpt-4o,meta-llama/Llama-3.1-8B-Instruct}', NULL),
    (NULL, '{gpt-4o,mistral-7b-instruct}', '{u4-ci,u5-laptop,team-shared}'),
    (ARRAY[litemaas_ref.user_id(4), litemaas_ref.user_id(7)], NULL, '{u4-ci,u7-laptop}'),
    (ARRAY[litemaas_ref.user_id(4), litemaas_ref.user_id(2)], '{gpt-4o,openai/gpt-4o-mini}', '{u4-ci,u2-laptop}');

-- Every call once (the reference is slow), then per function: the calls (ranges x filters),
-- the rows differing from the reference and from rollups off (both must be 0), the rows compared.
CREATE TEMP TABLE results AS
SELECT fn, r.s, r.e, f.u, f.m, f.k, c.*
FROM unnest(ARRAY['user_breakdown', 'model_breakdown', 'provider_breakdown', 'user_model_breakdown',
                  'api_key_breakdown', 'analytics', 'daily_trend']) AS fn,
     ranges r, filters f, LATERAL pg_temp.cmp(fn, r.s, r.e, f.u, f.m, f.k) c;
SELECT fn, count(*) AS calls, sum(vs_ref) AS differ_from_reference, sum(vs_off) AS differ_from_rollups_off,
       sum(rows) AS rows_compared, count(*) FILTER (WHERE rows > 0) AS calls_with_rows
FROM results GROUP BY fn ORDER BY fn;
-- The calls that differ, if any (none expected; the first few, to debug).
SELECT fn, s, e, u, m, k, vs_ref, vs_off FROM results WHERE vs_ref + vs_off > 0 ORDER BY fn, s, e LIMIT 10;

-- ducache_filter_options: with rollups = the reference = rollups off, for every range.
SELECT r.what, ducache_filter_options(r.s, r.e)::text = pg_temp.filter_options_ref(r.s, r.e)::text AS equals_reference,
       ducache_filter_options(r.s, r.e)::text = ducache_test.with_rollups_off(format('SELECT ducache_filter_options(%L, %L)', r.s, r.e)) AS equals_rollups_off
FROM ranges r ORDER BY r.s, r.e;

-- ducache_dashboard: with rollups = rollups off (as text: costs digit for digit), every range x
-- filter document (LiteMaaS's names; providerIds too). Against LiteMaaS's code paths:
-- test/shell/rollups_dashboard_reference.sh.
CREATE TEMP TABLE dash_filters (f jsonb);
INSERT INTO dash_filters
SELECT '{}'::jsonb UNION ALL
SELECT jsonb_build_object('userIds', u) FROM filters WHERE u IS NOT NULL AND m IS NULL AND k IS NULL UNION ALL
SELECT jsonb_build_object('modelIds', m) FROM filters WHERE u IS NULL AND m IS NOT NULL AND k IS NULL UNION ALL
SELECT jsonb_build_object('apiKeyIds', k) FROM filters WHERE u IS NULL AND m IS NULL AND k IS NOT NULL UNION ALL
SELECT jsonb_strip_nulls(jsonb_build_object('userIds', u, 'modelIds', m, 'apiKeyIds', k))
FROM filters WHERE (u IS NOT NULL)::int + (m IS NOT NULL)::int + (k IS NOT NULL)::int >= 2 UNION ALL
SELECT '{"providerIds": ["mistral", "ibm"]}' UNION ALL
SELECT ('{"providerIds": ["mistralai", "openai"], "userIds": ["' || litemaas_ref.user_id(3) || '"]}')::jsonb;
SELECT count(*) AS calls,
       count(*) FILTER (WHERE ducache_dashboard(r.s, r.e, d.f)::text <>
           ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L, %L)', r.s, r.e, d.f))) AS differ_from_rollups_off,
       count(*) FILTER (WHERE (ducache_dashboard(r.s, r.e, d.f) ->> 'totalRequests')::bigint > 0) AS calls_with_usage
FROM ranges r, dash_filters d;

-- Readers never write: the comparisons above left the rollups and the change log as they were.
SELECT (SELECT md5(string_agg(t::text, '|' ORDER BY month)) FROM ducache_rollups t) = :'rollups_before' AS rollups_untouched,
       (SELECT count(*) FROM ducache_rollup_changes) AS changes_logged;

-- Rollups are read: tamper with February's and March's rollups of user3 (as the superuser, in
-- ducache's own table: no change is logged). Whole months now answer wrong with rollups on, a
-- range inside one month does not, and rollups off is still right.
UPDATE ducache_rollups
SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(3), 'metrics'],
        (SELECT jsonb_object_agg(key, CASE WHEN jsonb_typeof(value) = 'number' THEN to_jsonb(value::text::numeric + 1000) ELSE value END)
         FROM jsonb_each(aggregated_by_user -> litemaas_ref.user_id(3) -> 'metrics')))
WHERE month IN ('2025-02-01', '2025-03-01');
SELECT r.what, c.vs_ref > 0 AS wrong, c.vs_off > 0 AS differs_from_rollups_off
FROM ranges r, LATERAL pg_temp.cmp('user_breakdown', r.s, r.e, NULL, NULL, NULL) c
WHERE r.what IN ('one whole month', 'inside one month', 'from a gap to a gap, March whole') ORDER BY r.s, r.e;
-- A logged change of one February day (plain SQL: user5 removed on 02-14) and a deleted March
-- day: both months read their days again, right with no refresh.
UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user - litemaas_ref.user_id(5) WHERE date = '2025-02-14';
DELETE FROM daily_usage_cache WHERE date = '2025-03-02';
SELECT litemaas_ref.materialize();  -- the reference's cells follow the days
SELECT month FROM ducache_rollup_changes GROUP BY month ORDER BY month;
SELECT fn, r.what, c.vs_ref AS differ_from_reference, c.vs_off AS differ_from_rollups_off, c.rows > 0 AS has_rows
FROM unnest(ARRAY['user_breakdown', 'analytics', 'api_key_breakdown']) AS fn, ranges r,
     LATERAL pg_temp.cmp(fn, r.s, r.e, NULL, NULL, NULL) c
WHERE r.what IN ('one whole month', 'from a gap to a gap, March whole') ORDER BY fn, r.s;
-- Refresh: only February and March are rebuilt, and every function agrees again on all ranges
-- (one filter combination each besides none).
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;
SELECT fn, count(*) AS calls, sum(c.vs_ref) AS differ_from_reference, sum(c.vs_off) AS differ_from_rollups_off
FROM unnest(ARRAY['user_breakdown', 'model_breakdown', 'provider_breakdown', 'user_model_breakdown',
                  'api_key_breakdown', 'analytics', 'daily_trend']) AS fn,
     ranges r, (SELECT * FROM filters LIMIT 2) f, LATERAL pg_temp.cmp(fn, r.s, r.e, f.u, f.m, f.k) c
GROUP BY fn ORDER BY fn;

DELETE FROM daily_usage_cache;
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;
SELECT count(*) AS rollups_left FROM ducache_rollups;
SET client_min_messages = warning;
DROP SCHEMA litemaas_ref CASCADE;
RESET client_min_messages;
