-- The derived columns of the rollup rows (src/pg/rollup_derived.cpp, src/sql/56_rollup_derived.sql):
-- user_totals, model_totals and key_totals, set by a trigger on every write of a month or block
-- row, read by ducache_dashboard instead of the whole documents. On the multi-month fixture of
-- test/reference/rollups_fixture.sql, after ducache_refresh_rollups():
--   * user_totals / model_totals equal the row's own documents without the users' "models" /
--     the models' "users" and "~named", written in plain SQL;
--   * key_totals equals the key cells of the row's cached days summed per user and key alias in
--     plain SQL (test/reference/cells.sql), every metric, cost as numeric;
--   * a hand edit of a document (as the superuser) moves the derived columns with it; an UPDATE
--     of other columns leaves them;
--   * a key cell the readers refuse in a rollup: key_totals NULL, and the dashboard still
--     answers as from the days;
--   * the dashboard on ranges made of whole months and blocks (both periods) equals the same
--     call with rollups off, as text.
-- Own rows: the cache is emptied first and last.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
DELETE FROM daily_usage_cache;
TRUNCATE ducache_rollups, ducache_rollup_blocks, ducache_rollup_changes;
\set ECHO none
SET client_min_messages = warning;
\i test/reference/rollups_fixture.sql
\i test/reference/cells.sql
RESET client_min_messages;
\set ECHO all
-- The day rows' key cells, computed once (the view reads every day).
CREATE TEMP TABLE key_cells AS SELECT * FROM litemaas_ref.key_cells;

SELECT count(*) AS months FROM ducache_refresh_rollups();
CREATE TEMP VIEW rollup_rows AS
SELECT 'month ' || month AS row_name, month AS first_day, (month + interval '1 month' - interval '1 day')::date AS last_day,
       aggregated_by_user, aggregated_by_model, user_totals, model_totals, key_totals
FROM ducache_rollups WHERE built
UNION ALL
SELECT 'block ' || block, block, last_day, aggregated_by_user, aggregated_by_model, user_totals, model_totals, key_totals
FROM ducache_rollup_blocks WHERE built;
SELECT count(*) FILTER (WHERE row_name LIKE 'month%') AS built_months,
       count(*) FILTER (WHERE row_name LIKE 'block%') AS built_blocks
FROM rollup_rows;

-- The projections in plain SQL.
CREATE FUNCTION pg_temp.without(doc jsonb, VARIADIC names text[]) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(doc) <> 'object' THEN doc
                ELSE coalesce((SELECT jsonb_object_agg(e.key, CASE WHEN jsonb_typeof(e.value) = 'object'
                                                                   THEN e.value - names ELSE e.value END)
                               FROM jsonb_each(doc) e), '{}') END
$$;
-- (user_totals' "~keycost" and "~keymag", the top API key's per-user bounds, are checked below.)
SELECT row_name,
       pg_temp.without(user_totals, '~keycost', '~keymag') IS NOT DISTINCT FROM pg_temp.without(aggregated_by_user, 'models') AS user_totals_ok,
       model_totals IS NOT DISTINCT FROM pg_temp.without(aggregated_by_model, 'users', '~named') AS model_totals_ok
FROM rollup_rows
WHERE pg_temp.without(user_totals, '~keycost', '~keymag') IS DISTINCT FROM pg_temp.without(aggregated_by_user, 'models')
   OR model_totals IS DISTINCT FROM pg_temp.without(aggregated_by_model, 'users', '~named');
SELECT count(*) AS rows_with_users, sum((SELECT count(*) FROM jsonb_object_keys(user_totals))) AS user_entries
FROM rollup_rows WHERE aggregated_by_user <> '{}';

-- key_totals against the days' key cells summed per (user, alias) over the row's days.
CREATE TEMP VIEW key_totals_flat AS
SELECT r.row_name, u.key AS user_id, k.key AS key_alias,
       (k.value -> 'metrics' ->> 'totalRequests')::bigint AS requests,
       (k.value -> 'metrics' ->> 'totalTokens')::bigint AS total_tokens,
       (k.value -> 'metrics' ->> 'promptTokens')::bigint AS prompt_tokens,
       (k.value -> 'metrics' ->> 'completionTokens')::bigint AS completion_tokens,
       (k.value -> 'metrics' ->> 'totalCost')::numeric AS cost,
       (k.value -> 'metrics' ->> 'successfulRequests')::bigint AS successful_requests,
       (k.value -> 'metrics' ->> 'failedRequests')::bigint AS failed_requests
FROM rollup_rows r, jsonb_each(r.key_totals) u, jsonb_each(u.value) k;
CREATE TEMP VIEW key_totals_ref AS
SELECT r.row_name, c.user_id, c.key_alias, sum(c.requests)::bigint AS requests, sum(c.total_tokens)::bigint AS total_tokens,
       sum(c.prompt_tokens)::bigint AS prompt_tokens, sum(c.completion_tokens)::bigint AS completion_tokens,
       sum(c.cost) AS cost, sum(c.successful_requests)::bigint AS successful_requests,
       sum(c.failed_requests)::bigint AS failed_requests
FROM rollup_rows r JOIN key_cells c ON c.date BETWEEN r.first_day AND r.last_day
GROUP BY r.row_name, c.user_id, c.key_alias;
SELECT (SELECT count(*) FROM key_totals_ref) AS reference_pairs,
       (SELECT count(*) FROM (SELECT * FROM key_totals_ref EXCEPT SELECT * FROM key_totals_flat) x) AS missing_or_different,
       (SELECT count(*) FROM (SELECT * FROM key_totals_flat EXCEPT SELECT * FROM key_totals_ref) x) AS extra_or_different,
       (SELECT count(*) FROM rollup_rows WHERE key_totals IS NULL AND aggregated_by_user IS NOT NULL) AS rows_without_key_totals;

-- The top API key's per-user bounds in every user_totals entry (core/key_bounds.hpp), against
-- the reference pairs: "~keycost" = max(0, the user's largest pair cost in the row), 0 without
-- pairs; "~keymag" = the largest over the counts of the sum of |v| over the user's pairs.
CREATE TEMP VIEW bounds_ref AS
SELECT r.row_name, u.key AS user_id,
       greatest(0, coalesce((SELECT max(k.cost) FROM key_totals_ref k WHERE k.row_name = r.row_name AND k.user_id = u.key), 0)) AS keycost,
       coalesce((SELECT greatest(coalesce(sum(abs(k.requests)), 0), coalesce(sum(abs(k.total_tokens)), 0),
                                 coalesce(sum(abs(k.prompt_tokens)), 0), coalesce(sum(abs(k.completion_tokens)), 0),
                                 coalesce(sum(abs(k.successful_requests)), 0), coalesce(sum(abs(k.failed_requests)), 0))
                 FROM key_totals_ref k WHERE k.row_name = r.row_name AND k.user_id = u.key), 0) AS keymag,
       u.value AS entry
FROM rollup_rows r, jsonb_each(r.user_totals) u
WHERE jsonb_typeof(u.value) = 'object';
SELECT count(*) AS user_entries,
       count(*) FILTER (WHERE keycost > 0) AS with_positive_keycost,
       count(*) FILTER (WHERE jsonb_typeof(entry -> '~keycost') IS DISTINCT FROM 'number'
                           OR (entry ->> '~keycost')::numeric <> keycost
                           OR jsonb_typeof(entry -> '~keymag') IS DISTINCT FROM 'number'
                           OR (entry ->> '~keymag')::numeric <> keymag) AS bounds_off
FROM bounds_ref;

-- The dashboard on ranges whose both periods are whole months or blocks (and leftover days):
-- rollups on equal rollups off, as text.
CREATE TEMP TABLE ranges (s date, e date, what text);
INSERT INTO ranges VALUES
    ('2025-03-01', '2025-03-31', 'March (comparison: January days and February whole)'),
    ('2025-02-01', '2025-03-31', 'February and March'),
    ('2025-02-09', '2025-03-24', 'blocks of February and March (comparison: blocks of January)'),
    ('2025-03-09', '2025-03-16', 'one block (comparison: the block before)'),
    ('2025-02-17', '2025-04-05', 'mid-February to the incomplete April');
SELECT r.what,
       ducache_dashboard(r.s, r.e)::text = ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L)', r.s, r.e)) AS equal,
       ducache_dashboard(r.s, r.e, jsonb_build_object('userIds', ARRAY[litemaas_ref.user_id(3), litemaas_ref.user_id(5)]))::text
         = ducache_test.with_rollups_off(format('SELECT ducache_dashboard(%L, %L, %L)', r.s, r.e,
                                           jsonb_build_object('userIds', ARRAY[litemaas_ref.user_id(3), litemaas_ref.user_id(5)]))) AS equal_user_filter,
       ducache_dashboard(r.s, r.e) -> 'topMetrics' -> 'topApiKey' IS NOT NULL AS has_top_key
FROM ranges r ORDER BY r.s, r.e;

-- A hand edit of February's documents (as the superuser, no change logged): user3's requests
-- + 1000000 and its cells gone, gpt-4o gone. The derived columns follow; an UPDATE of another
-- column leaves them as they are.
UPDATE ducache_rollups
SET aggregated_by_user = jsonb_set(jsonb_set(aggregated_by_user, ARRAY[litemaas_ref.user_id(3), 'models'], '{}'),
        ARRAY[litemaas_ref.user_id(3), 'metrics', 'totalRequests'],
        to_jsonb((aggregated_by_user -> litemaas_ref.user_id(3) -> 'metrics' ->> 'totalRequests')::bigint + 1000000)),
    aggregated_by_model = aggregated_by_model - 'gpt-4o'
WHERE month = '2025-02-01';
SELECT pg_temp.without(user_totals, '~keycost', '~keymag') = pg_temp.without(aggregated_by_user, 'models') AS user_totals_follow,
       model_totals = pg_temp.without(aggregated_by_model, 'users', '~named') AS model_totals_follow,
       NOT (model_totals ? 'gpt-4o') AS model_gone,
       NOT (key_totals ? litemaas_ref.user_id(3)) AS user3_keys_gone,
       (SELECT count(*) FROM jsonb_object_keys(key_totals)) AS users_with_keys
FROM ducache_rollups WHERE month = '2025-02-01';
SELECT md5(user_totals::text || model_totals::text || key_totals::text) AS before_other_update
FROM ducache_rollups WHERE month = '2025-02-01' \gset
UPDATE ducache_rollups SET refreshed_at = refreshed_at WHERE month = '2025-02-01';
SELECT md5(user_totals::text || model_totals::text || key_totals::text) = :'before_other_update' AS unchanged_by_other_update
FROM ducache_rollups WHERE month = '2025-02-01';
-- The tampered February is read by the dashboard through user_totals (March's comparison
-- period, February whole; its range: February's own document).
SELECT (ducache_dashboard('2025-03-01', '2025-03-31') -> 'trends' -> 'requestsTrend' ->> 'previous')::bigint
       - (ducache_test.with_rollups_off($$SELECT ducache_dashboard('2025-03-01', '2025-03-31') -> 'trends' -> 'requestsTrend' ->> 'previous'$$))::bigint
       AS previous_requests_added,
       (ducache_dashboard('2025-02-01', '2025-02-28') ->> 'totalRequests')::bigint
       - (ducache_test.with_rollups_off($$SELECT ducache_dashboard('2025-02-01', '2025-02-28') ->> 'totalRequests'$$))::bigint
       AS range_requests_added,
       ducache_dashboard('2025-02-01', '2025-02-28') -> 'totalCost' -> 'byModel' ? 'gpt-4o' AS gpt_4o_in_range;

-- A key cell the readers refuse, in March's rollup: no key totals; the dashboard reads the days.
UPDATE ducache_rollups
SET aggregated_by_user = jsonb_set(aggregated_by_user,
        ARRAY[litemaas_ref.user_id(2), 'models', (SELECT min(m) FROM jsonb_object_keys(aggregated_by_user -> litemaas_ref.user_id(2) -> 'models') m),
              'api_keys', (SELECT min(k) FROM jsonb_each(aggregated_by_user -> litemaas_ref.user_id(2) -> 'models') mm,
                                              jsonb_object_keys(mm.value -> 'api_keys') k
                           WHERE mm.key = (SELECT min(m) FROM jsonb_object_keys(aggregated_by_user -> litemaas_ref.user_id(2) -> 'models') m)),
              'metrics', 'totalRequests'], '"many"')
WHERE month = '2025-03-01';
SELECT key_totals IS NULL AS no_key_totals, user_totals IS NOT NULL AS user_totals_kept
FROM ducache_rollups WHERE month = '2025-03-01';
SELECT ducache_dashboard('2025-03-01', '2025-03-31')::text
       = ducache_test.with_rollups_off($$SELECT ducache_dashboard('2025-03-01', '2025-03-31')$$) AS dashboard_from_the_days;

-- A refresh puts both months back (the edits logged by hand); the columns are derived again.
INSERT INTO ducache_rollup_changes (month) VALUES ('2025-02-01'), ('2025-03-01');
SELECT month, action FROM ducache_refresh_rollups('2025-02-01', '2025-03-31') ORDER BY month;
SELECT count(*) AS rows_off FROM rollup_rows
WHERE pg_temp.without(user_totals, '~keycost', '~keymag') IS DISTINCT FROM pg_temp.without(aggregated_by_user, 'models')
   OR model_totals IS DISTINCT FROM pg_temp.without(aggregated_by_model, 'users', '~named')
   OR key_totals IS NULL;
SELECT (SELECT count(*) FROM (SELECT * FROM key_totals_ref EXCEPT SELECT * FROM key_totals_flat) x) AS missing_or_different,
       (SELECT count(*) FROM (SELECT * FROM key_totals_flat EXCEPT SELECT * FROM key_totals_ref) x) AS extra_or_different;

DELETE FROM daily_usage_cache;
SELECT count(*) FROM ducache_refresh_rollups();
SELECT count(*) AS rollups_left FROM ducache_rollups WHERE built;
SET client_min_messages = warning;
DROP SCHEMA litemaas_ref CASCADE;
RESET client_min_messages;
