-- The packed users column (user_pack: core/user_pack.hpp, src/pg/rollup_derived.cpp): derived by
-- the rollup trigger and the day projections' refresh from user_totals. On the multi-month
-- fixture of test/reference/rollups_fixture.sql, after ducache_refresh_rollups():
--   * every built month, block and day projection row's pack, unpacked by
--     ducache_user_pack_rows, equals plain SQL over the same row's user_totals: the users in
--     object order, the six counts, cost and ~keycost (value and text), ~keymag, the identity;
--   * the rows without a pack are exactly the rows with a cost that passes int64 as an integer
--     at the row's scale (costs are decoded at scales of whole base-10000 digits: a multiple of 4
--     at least min_scale; the fixture's 123456789012.5 and 10^-18 costs): the dashboard then
--     reads user_totals;
--   * ducache_user_pack(user_totals) is the stored pack; a hand edit of aggregated_by_user moves it;
--   * malformed packs are refused (22P03).
-- Own rows: the cache is emptied first and last.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
DELETE FROM daily_usage_cache;
TRUNCATE ducache_rollups, ducache_rollup_blocks, ducache_rollup_changes, ducache_rollup_days;
\set ECHO none
SET client_min_messages = warning;
\i test/reference/rollups_fixture.sql
RESET client_min_messages;
\set ECHO all
SELECT count(*) AS months FROM ducache_refresh_rollups();
CREATE TEMP VIEW packed_rows AS
SELECT 'month ' || month AS row_name, user_totals, user_pack FROM ducache_rollups WHERE built
UNION ALL
SELECT 'block ' || block, user_totals, user_pack FROM ducache_rollup_blocks WHERE built
UNION ALL
SELECT 'day ' || day, user_totals, user_pack FROM ducache_rollup_days WHERE built;
SELECT count(*) AS built_rows, count(user_pack) AS with_pack FROM packed_rows;

-- No pack exactly where a cost does not fit: |cost| x 10^S past int64, S the row's largest scale.
CREATE TEMP VIEW row_costs AS
SELECT r.row_name, c.v
FROM packed_rows r, jsonb_each(r.user_totals) e,
     LATERAL (SELECT (e.value->'metrics'->>'totalCost')::numeric UNION ALL SELECT (e.value->>'~keycost')::numeric) c(v)
WHERE c.v IS NOT NULL;
CREATE TEMP VIEW oversized AS
SELECT row_name FROM (
    SELECT row_name, v, max(ceil(min_scale(v) / 4.0) * 4) OVER (PARTITION BY row_name) AS s FROM row_costs) x
GROUP BY row_name
HAVING max(abs(v) * 10::numeric ^ s) > 9223372036854775807;
SELECT row_name, user_pack IS NULL AS no_pack, row_name IN (SELECT row_name FROM oversized) AS oversized_cost
FROM packed_rows WHERE user_pack IS NULL OR row_name IN (SELECT row_name FROM oversized) ORDER BY 1;
SELECT count(*) AS mismatched FROM packed_rows
WHERE (user_pack IS NULL) <> (row_name IN (SELECT row_name FROM oversized));

-- The packs against plain SQL over user_totals.
CREATE FUNCTION pg_temp.str(v jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(v) = 'string' THEN v #>> '{}' ELSE '' END
$$;
CREATE TEMP TABLE ref AS
SELECT r.row_name, (e.ord - 1)::int AS ord, e.key AS user_id,
       coalesce((e.value->'metrics'->>'totalRequests')::bigint, 0) AS requests,
       coalesce((e.value->'metrics'->>'totalTokens')::bigint, 0) AS total_tokens,
       coalesce((e.value->'metrics'->>'promptTokens')::bigint, 0) AS prompt_tokens,
       coalesce((e.value->'metrics'->>'completionTokens')::bigint, 0) AS completion_tokens,
       coalesce((e.value->'metrics'->>'successfulRequests')::bigint, 0) AS successful_requests,
       coalesce((e.value->'metrics'->>'failedRequests')::bigint, 0) AS failed_requests,
       (e.value->'metrics'->>'totalCost')::numeric AS cost, e.value->'metrics'->>'totalCost' AS cost_text,
       (e.value->>'~keycost')::numeric AS keycost, e.value->>'~keycost' AS keycost_text,
       (e.value->>'~keymag')::bigint AS keymag,
       pg_temp.str(e.value->'~identity'->'username') AS username, pg_temp.str(e.value->'~identity'->'email') AS email,
       pg_temp.str(e.value->'~identity'->'role') AS role
FROM packed_rows r, jsonb_each(r.user_totals) WITH ORDINALITY AS e(key, value, ord)
WHERE r.user_pack IS NOT NULL;
CREATE TEMP TABLE unpacked AS
SELECT r.row_name, p.ord, p.user_id, p.requests, p.total_tokens, p.prompt_tokens, p.completion_tokens,
       p.successful_requests, p.failed_requests, p.cost, p.cost::text AS cost_text, p.keycost,
       p.keycost::text AS keycost_text, p.keymag, p.username, p.email, p.role
FROM packed_rows r, ducache_user_pack_rows(r.user_pack) p WHERE r.user_pack IS NOT NULL;
SELECT (SELECT count(*) FROM ref) AS ref_entries, (SELECT count(*) FROM unpacked) AS packed_entries,
       (SELECT count(*) FROM (SELECT * FROM ref EXCEPT ALL SELECT * FROM unpacked) d) AS only_ref,
       (SELECT count(*) FROM (SELECT * FROM unpacked EXCEPT ALL SELECT * FROM ref) d) AS only_packed;
-- What the fixture varies is in there: identities renamed and absent, users without a cost.
SELECT count(DISTINCT username) > 5 AS usernames, bool_or(username = '') AS no_username,
       bool_or(email = '' AND username <> '') AS no_email, bool_or(cost IS NULL) AS no_cost,
       count(DISTINCT scale(cost)) > 1 AS cost_scales
FROM unpacked;

-- The SQL function is the trigger's derivation; a hand edit of the documents moves the pack with them.
SELECT count(*) FILTER (WHERE ducache_user_pack(user_totals) IS NOT DISTINCT FROM user_pack) AS same,
       count(*) AS rows FROM packed_rows;
CREATE TEMP TABLE first_user AS
SELECT min(k) AS id FROM ducache_rollups, jsonb_object_keys(user_totals) k WHERE month = '2025-01-01';
UPDATE ducache_rollups SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[(SELECT id FROM first_user), 'metrics', 'totalRequests'], '777')
WHERE month = '2025-01-01';
SELECT month, (SELECT requests FROM ducache_user_pack_rows(user_pack) WHERE user_id = (SELECT id FROM first_user)) AS user1_requests,
       user_pack IS NOT DISTINCT FROM ducache_user_pack(user_totals) AS same
FROM ducache_rollups WHERE month = '2025-01-01';
-- Other columns' updates leave it.
UPDATE ducache_rollups SET refreshed_at = refreshed_at WHERE month = '2025-01-01';
SELECT (SELECT requests FROM ducache_user_pack_rows(user_pack) WHERE user_id = (SELECT id FROM first_user)) AS user1_requests
FROM ducache_rollups WHERE month = '2025-01-01';

-- Malformed packs.
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_pack_rows('\x00'::bytea)$$);
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_pack_rows(
    substr((SELECT user_pack FROM ducache_rollups WHERE month = '2025-01-01'), 1, 200))$$);
SELECT ducache_user_pack('[1]') IS NULL AS not_an_object, ducache_user_pack('{"u": 5}') IS NULL AS refused_entry;

DELETE FROM daily_usage_cache;
TRUNCATE ducache_rollups, ducache_rollup_blocks, ducache_rollup_changes, ducache_rollup_days;
