-- ducache_batch_upsert and days that change nothing (CONTRACT §9): an identical re-send is
-- reported 'unchanged' and writes no row version; one changed field makes 'updated';
-- touch_unchanged bumps only the timestamp; all or nothing still holds. The references are
-- PostgreSQL's own: xmin/ctid of the rows, pg_stat_user_tables counters, a saved copy of the rows.
TRUNCATE daily_usage_cache;

-- The table's write counters, flushed by the statement before (pg_stat_force_next_flush).
CREATE FUNCTION pg_temp.writes() RETURNS TABLE (ins bigint, upd bigint, hot bigint) LANGUAGE sql AS $$
    SELECT n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = 'daily_usage_cache'::regclass
$$;
-- A big aggregated_by_user (stored out of line, TOASTed) and its twin with one digit changed
-- (same size: only the byte comparison can tell them apart).
CREATE TEMP TABLE docs AS
SELECT jsonb_object_agg('user-' || i, jsonb_build_object('totalRequests', i, 'totalCost', i * 0.25)) AS big,
       jsonb_object_agg('user-' || i, jsonb_build_object('totalRequests', CASE WHEN i = 777 THEN 778 ELSE i END,
                                                          'totalCost', i * 0.25)) AS big_twin
FROM generate_series(1, 4000) AS i;
SELECT octet_length(big::text) = octet_length(big_twin::text) AS twin_same_length FROM docs;

-- The days as sent (input order is not date order).
CREATE TEMP TABLE sent AS
SELECT * FROM (VALUES
    ('2025-03-02'::date, '{"day": 2, "b": [1, 2], "a": "x"}'::jsonb, (SELECT big FROM docs), '{"m": {"totalRequests": 2}}'::jsonb, '{"p": {}}'::jsonb, '{"api_requests": 2}'::jsonb, NULL::boolean),
    ('2025-03-01', '{"day": 1}', '{"u": {"totalRequests": 1}}', '{}', '{}', NULL, false),
    ('2025-03-03', '{"day": 3}', NULL, NULL, NULL, '{"spend": 1.50}', true)
) AS v(d, r, au, am, ap, tm, c);
CREATE FUNCTION pg_temp.send(touch boolean DEFAULT false) RETURNS SETOF record LANGUAGE sql AS $$
    SELECT * FROM ducache_batch_upsert((SELECT array_agg(d) FROM sent), (SELECT array_agg(r) FROM sent),
        (SELECT array_agg(au) FROM sent), (SELECT array_agg(am) FROM sent), (SELECT array_agg(ap) FROM sent),
        (SELECT array_agg(tm) FROM sent), (SELECT array_agg(c) FROM sent), touch)
$$;
SELECT * FROM pg_temp.send() AS s(date date, action text);
SELECT pg_relation_size(reltoastrelid) > 0 AS big_day_stored_out_of_line FROM pg_class WHERE oid = 'daily_usage_cache'::regclass;
-- A fixed old timestamp, so that a bump is visible whatever the clock.
UPDATE daily_usage_cache SET cached_at = '2001-01-01 00:00+00';
CREATE TEMP TABLE before AS SELECT xmin::text AS xmin_before, ctid AS ctid_before, t.* FROM daily_usage_cache AS t;
SELECT pg_stat_force_next_flush();
CREATE TEMP TABLE stats_before AS SELECT * FROM pg_temp.writes();

-- 1. The identical re-send (the JSON written in another key order and spacing: JSONB is the
-- same): every day 'unchanged', no new row version (xmin and ctid kept), no insert or update
-- counted by PostgreSQL, the timestamp kept.
UPDATE sent SET r = '{"a": "x", "day": 2,   "b": [1,2]}' WHERE d = '2025-03-02';
SELECT * FROM pg_temp.send() AS s(date date, action text);
SELECT pg_stat_force_next_flush();
SELECT w.ins - b.ins AS inserts, w.upd - b.upd AS updates FROM pg_temp.writes() AS w, stats_before AS b;
SELECT t.date, t.xmin::text = b.xmin_before AS same_xmin, t.ctid = b.ctid_before AS same_ctid,
       t.cached_at = b.cached_at AS same_timestamp
FROM daily_usage_cache AS t JOIN before AS b USING (date) ORDER BY date;

-- 2. One changed field per day, each of another kind: the big document with one digit changed
-- (same size), is_complete, a NULL where an object was. Changed days are 'updated' and hold
-- the new values; the others stay 'unchanged'; a new day is 'inserted'.
UPDATE sent SET au = (SELECT big_twin FROM docs) WHERE d = '2025-03-02';
UPDATE sent SET c = true WHERE d = '2025-03-01';
INSERT INTO sent VALUES ('2025-03-04', '{"day": 4}', NULL, NULL, NULL, NULL, NULL);
SELECT * FROM pg_temp.send() AS s(date date, action text);
SELECT t.date, t.xmin::text = b.xmin_before AS same_xmin,
       (t.raw_data, t.aggregated_by_user, t.aggregated_by_model, t.aggregated_by_provider, t.total_metrics, t.is_complete)
           IS NOT DISTINCT FROM (s.r, s.au, s.am, s.ap, s.tm, COALESCE(s.c, true)) AS holds_sent_values
FROM daily_usage_cache AS t JOIN sent AS s ON s.d = t.date LEFT JOIN before AS b USING (date) ORDER BY date;
UPDATE sent SET tm = NULL WHERE d = '2025-03-02';
UPDATE sent SET am = '{}' WHERE d = '2025-03-03';
SELECT * FROM pg_temp.send() AS s(date date, action text);
SELECT date, total_metrics IS NULL AS totals_null, aggregated_by_model FROM daily_usage_cache
WHERE date IN ('2025-03-02', '2025-03-03') ORDER BY date;
-- "Exactly the given values": 1.50 and 1.5 are equal numbers but not the same value as sent,
-- so the day is written and then holds the text that was sent.
UPDATE sent SET tm = '{"spend": 1.5}' WHERE d = '2025-03-03';
SELECT * FROM pg_temp.send() AS s(date date, action text) WHERE date = '2025-03-03';
SELECT total_metrics::text FROM daily_usage_cache WHERE date = '2025-03-03';

-- 3. touch_unchanged => true: only the timestamp moves (a new row version, not a HOT update:
-- the timestamp is in idx_daily_usage_cache_date_cached_at); every other column is the same.
UPDATE daily_usage_cache SET cached_at = '2001-01-01 00:00+00';
DROP TABLE before;
CREATE TEMP TABLE before AS SELECT xmin::text AS xmin_before, t.* FROM daily_usage_cache AS t;
SELECT pg_stat_force_next_flush();
DELETE FROM stats_before;
INSERT INTO stats_before SELECT * FROM pg_temp.writes();
UPDATE sent SET r = '{"day": 4, "touched": false}' WHERE d = '2025-03-04';
BEGIN;
SELECT * FROM pg_temp.send(touch => true) AS s(date date, action text);
SELECT date, cached_at = now() AS stamped_now FROM daily_usage_cache ORDER BY date;
COMMIT;
SELECT pg_stat_force_next_flush();
SELECT w.ins - b.ins AS inserts, w.upd - b.upd AS updates, w.hot - b.hot AS hot_updates
FROM pg_temp.writes() AS w, stats_before AS b;
SELECT t.date, t.xmin::text = b.xmin_before AS same_xmin, t.cached_at > b.cached_at AS timestamp_bumped,
       t.raw_data::text = b.raw_data::text AND t.is_complete = b.is_complete
       AND (t.aggregated_by_user, t.aggregated_by_model, t.aggregated_by_provider, t.total_metrics)::text
           = (b.aggregated_by_user, b.aggregated_by_model, b.aggregated_by_provider, b.total_metrics)::text AS other_columns_same
FROM daily_usage_cache AS t JOIN before AS b USING (date) ORDER BY date;

-- 4. All or nothing, also after the comparison and the touch: a batch with unchanged days
-- (touched), a changed day and a day the table refuses (a trigger) writes nothing.
CREATE FUNCTION pg_temp.refuse_forbidden() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.raw_data ? 'forbidden' THEN RAISE EXCEPTION 'day % refused', NEW.date USING ERRCODE = '23514'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_forbidden BEFORE INSERT OR UPDATE ON daily_usage_cache
    FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_forbidden();
CREATE TEMP TABLE snapshot AS SELECT xmin::text AS x, t::text AS row_text FROM daily_usage_cache AS t;
UPDATE sent SET r = '{"day": 1, "v": 2}' WHERE d = '2025-03-01';
INSERT INTO sent VALUES ('2025-03-05', '{"forbidden": true}', NULL, NULL, NULL, NULL, NULL);
SELECT ducache_test.error_of($$SELECT * FROM pg_temp.send(touch => true) AS s(date date, action text)$$) AS mixed_batch;
SELECT (SELECT count(*) FROM daily_usage_cache) AS rows,
       (SELECT count(*) FROM daily_usage_cache AS t JOIN snapshot AS s ON s.x = t.xmin::text AND s.row_text = t::text) AS rows_as_before;
DROP TRIGGER refuse_forbidden ON daily_usage_cache;
DELETE FROM sent WHERE d = '2025-03-05';
UPDATE sent SET r = '{"day": 1}' WHERE d = '2025-03-01';

-- 5. Called through the 0.1.0 declaration (7 arguments, no touch_unchanged), the library
-- keeps 0.1.0's promise: every day is written and its timestamp bumped, 'updated'.
-- (Declared beside the extension's functions: the library finds the table through its schema.)
SELECT extnamespace::regnamespace AS ducache_schema FROM pg_extension WHERE extname = 'ducache';
CREATE FUNCTION public.upsert_010(dates date[], raw_data jsonb[], aggregated_by_user jsonb[], aggregated_by_model jsonb[],
    aggregated_by_provider jsonb[], total_metrics jsonb[] DEFAULT NULL, is_complete boolean[] DEFAULT NULL)
RETURNS TABLE (date date, action text) AS 'ducache', 'ducache_batch_upsert' LANGUAGE C VOLATILE;
DROP TABLE before;
CREATE TEMP TABLE before AS SELECT xmin::text AS xmin_before, t.* FROM daily_usage_cache AS t;
SELECT * FROM public.upsert_010((SELECT array_agg(d) FROM sent), (SELECT array_agg(r) FROM sent),
    (SELECT array_agg(au) FROM sent), (SELECT array_agg(am) FROM sent), (SELECT array_agg(ap) FROM sent),
    (SELECT array_agg(tm) FROM sent), (SELECT array_agg(c) FROM sent));
SELECT t.date, t.xmin::text = b.xmin_before AS same_xmin, t.raw_data = b.raw_data AS same_raw
FROM daily_usage_cache AS t JOIN before AS b USING (date) ORDER BY date;
-- The same batch through the 0.2.0 declaration: nothing to write.
SELECT * FROM pg_temp.send() AS s(date date, action text);

DROP FUNCTION public.upsert_010;
TRUNCATE daily_usage_cache;
