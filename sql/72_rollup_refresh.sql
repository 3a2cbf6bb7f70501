-- Month rollups (CONTRACT §7): ducache_refresh_rollups and the writers' refresh. The rollup
-- documents are checked against plain SQL over the day rows (test/reference/cells.sql's
-- provider rule and a metric reader of its own): sums per user, user x model, key, model,
-- provider, derived provider, unprovided model and day; "~days" masks against bit_or over the
-- days; identity, keyName/keyAlias and own provider against the latest day's value. Then every
-- action: fresh, incomplete, skipped (WARNING), removed, refreshed after a plain UPDATE, and
-- ducache_batch_upsert refreshing in its own transaction. Own rows: the cache emptied first and last.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ducache;
TRUNCATE daily_usage_cache;
DELETE FROM ducache_rollups;
DELETE FROM ducache_rollup_changes;
\set ECHO none
\i test/reference/litemaas_gen.sql
\i test/reference/cells.sql
RESET client_min_messages;
\set ECHO all

-- 70 days of 12 users, 2025-01-25 .. 2025-04-04 (parts of January and April, all of February
-- and March): flat and nested users, keyName renamed from day 5, a model with its own
-- provider, aggregated_by_provider NULL / {} / non-empty depending on the day.
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics)
SELECT g.* FROM generate_series(0, 69) AS n, litemaas_ref.gen_day(12, n, '2025-01-25', false) AS g;
-- Identity changing within a month (and an empty string and a null, which do not count), own
-- providers changing, a model gaining an own provider on one day.
UPDATE daily_usage_cache SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(1), 'username'], '"renamed-1"')
WHERE date BETWEEN '2025-02-10' AND '2025-02-15' AND aggregated_by_user ? litemaas_ref.user_id(1);
UPDATE daily_usage_cache SET aggregated_by_user = jsonb_set(jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(2), 'email'], '""'),
                                                            ARRAY[litemaas_ref.user_id(2), 'username'], 'null')
WHERE date >= '2025-02-20' AND aggregated_by_user -> litemaas_ref.user_id(2) ? 'email';
UPDATE daily_usage_cache SET aggregated_by_model = jsonb_set(aggregated_by_model, '{mistral-7b-instruct,provider}', '"mistral-renamed"')
WHERE date BETWEEN '2025-03-05' AND '2025-03-09' AND aggregated_by_model ? 'mistral-7b-instruct';
UPDATE daily_usage_cache SET aggregated_by_model = jsonb_set(aggregated_by_model, '{gpt-4o,provider}', '"azure"')
WHERE date = '2025-02-11' AND aggregated_by_model ? 'gpt-4o';
-- A user that is flat on every day it appears (its rollup entry has no "models"), with costs
-- of different scales and a count written as a string.
UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user || jsonb_build_object('flat-only',
    jsonb_build_object('totalRequests', extract(day FROM date)::text, 'totalCost', CASE WHEN extract(day FROM date)::int % 2 = 0 THEN 0.5 ELSE 0.125 END))
WHERE date BETWEEN '2025-01-30' AND '2025-02-05';
SELECT date_trunc('month', date)::date AS month, count(*) AS days,
       count(*) FILTER (WHERE aggregated_by_provider IS NULL) AS providers_null,
       count(*) FILTER (WHERE aggregated_by_provider = '{}') AS providers_empty
FROM daily_usage_cache GROUP BY 1 ORDER BY 1;

-- One entry's metrics by CONTRACT §2's aliases (the first non-null in preference order; a
-- non-null "metrics" object holds them in the nested shape), plain SQL. One row, declared as a
-- set (RETURNS TABLE) so that the planner inlines it into the references' FROM lists: a SQL
-- function returning one record runs its query through the executor at every call (docs/
-- hardening.md, "The test command's time", round 16).
CREATE FUNCTION pg_temp.mm(e jsonb)
RETURNS TABLE (requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, cost numeric,
               successful_requests bigint, failed_requests bigint)
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(s ->> 'totalRequests', s ->> 'api_requests', s ->> 'requests', '0')::numeric::bigint,
         coalesce(s ->> 'totalTokens', s ->> 'total_tokens', s ->> 'tokens', '0')::numeric::bigint,
         coalesce(s ->> 'promptTokens', s ->> 'prompt_tokens', '0')::numeric::bigint,
         coalesce(s ->> 'completionTokens', s ->> 'completion_tokens', '0')::numeric::bigint,
         coalesce(s ->> 'totalCost', s ->> 'spend', s ->> 'cost', '0')::numeric,
         coalesce(s ->> 'successfulRequests', s ->> 'successful_requests', '0')::numeric::bigint,
         coalesce(s ->> 'failedRequests', s ->> 'failed_requests', '0')::numeric::bigint
  FROM (SELECT CASE WHEN jsonb_typeof(e -> 'metrics') = 'object' THEN e -> 'metrics' ELSE e END) AS x(s)
$$;

-- The references: plain SQL over the days of the months that have a built rollup, and the
-- same facts read out of the rollups.
CREATE TEMP VIEW days AS
SELECT c.*, date_trunc('month', c.date)::date AS month, 1 << (extract(day FROM c.date)::int - 1) AS bit
FROM daily_usage_cache c JOIN ducache_rollups r ON r.month = date_trunc('month', c.date)::date AND r.built;
CREATE TEMP VIEW built AS SELECT * FROM ducache_rollups WHERE built;
CREATE TEMP VIEW ref_month (c1, c2, c3) AS
SELECT month, bit_or(bit) AS days, coalesce(bool_or(jsonb_typeof(aggregated_by_provider) = 'object' AND aggregated_by_provider <> '{}'), false) AS has_providers
FROM days GROUP BY month;
CREATE TEMP VIEW got_month (c1, c2, c3) AS
SELECT month, days, aggregated_by_provider IS NOT NULL FROM built;

CREATE TEMP VIEW ref_users (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14) AS
SELECT d.month, u.key, bit_or(d.bit), sum(m.requests), sum(m.total_tokens), sum(m.prompt_tokens), sum(m.completion_tokens),
       sum(m.cost)::text, sum(m.successful_requests), sum(m.failed_requests),
       -- identity: the latest day's non-empty string
       (array_agg(u.value ->> 'username' ORDER BY d.date DESC) FILTER (WHERE jsonb_typeof(u.value -> 'username') = 'string' AND u.value ->> 'username' <> ''))[1],
       (array_agg(u.value ->> 'email' ORDER BY d.date DESC) FILTER (WHERE jsonb_typeof(u.value -> 'email') = 'string' AND u.value ->> 'email' <> ''))[1],
       (array_agg(u.value ->> 'role' ORDER BY d.date DESC) FILTER (WHERE jsonb_typeof(u.value -> 'role') = 'string' AND u.value ->> 'role' <> ''))[1],
       coalesce(bool_or(jsonb_typeof(u.value -> 'models') = 'object'), false)
FROM days d, jsonb_each(d.aggregated_by_user) u, pg_temp.mm(u.value) m
GROUP BY 1, 2;
CREATE TEMP VIEW got_users (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14) AS
SELECT r.month, u.key, (u.value ->> '~days')::int, m.requests, m.total_tokens, m.prompt_tokens, m.completion_tokens,
       m.cost::text, m.successful_requests, m.failed_requests, u.value ->> 'username', u.value ->> 'email', u.value ->> 'role',
       u.value ? 'models'
FROM built r, jsonb_each(r.aggregated_by_user) u, pg_temp.mm(u.value) m;

CREATE TEMP VIEW ref_cells (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12) AS
SELECT d.month, u.key AS u, c.key AS m, bit_or(d.bit), sum(x.requests), sum(x.total_tokens), sum(x.prompt_tokens),
       sum(x.completion_tokens), sum(x.cost)::text, sum(x.successful_requests), sum(x.failed_requests),
       coalesce(bool_or(jsonb_typeof(c.value -> 'api_keys') = 'object'), false)
FROM days d, jsonb_each(d.aggregated_by_user) u, jsonb_each(litemaas_ref.obj(u.value -> 'models')) c, pg_temp.mm(c.value) x
GROUP BY 1, 2, 3;
CREATE TEMP VIEW got_cells (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12) AS
SELECT r.month, u.key, c.key, (c.value ->> '~days')::int, x.requests, x.total_tokens, x.prompt_tokens, x.completion_tokens,
       x.cost::text, x.successful_requests, x.failed_requests, c.value ? 'api_keys'
FROM built r, jsonb_each(r.aggregated_by_user) u, jsonb_each(litemaas_ref.obj(u.value -> 'models')) c, pg_temp.mm(c.value) x;

CREATE TEMP VIEW ref_keys (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14) AS
SELECT d.month, u.key AS u, c.key AS m, k.key AS a, bit_or(d.bit), sum(x.requests), sum(x.total_tokens), sum(x.prompt_tokens),
       sum(x.completion_tokens), sum(x.cost)::text, sum(x.successful_requests), sum(x.failed_requests),
       (array_agg(k.value ->> 'keyName' ORDER BY d.date DESC) FILTER (WHERE jsonb_typeof(k.value -> 'keyName') = 'string'))[1],
       (array_agg(k.value ->> 'keyAlias' ORDER BY d.date DESC) FILTER (WHERE jsonb_typeof(k.value -> 'keyAlias') = 'string'))[1]
FROM days d, jsonb_each(d.aggregated_by_user) u, jsonb_each(litemaas_ref.obj(u.value -> 'models')) c,
     jsonb_each(litemaas_ref.obj(c.value -> 'api_keys')) k, pg_temp.mm(k.value) x
GROUP BY 1, 2, 3, 4;
CREATE TEMP VIEW got_keys (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14) AS
SELECT r.month, u.key, c.key, k.key, (k.value ->> '~days')::int, x.requests, x.total_tokens, x.prompt_tokens,
       x.completion_tokens, x.cost::text, x.successful_requests, x.failed_requests, k.value ->> 'keyName', k.value ->> 'keyAlias'
FROM built r, jsonb_each(r.aggregated_by_user) u, jsonb_each(litemaas_ref.obj(u.value -> 'models')) c,
     jsonb_each(litemaas_ref.obj(c.value -> 'api_keys')) k, pg_temp.mm(k.value) x;

CREATE TEMP VIEW ref_models (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12) AS
SELECT d.month, e.key, bit_or(d.bit), sum(x.requests), sum(x.total_tokens), sum(x.prompt_tokens), sum(x.completion_tokens),
       sum(x.cost)::text, sum(x.successful_requests), sum(x.failed_requests),
       (array_agg(e.value ->> 'provider' ORDER BY d.date DESC) FILTER (WHERE jsonb_typeof(e.value -> 'provider') = 'string'))[1],
       coalesce(bool_or(jsonb_typeof(e.value -> 'users') = 'object'), false)
FROM days d, jsonb_each(d.aggregated_by_model) e, pg_temp.mm(e.value) x
GROUP BY 1, 2;
CREATE TEMP VIEW got_models (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12) AS
SELECT r.month, e.key, (e.value ->> '~days')::int, x.requests, x.total_tokens, x.prompt_tokens, x.completion_tokens,
       x.cost::text, x.successful_requests, x.failed_requests, e.value ->> 'provider', e.value ? 'users'
FROM built r, jsonb_each(r.aggregated_by_model) e, pg_temp.mm(e.value) x;
CREATE TEMP VIEW ref_model_users (c1, c2, c3) AS
SELECT DISTINCT d.month, e.key, u FROM days d, jsonb_each(d.aggregated_by_model) e, jsonb_object_keys(litemaas_ref.obj(e.value -> 'users')) u;
CREATE TEMP VIEW got_model_users (c1, c2, c3) AS
SELECT r.month, e.key, u FROM built r, jsonb_each(r.aggregated_by_model) e, jsonb_object_keys(litemaas_ref.obj(e.value -> 'users')) u;

CREATE TEMP VIEW ref_providers (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10) AS
SELECT d.month, p.key, bit_or(d.bit), sum(x.requests), sum(x.total_tokens), sum(x.prompt_tokens), sum(x.completion_tokens),
       sum(x.cost)::text, sum(x.successful_requests), sum(x.failed_requests)
FROM days d, jsonb_each(d.aggregated_by_provider) p, pg_temp.mm(p.value) x
WHERE d.aggregated_by_provider <> '{}' GROUP BY 1, 2;
CREATE TEMP VIEW got_providers (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10) AS
SELECT r.month, p.key, (p.value ->> '~days')::int, x.requests, x.total_tokens, x.prompt_tokens, x.completion_tokens,
       x.cost::text, x.successful_requests, x.failed_requests
FROM built r, jsonb_each(r.aggregated_by_provider) p, pg_temp.mm(p.value) x;

-- Days whose providers are derived from the models (aggregated_by_provider NULL or {}), each
-- model under the day's own-provider rule.
CREATE TEMP VIEW derived_entries AS
SELECT d.month, d.bit, e.key AS model, e.value, litemaas_ref.provider_rule(e.key, e.value -> 'provider') AS provider
FROM days d, jsonb_each(d.aggregated_by_model) e
WHERE d.aggregated_by_provider IS NULL OR d.aggregated_by_provider = '{}';
CREATE TEMP VIEW ref_derived (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11) AS
SELECT month, provider, bit_or(bit), sum(x.requests), sum(x.total_tokens), sum(x.prompt_tokens), sum(x.completion_tokens),
       sum(x.cost)::text, sum(x.successful_requests), sum(x.failed_requests),
       coalesce(bool_or(jsonb_typeof(value -> 'users') = 'object'), false)
FROM derived_entries, pg_temp.mm(value) x GROUP BY 1, 2;
CREATE TEMP VIEW got_derived (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11) AS
SELECT r.month, p.key, (p.value ->> '~days')::int, x.requests, x.total_tokens, x.prompt_tokens, x.completion_tokens,
       x.cost::text, x.successful_requests, x.failed_requests, p.value ? 'users'
FROM built r, jsonb_each(r.providers_derived) p, pg_temp.mm(p.value) x;
CREATE TEMP VIEW ref_derived_sets (c1, c2, c3, c4) AS
SELECT DISTINCT month, provider, 'model' AS kind, model AS k FROM derived_entries
UNION SELECT DISTINCT month, provider, 'user', u FROM derived_entries, jsonb_object_keys(litemaas_ref.obj(value -> 'users')) u;
CREATE TEMP VIEW got_derived_sets (c1, c2, c3, c4) AS
SELECT r.month, p.key, 'model', k FROM built r, jsonb_each(r.providers_derived) p, jsonb_object_keys(p.value -> 'models') k
UNION ALL SELECT r.month, p.key, 'user', k FROM built r, jsonb_each(r.providers_derived) p, jsonb_object_keys(litemaas_ref.obj(p.value -> 'users')) k;
CREATE TEMP VIEW ref_unprovided (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10) AS
SELECT month, model, bit_or(bit), sum(x.requests), sum(x.total_tokens), sum(x.prompt_tokens), sum(x.completion_tokens),
       sum(x.cost)::text, sum(x.successful_requests), sum(x.failed_requests)
FROM derived_entries, pg_temp.mm(value) x GROUP BY 1, 2;
CREATE TEMP VIEW got_unprovided (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10) AS
SELECT r.month, e.key, (e.value ->> '~days')::int, x.requests, x.total_tokens, x.prompt_tokens, x.completion_tokens,
       x.cost::text, x.successful_requests, x.failed_requests
FROM built r, jsonb_each(r.models_unprovided) e, pg_temp.mm(e.value) x;

CREATE TEMP VIEW ref_daily (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10) AS
SELECT d.month, extract(day FROM d.date)::int, (SELECT count(*) FROM jsonb_object_keys(coalesce(d.aggregated_by_user, '{}')) k),
       coalesce(sum(x.requests), 0), coalesce(sum(x.total_tokens), 0), coalesce(sum(x.prompt_tokens), 0),
       coalesce(sum(x.completion_tokens), 0), coalesce(sum(x.cost), 0)::text, coalesce(sum(x.successful_requests), 0),
       coalesce(sum(x.failed_requests), 0)
FROM days d LEFT JOIN LATERAL jsonb_each(d.aggregated_by_user) u ON true LEFT JOIN LATERAL pg_temp.mm(u.value) x ON true
GROUP BY d.month, d.date, d.aggregated_by_user;
CREATE TEMP VIEW got_daily (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10) AS
SELECT r.month, e.key::int, (e.value ->> 'users')::bigint, x.requests, x.total_tokens, x.prompt_tokens, x.completion_tokens,
       x.cost::text, x.successful_requests, x.failed_requests
FROM built r, jsonb_each(r.daily) e, pg_temp.mm(e.value) x;
CREATE TEMP VIEW ref_daily_models (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10) AS
SELECT d.month, extract(day FROM d.date)::int, e.key, x.requests, x.total_tokens, x.prompt_tokens, x.completion_tokens,
       x.cost::text, x.successful_requests, x.failed_requests
FROM days d, jsonb_each(d.aggregated_by_model) e, pg_temp.mm(e.value) x;
CREATE TEMP VIEW got_daily_models (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10) AS
SELECT r.month, e.key::int, m.key, x.requests, x.total_tokens, x.prompt_tokens, x.completion_tokens,
       x.cost::text, x.successful_requests, x.failed_requests
FROM built r, jsonb_each(r.daily) e, jsonb_each(e.value -> 'models') m, pg_temp.mm(m.value) x;

-- Rows of the reference missing from the rollups and rows of the rollups not in the reference.
CREATE FUNCTION pg_temp.check(what text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE n bigint; missing bigint; extra bigint;
BEGIN
    EXECUTE format('CREATE TEMP TABLE check_ref AS SELECT * FROM ref_%s', what);
    EXECUTE format('CREATE TEMP TABLE check_got AS SELECT * FROM got_%s', what);
    SELECT count(*) INTO n FROM check_ref;
    SELECT count(*) INTO missing FROM (SELECT * FROM check_ref EXCEPT ALL SELECT * FROM check_got) x;
    SELECT count(*) INTO extra FROM (SELECT * FROM check_got EXCEPT ALL SELECT * FROM check_ref) x;
    DROP TABLE check_ref, check_got;
    RETURN format('%s: %s rows, %s missing, %s extra', what, n, missing, extra);
END $$;
CREATE FUNCTION pg_temp.check_all() RETURNS SETOF text LANGUAGE sql AS $$
    SELECT pg_temp.check(w) FROM unnest(ARRAY['month', 'users', 'cells', 'keys', 'models', 'model_users', 'providers',
        'derived', 'derived_sets', 'unprovided', 'daily', 'daily_models']) AS w
$$;

-- Every change so far is logged; the first refresh builds every month.
SELECT month, count(*) > 0 AS logged FROM ducache_rollup_changes GROUP BY month ORDER BY month;
SELECT * FROM ducache_refresh_rollups();
SELECT month, built, days = (SELECT bit_or(1 << (extract(day FROM date)::int - 1)) FROM daily_usage_cache
                             WHERE date_trunc('month', date)::date = r.month) AS days_match
FROM ducache_rollups r ORDER BY month;
SELECT count(*) AS change_rows FROM ducache_rollup_changes;
SELECT * FROM pg_temp.check_all();
-- The facts the data was made to exercise are really in the rollups.
SELECT r.month, r.aggregated_by_user -> litemaas_ref.user_id(1) ->> 'username' AS user1,
       r.aggregated_by_user -> litemaas_ref.user_id(2) ->> 'email' AS user2_email,
       r.aggregated_by_user -> litemaas_ref.user_id(2) ->> 'username' AS user2_name,
       r.aggregated_by_model -> 'mistral-7b-instruct' ->> 'provider' AS mistral,
       r.aggregated_by_model -> 'gpt-4o' ->> 'provider' AS gpt4o,
       (SELECT string_agg(u.key, ',') FROM jsonb_each(r.aggregated_by_user) u WHERE NOT u.value ? 'models') AS never_nested
FROM ducache_rollups r ORDER BY month;

-- Second call: nothing changed, every month fresh; a range picks the months it meets.
SELECT * FROM ducache_refresh_rollups();
SELECT * FROM ducache_refresh_rollups('2025-02-28', '2025-03-01');
SELECT * FROM ducache_refresh_rollups(NULL, '2025-01-31');
SELECT * FROM ducache_refresh_rollups('2025-04-04', NULL);
SELECT * FROM ducache_refresh_rollups('2024-01-01', '2024-12-31');
SELECT ducache_test.error_of($$SELECT * FROM ducache_refresh_rollups('2025-03-01', '2025-02-01')$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_refresh_rollups('-infinity', NULL)$$);

-- A plain UPDATE: the month is logged (its rollup stays built but is not fresh), then refreshed.
UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user || jsonb_build_object('late-user',
    jsonb_build_object('username', 'late', 'totalRequests', 5, 'totalCost', 0.125))
WHERE date = '2025-03-15';
SELECT month, count(*) AS change_rows FROM ducache_rollup_changes GROUP BY month;
SELECT * FROM ducache_refresh_rollups();
SELECT count(*) AS change_rows FROM ducache_rollup_changes;
SELECT aggregated_by_user -> 'late-user' AS late_user FROM ducache_rollups WHERE month = '2025-03-01';

-- An incomplete day: no rollup for its month (a lock row, built = false), the others fresh.
UPDATE daily_usage_cache SET is_complete = false WHERE date = '2025-02-14';
SELECT * FROM ducache_refresh_rollups();
SELECT month, built, days, aggregated_by_user IS NULL AS no_documents, daily IS NULL AS no_daily
FROM ducache_rollups WHERE month = '2025-02-01';
UPDATE daily_usage_cache SET is_complete = true WHERE date = '2025-02-14';
SELECT * FROM ducache_refresh_rollups('2025-02-01', '2025-02-28');

-- A bad value: WARNING naming it, no rollup (skipped); fixed: refreshed.
UPDATE daily_usage_cache SET aggregated_by_model = jsonb_set(aggregated_by_model, '{gpt-4o,metrics,api_requests}', '"many"')
WHERE date = '2025-03-20';
SELECT * FROM ducache_refresh_rollups('2025-03-01', '2025-03-31');
SELECT month, built FROM ducache_rollups WHERE month = '2025-03-01';
UPDATE daily_usage_cache SET aggregated_by_model = jsonb_set(aggregated_by_model, '{gpt-4o,metrics,api_requests}', '7')
WHERE date = '2025-03-20';
-- An overflow in the month's sum (each day within bigint) is skipped too.
UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user || '{"big": {"totalRequests": 9000000000000000000}}'
WHERE date IN ('2025-03-21', '2025-03-22');
SELECT * FROM ducache_refresh_rollups('2025-03-01', '2025-03-31');
UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user - 'big' WHERE date IN ('2025-03-21', '2025-03-22');
SELECT * FROM ducache_refresh_rollups('2025-03-01', '2025-03-31');
SELECT * FROM pg_temp.check_all();

-- Every day of a month deleted: its rollup row goes (removed); a month with only change rows
-- is handled too.
DELETE FROM daily_usage_cache WHERE date < '2025-02-01';
INSERT INTO ducache_rollup_changes (month) VALUES ('2024-12-01');
SELECT * FROM ducache_refresh_rollups();
SELECT month FROM ducache_rollups ORDER BY month;
SELECT count(*) AS change_rows FROM ducache_rollup_changes;

-- The writers refresh the months they write, in their own transaction: an upsert of a past
-- day leaves no change row and a fresh rollup that matches the days.
SELECT * FROM ducache_batch_upsert(ARRAY['2025-02-03', '2025-03-04']::date[],
    ARRAY['{}', '{}']::jsonb[],
    ARRAY[(SELECT aggregated_by_user || '{"upserted": {"metrics": {"api_requests": 3, "spend": "0.300"}}}' FROM daily_usage_cache WHERE date = '2025-02-03'),
          (SELECT aggregated_by_user FROM daily_usage_cache WHERE date = '2025-03-04')],
    ARRAY[(SELECT aggregated_by_model FROM daily_usage_cache WHERE date = '2025-02-03'),
          (SELECT aggregated_by_model FROM daily_usage_cache WHERE date = '2025-03-04')],
    ARRAY[(SELECT aggregated_by_provider FROM daily_usage_cache WHERE date = '2025-02-03'),
          (SELECT aggregated_by_provider FROM daily_usage_cache WHERE date = '2025-03-04')],
    ARRAY[(SELECT total_metrics FROM daily_usage_cache WHERE date = '2025-02-03'),
          (SELECT total_metrics FROM daily_usage_cache WHERE date = '2025-03-04')],
    ARRAY[true, true]);
SELECT count(*) AS change_rows FROM ducache_rollup_changes;
SELECT month, built, aggregated_by_user -> 'upserted' -> 'metrics' ->> 'totalCost' AS upserted_cost
FROM ducache_rollups ORDER BY month;
SELECT * FROM ducache_refresh_rollups();
SELECT * FROM pg_temp.check_all();
-- The same again: unchanged days, nothing written, the rollup not rebuilt.
CREATE TEMP TABLE before AS SELECT month, refreshed_at, xmin::text AS x FROM ducache_rollups;
SELECT action FROM ducache_batch_upsert(ARRAY['2025-03-04']::date[], ARRAY['{}']::jsonb[],
    ARRAY[(SELECT aggregated_by_user FROM daily_usage_cache WHERE date = '2025-03-04')],
    ARRAY[(SELECT aggregated_by_model FROM daily_usage_cache WHERE date = '2025-03-04')],
    ARRAY[(SELECT aggregated_by_provider FROM daily_usage_cache WHERE date = '2025-03-04')],
    ARRAY[(SELECT total_metrics FROM daily_usage_cache WHERE date = '2025-03-04')], ARRAY[true]);
SELECT count(*) AS rollups_rewritten FROM ducache_rollups r JOIN before b USING (month) WHERE r.xmin::text <> b.x;
-- A new day of April by upsert, incomplete: April has no rollup until the day is complete.
SELECT action FROM ducache_batch_upsert(ARRAY['2025-04-05']::date[], ARRAY['{}']::jsonb[],
    ARRAY['{"u": {"totalRequests": 1}}']::jsonb[], NULL, NULL, NULL, ARRAY[false]);
SELECT month, built FROM ducache_rollups WHERE month = '2025-04-01';
SELECT count(*) AS change_rows FROM ducache_rollup_changes;

-- ducache_rebuild refreshes the months it writes, in its transaction: May's days generated
-- with the old key names are rewritten with the current ones (api_keys.name).
CREATE SCHEMA rr;
CREATE TABLE rr.users AS SELECT * FROM litemaas_ref.gen_users(12);
CREATE TABLE rr.api_keys AS SELECT * FROM litemaas_ref.gen_api_keys(12);
SET ducache.users_table = 'rr.users';
SET ducache.api_keys_table = 'rr.api_keys';
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics)
SELECT g.* FROM generate_series(0, 3) AS n, litemaas_ref.gen_day(12, n, '2025-05-01') AS g;
SELECT * FROM ducache_refresh_rollups('2025-05-01', '2025-05-31');
SELECT count(DISTINCT k.value ->> 'keyName') FILTER (WHERE k.value ->> 'keyName' LIKE '%(renamed)') AS renamed_key_names
FROM ducache_rollups r, jsonb_each(r.aggregated_by_user) u, jsonb_each(u.value -> 'models') c, jsonb_each(c.value -> 'api_keys') k
WHERE r.month = '2025-05-01';
SELECT action, count(*) FROM ducache_rebuild('2025-05-01', '2025-05-04') GROUP BY 1 ORDER BY 1;
SELECT count(*) AS change_rows FROM ducache_rollup_changes;
SELECT count(DISTINCT k.value ->> 'keyName') FILTER (WHERE k.value ->> 'keyName' LIKE '%(renamed)') AS renamed_key_names
FROM ducache_rollups r, jsonb_each(r.aggregated_by_user) u, jsonb_each(u.value -> 'models') c, jsonb_each(c.value -> 'api_keys') k
WHERE r.month = '2025-05-01';
SELECT * FROM pg_temp.check_all();
RESET ducache.users_table;
RESET ducache.api_keys_table;
DROP SCHEMA rr CASCADE;

-- Who may refresh: a role that reads all of daily_usage_cache; the work runs as the owner.
CREATE ROLE ducache_rr_none;
CREATE ROLE ducache_rr_reader;
GRANT SELECT ON daily_usage_cache TO ducache_rr_reader;
UPDATE daily_usage_cache SET total_metrics = '{}' WHERE date = '2025-03-10';
SET ROLE ducache_rr_none;
SELECT ducache_test.error_of('SELECT * FROM ducache_refresh_rollups()');
SET ROLE ducache_rr_reader;
SELECT ducache_test.error_of('SELECT * FROM ducache_rollups');
SELECT * FROM ducache_refresh_rollups();
RESET ROLE;
-- Row-level security in force for the caller: refused.
ALTER TABLE daily_usage_cache ENABLE ROW LEVEL SECURITY;
CREATE POLICY ducache_rr_all ON daily_usage_cache FOR SELECT USING (true);
SET ROLE ducache_rr_reader;
SELECT ducache_test.error_of('SELECT * FROM ducache_refresh_rollups()');
RESET ROLE;
DROP POLICY ducache_rr_all ON daily_usage_cache;
ALTER TABLE daily_usage_cache DISABLE ROW LEVEL SECURITY;
REVOKE ALL ON daily_usage_cache FROM ducache_rr_reader;
DROP ROLE ducache_rr_none;
DROP ROLE ducache_rr_reader;

-- TRUNCATE logs every rollup's month; the refresh then removes them all.
TRUNCATE daily_usage_cache;
SELECT * FROM ducache_refresh_rollups();
SELECT count(*) AS rollups, (SELECT count(*) FROM ducache_rollup_changes) AS change_rows FROM ducache_rollups;
