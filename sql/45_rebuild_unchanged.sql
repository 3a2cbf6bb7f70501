-- CONTRACT §9: ducache_rebuild reports 'unchanged' for a day whose recomputed documents equal
-- the stored ones and writes nothing for it (no new row version: xmin, ctid and cached_at stay,
-- the table's updated-tuple counter does not move); after an API key is reassigned only the
-- days where that key has usage are written. The days a key has usage on come from plain SQL
-- over raw_data. Uses schema litemaas_ref (the generator) left by 44_rebuild_fidelity.
TRUNCATE daily_usage_cache;
CREATE SCHEMA ru;
CREATE TABLE ru.users AS SELECT * FROM litemaas_ref.gen_users(8);
CREATE TABLE ru.api_keys AS SELECT * FROM litemaas_ref.gen_api_keys(8);
SET ducache.users_table = 'ru.users';
SET ducache.api_keys_table = 'ru.api_keys';
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics)
SELECT g.* FROM generate_series(0, 9) AS d, LATERAL litemaas_ref.gen_day(8, d, date '2025-03-01') AS g;
-- The key reassigned below is used on most generated days: take it out of the first six.
UPDATE daily_usage_cache
SET raw_data = jsonb_set(raw_data, '{breakdown,models}',
        (SELECT jsonb_object_agg(m.key, jsonb_set(m.value, '{api_keys}', (m.value->'api_keys') - md5('key:2:u2-laptop')))
         FROM jsonb_each(raw_data->'breakdown'->'models') AS m))
WHERE date BETWEEN '2025-03-01' AND '2025-03-06';
SELECT action, count(*) FROM ducache_rebuild('2025-03-01', '2025-03-10') GROUP BY 1 ORDER BY 1;

CREATE TABLE ru.before AS SELECT date, xmin::text::bigint AS old_xmin, ctid AS old_ctid, cached_at FROM daily_usage_cache;
-- The backend's not yet reported count of updated tuples: it may hold earlier statements'
-- updates, but is not reported (reset) inside a transaction block, so its difference across a
-- call in one block is what that call updated.
CREATE FUNCTION ru.updated_so_far() RETURNS bigint LANGUAGE sql AS
    $$ SELECT pg_stat_get_xact_tuples_updated('daily_usage_cache'::regclass) $$;
CREATE FUNCTION ru.rewritten() RETURNS TABLE (date date) LANGUAGE sql AS $$
    SELECT c.date FROM daily_usage_cache AS c JOIN ru.before AS b USING (date)
    WHERE c.xmin::text::bigint <> b.old_xmin OR c.ctid <> b.old_ctid OR c.cached_at <> b.cached_at ORDER BY 1 $$;

-- Nothing changed: every day 'unchanged', no row version, no counter movement.
BEGIN;
SELECT ru.updated_so_far() AS n0 \gset
SELECT date, action FROM ducache_rebuild('2025-03-01', '2025-03-10');
SELECT ru.updated_so_far() - :n0 AS tuples_updated;
COMMIT;
SELECT count(*) AS rewritten_days FROM ru.rewritten();

-- One key reassigned to another user: exactly the days where that key hash has usage in
-- raw_data are 'updated' and rewritten; the others keep their row version.
UPDATE ru.api_keys SET user_id = litemaas_ref.user_id(5)::uuid WHERE key_hash = md5('key:2:u2-laptop');
CREATE TABLE ru.want AS
SELECT DISTINCT c.date FROM daily_usage_cache AS c, jsonb_each(c.raw_data->'breakdown'->'models') AS m
WHERE m.value->'api_keys' ? md5('key:2:u2-laptop');
SELECT count(*) AS days_with_key, (SELECT count(*) FROM daily_usage_cache) AS days FROM ru.want;
BEGIN;
SELECT ru.updated_so_far() AS n0 \gset
CREATE TEMP TABLE got ON COMMIT DROP AS SELECT date, action FROM ducache_rebuild('2025-03-01', '2025-03-10');
SELECT ru.updated_so_far() - :n0 = (SELECT count(*) FROM ru.want) AS one_version_per_updated_day;
SELECT (SELECT array_agg(date ORDER BY date) FROM got WHERE action = 'updated')
       = (SELECT array_agg(date ORDER BY date) FROM ru.want) AS updated_days_are_the_key_days,
       (SELECT count(*) FROM got WHERE action = 'unchanged') AS unchanged_days;
COMMIT;
SELECT (SELECT array_agg(date) FROM ru.rewritten()) = (SELECT array_agg(date ORDER BY date) FROM ru.want) AS rewritten_days_are_the_key_days;
-- The key's usage moved to user 5, as alias u2-laptop.
SELECT count(*) AS user5_cells_of_the_key
FROM daily_usage_cache AS c, jsonb_each(c.aggregated_by_user->litemaas_ref.user_id(5)->'models') AS m
WHERE m.value->'api_keys' ? 'u2-laptop';

-- A renamed key: again only its days.
DROP TABLE ru.before;
CREATE TABLE ru.before AS SELECT date, xmin::text::bigint AS old_xmin, ctid AS old_ctid, cached_at FROM daily_usage_cache;
UPDATE ru.api_keys SET name = 'renamed again' WHERE key_hash = md5('key:4:u4-ci');
SELECT (SELECT array_agg(date ORDER BY date) FROM ducache_rebuild('2025-03-01', '2025-03-10') WHERE action = 'updated')
       = (SELECT array_agg(DISTINCT c.date ORDER BY c.date) FROM daily_usage_cache AS c, jsonb_each(c.raw_data->'breakdown'->'models') AS m
          WHERE m.value->'api_keys' ? md5('key:4:u4-ci')) AS updated_days_are_the_key_days;
SELECT (SELECT array_agg(date) FROM ru.rewritten())
       = (SELECT array_agg(DISTINCT c.date ORDER BY c.date) FROM daily_usage_cache AS c, jsonb_each(c.raw_data->'breakdown'->'models') AS m
          WHERE m.value->'api_keys' ? md5('key:4:u4-ci')) AS rewritten_days_are_the_key_days;

-- A stored document edited by someone else is rewritten (and only that day).
UPDATE daily_usage_cache SET total_metrics = '{}' WHERE date = '2025-03-04';
SELECT date, action FROM ducache_rebuild('2025-03-03', '2025-03-05');
-- Equal values stored with another numeric scale (0.50 vs 0.5) compare as different bytes:
-- the day is rewritten once (harmless), then 'unchanged'.
UPDATE daily_usage_cache SET total_metrics = jsonb_set(total_metrics, '{spend}', to_jsonb((total_metrics->>'spend')::numeric(30, 12)))
WHERE date = '2025-03-05';
SELECT date, action FROM ducache_rebuild('2025-03-05', '2025-03-05');
SELECT date, action FROM ducache_rebuild('2025-03-05', '2025-03-05');

RESET ducache.users_table;
RESET ducache.api_keys_table;
DROP SCHEMA ru CASCADE;
TRUNCATE daily_usage_cache;
