-- CONTRACT §5.2-5.4: the filters of the five read functions and the two drill-downs, against
-- the plain-SQL references of test/reference/cells.sql (+ cells_breakdowns.sql) on the
-- LiteMaaS fixture (10 days x 8 users, test/reference/litemaas_fixture.sql): every function,
-- all 27 combinations of none / one / two elements per filter kind (an unknown id and the
-- Unknown User among them). Rows compared as text (costs digit for digit) with
-- their position (order), EXCEPT ALL both ways. Own rows: the cache is emptied first and last.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
DELETE FROM daily_usage_cache;
-- The references are loaded from their files (not copied here); \i resolves from the repo
-- root, where pg_regress runs psql; their own \ir resolve beside them.
\set ECHO none
SET client_min_messages = warning;
\i test/reference/litemaas_fixture.sql
\i test/reference/cells.sql
RESET client_min_messages;
\set ECHO all

-- Rows of ducache_<fn> and litemaas_ref.<fn> that differ (text and position), both ways; the
-- reference runs once per call (it is slow).
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

CREATE TEMP TABLE filter_values (kind text, v text[]);
INSERT INTO filter_values VALUES
    ('user', NULL), ('user', '{0c4a4359-3857-66de-beeb-a6007f373803}'),
    ('user', '{00000000-0000-0000-0000-000000000000,db711a1f-361b-2fab-949a-37a5f48914c1}'),
    ('model', NULL), ('model', '{gpt-4o}'), ('model', '{meta-llama/Llama-3.1-8B-Instruct,no-such-model}'),
    ('key', NULL), ('key', '{team-shared}'), ('key', '{u1-ci,u5-laptop}');

-- Per function and range: 27 combinations, the differing rows (must be 0) and the rows compared.
SELECT fn, s, e, count(*) AS combinations, sum(d.diffs) AS differing_rows, sum(d.rows) AS rows_compared,
       count(*) FILTER (WHERE d.rows > 0) AS combinations_with_rows
FROM unnest(ARRAY['user_breakdown', 'model_breakdown', 'provider_breakdown', 'analytics', 'daily_trend',
                  'user_model_breakdown', 'api_key_breakdown']) AS fn,
     -- The previous period of analytics (2025-02-25..03-03) is partly cached.
     (VALUES (date '2025-03-04', date '2025-03-10')) AS r(s, e),
     (SELECT v FROM filter_values WHERE kind = 'user') u,
     (SELECT v FROM filter_values WHERE kind = 'model') m,
     (SELECT v FROM filter_values WHERE kind = 'key') k,
     LATERAL pg_temp.diff(fn, s, e, u.v, m.v, k.v) d
GROUP BY fn, s, e ORDER BY fn, s;
-- The comparison can fail: ducache with a model filter against the reference with none.
SELECT (SELECT count(*) FROM ((SELECT t::text FROM ducache_user_breakdown('2025-03-01', '2025-03-10', NULL, '{gpt-4o}') t)
        EXCEPT ALL (SELECT t::text FROM litemaas_ref.user_breakdown('2025-03-01', '2025-03-10') t)) x) > 0 AS detects_a_difference;

-- '{}' is no filter, an unknown id alone gives no rows, filters usable by name.
SELECT fn, (pg_temp.diff(fn, '2025-03-01', '2025-03-10', '{}', '{}', '{}')).diffs AS empty_arrays_vs_none,
       (SELECT count(*) = 0 FROM (SELECT * FROM ducache_user_breakdown('2025-03-01', '2025-03-10', '{nobody}')) x) AS unknown_user_no_rows
FROM unnest(ARRAY['user_breakdown', 'model_breakdown', 'provider_breakdown', 'daily_trend']) AS fn;
SELECT count(*) FROM ducache_api_key_breakdown('2025-03-01', '2025-03-10', api_key_aliases => '{team-shared}');
SELECT (SELECT count(*) FROM ducache_api_key_breakdown('2025-03-01', '2025-03-10', api_key_aliases => '{team-shared}'))
     = (SELECT count(*) FROM litemaas_ref.api_key_breakdown('2025-03-01', '2025-03-10', key_aliases => '{team-shared}')) AS by_name;

-- A NULL date gives no rows (analytics: no row), with or without filters.
SELECT (SELECT count(*) FROM ducache_user_breakdown(NULL, '2025-03-10')) AS users,
       (SELECT count(*) FROM ducache_model_breakdown('2025-03-01', NULL, '{x}')) AS models,
       (SELECT count(*) FROM ducache_provider_breakdown(NULL, NULL)) AS providers,
       (SELECT count(*) FROM ducache_analytics(NULL, '2025-03-10')) AS analytics,
       (SELECT count(*) FROM ducache_daily_trend('2025-03-01', NULL)) AS trend,
       (SELECT count(*) FROM ducache_user_model_breakdown(NULL, '2025-03-10')) AS user_models,
       (SELECT count(*) FROM ducache_api_key_breakdown('2025-03-01', NULL)) AS api_keys;

-- A NULL filter element is 22004 naming the argument and the element.
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2025-03-01', '2025-03-10', '{a,NULL}')$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_daily_trend('2025-03-01', '2025-03-10', model_ids => ARRAY[NULL]::text[])$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_analytics('2025-03-01', '2025-03-10', api_key_aliases => '{NULL}')$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_api_key_breakdown('2025-03-01', '2025-03-10', NULL, NULL, '{k,NULL}')$$);

-- A cell that is not an object where one belongs: 22023 naming date, user, model and key.
INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES
    ('2031-01-01', '{"u": {"metrics": {}, "models": {"m": {"metrics": {}, "api_keys": {"k": 5}}}}}'),
    ('2031-01-02', '{"u": {"metrics": {}, "models": {"m": [1]}}}'),
    ('2031-01-03', '{"u": {"metrics": {}, "models": "many"}}'),
    ('2031-01-04', '{"u": {"metrics": {}, "models": {"m": {"api_keys": {"k": {"metrics": {"spend": "lots"}}}}}}}'),
    ('2031-01-05', '{"u": [], "v": {}}');
SELECT date, ducache_test.error_of(format('SELECT * FROM ducache_%s(%L, %L, %L, %L, %L)', fn, date, date, u, m, k)) AS error
FROM (VALUES (date '2031-01-01', 'user_breakdown', NULL, NULL, '{k}'),
             ('2031-01-01', 'api_key_breakdown', NULL, NULL, NULL),
             ('2031-01-02', 'model_breakdown', '{u}', NULL, NULL),
             ('2031-01-02', 'daily_trend', NULL, '{m}', NULL),
             ('2031-01-03', 'provider_breakdown', '{u}', NULL, NULL),
             ('2031-01-04', 'user_model_breakdown', NULL, NULL, '{k}'),
             ('2031-01-05', 'user_breakdown', '{u}', NULL, NULL)) AS t(date, fn, u, m, k)
ORDER BY date, fn;
-- Filters skip what they exclude: the bad cells of other users, models and keys are not read.
SELECT count(*) FROM ducache_user_breakdown('2031-01-01', '2031-01-04', '{v}', NULL, '{k}');
SELECT count(*) FROM ducache_user_model_breakdown('2031-01-02', '2031-01-02', NULL, '{other}');

DELETE FROM daily_usage_cache;
SET client_min_messages = warning;
DROP SCHEMA litemaas_ref CASCADE;
RESET client_min_messages;
