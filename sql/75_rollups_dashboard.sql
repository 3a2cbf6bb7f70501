-- CONTRACT §7 for ducache_dashboard and ducache_filter_options: they read fresh month rollups
-- for the whole months of each period (the dashboard: the range and its comparison period;
-- a filtered call: its comparison period only) and answer exactly as from the days. On the
-- multi-month fixture of test/reference/rollups_fixture.sql (gaps, an incomplete April,
-- identities, own providers and key names changing over time), after ducache_refresh_rollups():
--   (a) every range x filter document: with rollups = ducache.use_rollups = off, as text;
--   (b) the unfiltered document's figures against plain SQL over the day rows (totals, byUser,
--       byModel, byProvider with one provider per model, dailyUsage, dailyModelUsage, the
--       comparison period's requests and users, topUsers' identity);
--   (c) tampered rollups change the answer for whole months only (so they are read: sums,
--       "~identity", "~listed", the comparison period), and a logged change stops them.
-- Against LiteMaaS's code paths: test/shell/rollups_dashboard_reference.sh.
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
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;

-- Ranges: whole months in the range, in the comparison period, in both, in neither.
CREATE TEMP TABLE ranges (s date, e date, what text);
INSERT INTO ranges VALUES
    ('2025-02-01', '2025-02-28', 'February (comparison: January, not whole)'),
    ('2025-03-01', '2025-03-31', 'March (comparison: 01-29..02-28, February whole)'),
    ('2025-02-01', '2025-03-31', 'February and March (comparison: December..January, January whole)'),
    ('2025-01-01', '2025-03-31', 'three months'),
    ('2025-01-15', '2025-03-20', 'mid-month to mid-month'),
    ('2025-02-13', '2025-02-20', 'inside one month'),
    ('2025-02-15', '2025-04-30', 'mid-February to the incomplete April'),
    ('2025-04-01', '2025-05-31', 'no rollup, comparison with two whole months'),
    ('2025-06-01', '2025-06-30', 'nothing cached');
CREATE TEMP TABLE dash_filters (f jsonb);
INSERT INTO dash_filters VALUES
    ('{}'),
    (jsonb_build_object('userIds', ARRAY[litemaas_ref.user_id(3), litemaas_ref.user_id(9)])),
    (jsonb_build_object('userIds', ARRAY[litemaas_ref.user_id(0), '00000000-0000-0000-0000-000000000000'])),
    ('{"modelIds": ["mistral-7b-instruct", "granite-3.1-8b-instruct", "no-such-model"]}'),
    ('{"apiKeyIds": ["u4-ci", "team-shared"]}'),
    ('{"providerIds": ["mistral"]}'),
    ('{"providerIds": ["mistralai", "ibm"]}'),
    ('{"providerIds": ["openai"], "apiKeyIds": ["u4-ci", "u5-laptop", "team-shared"]}'),
    (jsonb_build_object('userIds', ARRAY[litemaas_ref.user_id(4), litemaas_ref.user_id(2)],
                        'modelIds', ARRAY['gpt-4o', 'openai/gpt-4o-mini'], 'apiKeyIds', ARRAY['u4-ci', 'u2-laptop']));

-- (a) with rollups = rollups off, every range x filters; and filter options.
SELECT count(*) AS calls,
       count(*) FILTER (WHERE ducache_dashboard(r.s, r.e, d.f)::text IS DISTINCT FROM
           ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L, %L)', r.s, r.e, d.f))) AS differ_from_rollups_off,
       count(*) FILTER (WHERE (ducache_dashboard(r.s, r.e, d.f) ->> 'totalRequests')::bigint > 0) AS calls_with_usage
FROM ranges r, dash_filters d;
SELECT r.what, ducache_filter_options(r.s, r.e)::text =
       ducache_test.with_rollups_off(format('SELECT ducache_filter_options(%L, %L)', r.s, r.e)) AS filter_options_equal
FROM ranges r ORDER BY r.s, r.e;

-- (b) The unfiltered document against plain SQL over the days (a model's provider: its latest
-- own "provider" in the range, else the name rule: litemaas_ref.provider_of).
\set ECHO none
\i test/reference/dashboard_figures.sql
\set ECHO all
SELECT r.what, litemaas_ref.dash_figures(ducache_dashboard(r.s, r.e)) = litemaas_ref.dash_ref(r.s, r.e) AS figures_equal_reference,
       (SELECT bool_and(jsonb_build_object('username', u -> 'username', 'email', u -> 'email', 'role', u -> 'role')
                        = litemaas_ref.identity_ref(u ->> 'userId', r.s, r.e))
        FROM jsonb_array_elements(ducache_dashboard(r.s, r.e) -> 'topUsers') u) AS top_users_identity_equal_reference
FROM ranges r ORDER BY r.s, r.e;
-- The rule is not vacuous here: mistral-7b-instruct's own provider changes within February.
SELECT ducache_dashboard('2025-02-01', '2025-02-28') -> 'totalCost' -> 'byProvider' ? 'mistralai' AS february_has_mistralai,
       ducache_dashboard('2025-02-13', '2025-02-20', '{"providerIds": ["mistral"]}') ->> 'totalRequests' AS mistral_requests,
       (SELECT sum(requests) FROM litemaas_ref.user_model_cells
        WHERE date BETWEEN '2025-02-13' AND '2025-02-20'
          AND litemaas_ref.provider_of(model, '2025-02-13', '2025-02-20') = 'mistral') AS mistral_requests_reference;

-- (c) Rollups are read. Tamper (as the superuser, in ducache's own table: no change logged)
-- with February's rollup: user3's summed requests + 1000000, and the "~identity"/"~listed"
-- username of February's top user. Whole Februaries now answer differently with rollups on
-- (identity: where no later month names the user); a range inside February, and a filtered
-- call's range, do not.
SELECT ducache_dashboard('2025-02-01', '2025-02-28') #>> '{topMetrics,topUser,userId}' AS top_feb \gset
BEGIN;
UPDATE ducache_rollups
SET aggregated_by_user = jsonb_set(jsonb_set(jsonb_set(aggregated_by_user,
        ARRAY[litemaas_ref.user_id(3), 'metrics', 'totalRequests'],
        to_jsonb((aggregated_by_user -> litemaas_ref.user_id(3) -> 'metrics' ->> 'totalRequests')::bigint + 1000000)),
        ARRAY[:'top_feb', '~identity', 'username'], '"tampered"'),
        ARRAY[:'top_feb', '~listed', 'username'], '"tampered"')
WHERE month = '2025-02-01';
SELECT r.what,
       ducache_dashboard(r.s, r.e)::text <> ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L)', r.s, r.e)) AS dashboard_differs,
       (ducache_dashboard(r.s, r.e) ->> 'totalRequests')::bigint - (ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L) ->> %L', r.s, r.e, 'totalRequests')))::bigint AS requests_added,
       ducache_dashboard(r.s, r.e)::text LIKE '%"tampered"%' AS tampered_username_shown,
       (ducache_dashboard(r.s, r.e) -> 'trends' -> 'requestsTrend' ->> 'previous')::bigint
         - (ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L) -> %L -> %L ->> %L', r.s, r.e, 'trends', 'requestsTrend', 'previous')))::bigint AS previous_requests_added,
       ducache_filter_options(r.s, r.e)::text LIKE '%"tampered"%' AS filter_options_tampered
FROM ranges r WHERE r.what LIKE 'February%' OR r.what LIKE 'March%' OR r.what = 'inside one month' ORDER BY r.s, r.e;
-- A filtered call: its range reads the days (unchanged), its comparison period the rollup.
SELECT (d ->> 'totalRequests')::bigint - (off ->> 'totalRequests')::bigint AS range_requests_added,
       (d -> 'trends' -> 'requestsTrend' ->> 'previous')::bigint
         - (off -> 'trends' -> 'requestsTrend' ->> 'previous')::bigint AS previous_requests_added
FROM (SELECT ducache_dashboard('2025-03-01', '2025-03-31', f) AS d,
             ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L, %L)', '2025-03-01', '2025-03-31', f))::jsonb AS off
      FROM (SELECT jsonb_build_object('userIds', ARRAY[litemaas_ref.user_id(3)]) AS f) x) y;
SELECT (d ->> 'totalRequests')::bigint - (off ->> 'totalRequests')::bigint AS filtered_february_requests_added
FROM (SELECT ducache_dashboard('2025-02-01', '2025-02-28', f) AS d,
             ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L, %L)', '2025-02-01', '2025-02-28', f))::jsonb AS off
      FROM (SELECT jsonb_build_object('userIds', ARRAY[litemaas_ref.user_id(3)]) AS f) x) y;
-- A logged change of one February day (user5 removed on 02-14): February is read from its
-- days again, right with no refresh.
UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user - litemaas_ref.user_id(5) WHERE date = '2025-02-14';
SELECT r.what,
       ducache_dashboard(r.s, r.e)::text = ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L)', r.s, r.e)) AS dashboard_equal,
       ducache_filter_options(r.s, r.e)::text = ducache_test.with_rollups_off(format('SELECT ducache_filter_options(%L, %L)', r.s, r.e)) AS filter_options_equal
FROM ranges r WHERE r.what LIKE 'February%' OR r.what LIKE 'March%' ORDER BY r.s, r.e;
ROLLBACK;

-- A rollup without the identity facts (as 0.3.0 built them) is never read with the new rules:
-- the 0.3.0 -> 0.4.0 update logs every existing rollup as changed (see the prelude), which
-- this replays; the answers are the days' until a refresh rebuilds the months.
BEGIN;
UPDATE ducache_rollups SET aggregated_by_user = (SELECT jsonb_object_agg(key, value - '~identity' - '~listed' - '~seen')
                                                 FROM jsonb_each(aggregated_by_user)) WHERE built;
INSERT INTO ducache_rollup_changes (month) SELECT month FROM ducache_rollups;
SELECT count(*) AS calls,
       count(*) FILTER (WHERE ducache_dashboard(r.s, r.e)::text IS DISTINCT FROM
           ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L)', r.s, r.e))) AS differ_from_rollups_off
FROM ranges r;
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;
SELECT count(*) FILTER (WHERE r.aggregated_by_user::text LIKE '%"~identity"%') AS rollups_with_identity FROM ducache_rollups r WHERE built;
ROLLBACK;

DELETE FROM daily_usage_cache;
SELECT month, action FROM ducache_refresh_rollups() ORDER BY month;
SET client_min_messages = warning;
DROP SCHEMA litemaas_ref CASCADE;
RESET client_min_messages;
