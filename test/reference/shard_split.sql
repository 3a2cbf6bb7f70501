-- The split of one node's days over n user-hash shards, in plain SQL (no ducache code):
-- the statement of docs/scale-out.md "How a day is split". Tests load shards with it from a
-- single node's rows; the coordinator's writer (ducache_batch_upsert) is compared with it.
--
--   shard_split.shard_of(user_id, n)        the shard of a user
--   shard_split.split_day(n, date, raw_data, by_user, by_model, by_provider, total, ts, complete)
--        -> one row per shard k = 0..n-1: what shard k stores for that day
--
-- Usage: SELECT s.* FROM daily_usage_cache d,
--          LATERAL shard_split.split_day(2, d.date, d.raw_data, d.aggregated_by_user,
--              d.aggregated_by_model, d.aggregated_by_provider, d.total_metrics, d.cached_at,
--              d.is_complete) s WHERE s.shard = 1;
CREATE SCHEMA IF NOT EXISTS shard_split;

CREATE OR REPLACE FUNCTION shard_split.shard_of(user_id text, n int) RETURNS int
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT ((hashtext(user_id)::bigint & 4294967295) % n)::int
$$;

-- Per-field sums of a set of metrics objects (numbers or number strings; null counts 0).
CREATE OR REPLACE FUNCTION shard_split.sum_metrics(objs jsonb[]) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_object_agg(f, s), '{}'::jsonb)
  FROM (SELECT e.key AS f, to_jsonb(sum(CASE WHEN jsonb_typeof(e.value) IN ('number', 'string')
                                             THEN (e.value #>> '{}')::numeric END)) AS s
        FROM unnest(objs) AS o(obj), jsonb_each(CASE WHEN jsonb_typeof(o.obj) = 'object' THEN o.obj
                                                      ELSE '{}'::jsonb END) AS e
        GROUP BY e.key) AS t
$$;

-- Is the day split by its cells (docs/scale-out.md, conditions 1-3)?
CREATE OR REPLACE FUNCTION shard_split.is_cell_split(by_user jsonb, by_model jsonb, by_provider jsonb)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT by_user IS NOT NULL AND jsonb_typeof(by_user) = 'object'
     AND NOT EXISTS (SELECT 1 FROM jsonb_each(by_user) u
                     WHERE jsonb_typeof(u.value) <> 'object'
                        OR jsonb_typeof(u.value -> 'models') IS DISTINCT FROM 'object'
                        OR EXISTS (SELECT 1 FROM jsonb_each(u.value -> 'models') m
                                   WHERE jsonb_typeof(m.value) <> 'object'))
     AND (by_provider IS NULL OR by_provider = '{}'::jsonb)
     AND (by_model IS NULL
          OR (jsonb_typeof(by_model) = 'object'
              AND NOT EXISTS (SELECT 1 FROM jsonb_each(by_model) m WHERE jsonb_typeof(m.value) <> 'object')
              AND ARRAY(SELECT k FROM jsonb_object_keys(by_model) k ORDER BY k COLLATE "C")
                  = ARRAY(SELECT DISTINCT m.key COLLATE "C" FROM jsonb_each(by_user) u, jsonb_each(u.value -> 'models') m
                          ORDER BY 1)))
$$;

CREATE OR REPLACE FUNCTION shard_split.split_day(n int, day date, raw_data jsonb, by_user jsonb, by_model jsonb,
                                                 by_provider jsonb, total jsonb, ts timestamptz, complete boolean)
RETURNS TABLE (shard int, date date, raw_data jsonb, aggregated_by_user jsonb, aggregated_by_model jsonb,
               aggregated_by_provider jsonb, total_metrics jsonb, cached_at timestamptz, is_complete boolean)
LANGUAGE sql IMMUTABLE AS $$
  WITH k AS (SELECT g AS shard FROM generate_series(0, n - 1) g),
  cells AS (SELECT shard_split.is_cell_split(by_user, by_model, by_provider) AS split),
  users AS (SELECT u.key, u.value, shard_split.shard_of(u.key, n) AS shard
            FROM jsonb_each(CASE WHEN jsonb_typeof(by_user) = 'object' THEN by_user ELSE '{}'::jsonb END) u)
  SELECT k.shard, day,
         CASE WHEN k.shard = 0 THEN raw_data ELSE '{}'::jsonb END,
         CASE WHEN by_user IS NULL THEN NULL
              ELSE (SELECT coalesce(jsonb_object_agg(u.key, u.value), '{}'::jsonb) FROM users u WHERE u.shard = k.shard) END,
         CASE WHEN by_model IS NULL THEN NULL
              WHEN NOT cells.split THEN CASE WHEN k.shard = 0 THEN by_model ELSE '{}'::jsonb END
              ELSE (SELECT coalesce(jsonb_object_agg(mm.model,
                         (by_model -> mm.model) || jsonb_build_object('metrics', mm.metrics)
                         || CASE WHEN jsonb_typeof(by_model -> mm.model -> 'users') = 'object'
                                 THEN jsonb_build_object('users', (
                                     SELECT coalesce(jsonb_object_agg(x.key, x.value), '{}'::jsonb)
                                     FROM jsonb_each(by_model -> mm.model -> 'users') x
                                     WHERE shard_split.shard_of(x.key, n) = k.shard))
                                 ELSE '{}'::jsonb END), '{}'::jsonb)
                    FROM (SELECT m.key AS model, shard_split.sum_metrics(array_agg(m.value -> 'metrics')) AS metrics
                          FROM users u, jsonb_each(u.value -> 'models') m
                          WHERE u.shard = k.shard GROUP BY m.key) mm) END,
         CASE WHEN by_provider IS NULL THEN NULL
              WHEN cells.split OR k.shard = 0 THEN by_provider
              ELSE '{}'::jsonb END,
         CASE WHEN total IS NULL THEN NULL
              WHEN NOT cells.split THEN CASE WHEN k.shard = 0 THEN total END
              ELSE (SELECT shard_split.sum_metrics(coalesce(array_agg(u.value -> 'metrics'), '{}'))
                    FROM users u WHERE u.shard = k.shard) END,
         ts, complete
  FROM k, cells
  ORDER BY k.shard
$$;
