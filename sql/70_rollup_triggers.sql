-- CONTRACT §7: the change triggers log, for every statement that writes daily_usage_cache,
-- exactly the months it touched, whoever runs it: here a role that holds only table privileges
-- on daily_usage_cache (not the table's nor the extension's owner), in the default
-- session_replication_role and under 'replica' (where ordinary triggers do not fire).
-- The months a statement touched are computed by plain SQL over the rows: every row version
-- that appeared or disappeared (its date, xmin and ctid), old dates and new. TRUNCATE logs the
-- months that hold a rollup row (what a truncate makes stale); the test gives every month of
-- the truncated rows a rollup row first, so that too is the months of the rows it removed.
-- That role reads and writes neither ducache table (42501). Own rows: the cache is emptied
-- first and last; needs 00_setup and the extension.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
TRUNCATE daily_usage_cache;
DELETE FROM ducache_rollups;
DELETE FROM ducache_rollup_changes;
CREATE ROLE ducache_70_writer;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON daily_usage_cache TO ducache_70_writer;

-- Rows over three months of 2025 and the last days of 2024.
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model)
SELECT d, jsonb_build_object('u' || extract(day FROM d), jsonb_build_object('totalRequests', 1)), '{}'
FROM generate_series(date '2024-12-28', date '2025-03-20', interval '3 days') AS g, LATERAL (SELECT g::date AS d) AS x;

-- Before a statement: the row versions (as superuser), and an empty change log.
CREATE TEMP TABLE snap (date date, x xid, c tid);
CREATE FUNCTION pg_temp.before(OUT rows_before integer) LANGUAGE sql AS $$
    DELETE FROM snap;
    INSERT INTO snap SELECT date, xmin, ctid FROM daily_usage_cache;
    DELETE FROM ducache_rollup_changes;
    SELECT count(*)::integer FROM snap;
$$;
-- After it: the months of the row versions that appeared or disappeared, the months logged.
CREATE FUNCTION pg_temp.after(what text, OUT statement text, OUT touched date[], OUT logged_equals_touched boolean)
LANGUAGE sql AS $$
    WITH now_rows AS (SELECT date, xmin AS x, ctid AS c FROM daily_usage_cache),
    changed AS ((SELECT date, x::text, c FROM snap EXCEPT SELECT date, x::text, c FROM now_rows)
                UNION (SELECT date, x::text, c FROM now_rows EXCEPT SELECT date, x::text, c FROM snap)),
    t AS (SELECT DISTINCT date_trunc('month', date)::date AS month FROM changed),
    l AS (SELECT DISTINCT month FROM ducache_rollup_changes)
    SELECT what, (SELECT coalesce(array_agg(month ORDER BY month), '{}') FROM t),
           NOT EXISTS ((SELECT month FROM t EXCEPT SELECT month FROM l) UNION ALL (SELECT month FROM l EXCEPT SELECT month FROM t))
$$;
-- The same check holds for a TRUNCATE once every month of its rows has a rollup row.
CREATE FUNCTION pg_temp.rollup_rows_for_every_month(OUT rollup_rows integer) LANGUAGE sql AS $$
    DELETE FROM ducache_rollups;
    INSERT INTO ducache_rollups (month) SELECT DISTINCT date_trunc('month', date)::date FROM daily_usage_cache;
    SELECT count(*)::integer FROM ducache_rollups;
$$;
-- Ordinary triggers do not fire under 'replica': a trigger of the table owner's, to show it.
CREATE TABLE ordinary_fired (n int);
CREATE FUNCTION pg_temp.count_firing() RETURNS trigger LANGUAGE plpgsql AS
    $$ BEGIN INSERT INTO ordinary_fired VALUES (1); RETURN NULL; END $$;
CREATE TRIGGER ordinary_70 AFTER INSERT OR UPDATE OR DELETE ON daily_usage_cache
    FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.count_firing();
GRANT INSERT ON ordinary_fired TO ducache_70_writer;

-- 1. session_replication_role = origin (the default).
SHOW session_replication_role;
SELECT * FROM pg_temp.before();
SET ROLE ducache_70_writer;
INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES ('2025-04-02', '{}'), ('2025-04-03', '{}'), ('2023-07-01', '{}');
RESET ROLE;
SELECT * FROM pg_temp.after('insert');
SELECT * FROM pg_temp.before();
SET ROLE ducache_70_writer;
UPDATE daily_usage_cache SET aggregated_by_model = '{"m": {"totalRequests": 1}}' WHERE date BETWEEN '2025-01-20' AND '2025-02-03';
RESET ROLE;
SELECT * FROM pg_temp.after('update');
SELECT * FROM pg_temp.before();
SET ROLE ducache_70_writer;
-- A day moved to another month: both months are touched.
UPDATE daily_usage_cache SET date = '2025-06-15' WHERE date = '2024-12-31';
RESET ROLE;
SELECT * FROM pg_temp.after('update moving a day');
SELECT * FROM pg_temp.before();
SET ROLE ducache_70_writer;
UPDATE daily_usage_cache SET is_complete = false WHERE date = '1999-01-01';
RESET ROLE;
SELECT * FROM pg_temp.after('update of no row');
SELECT * FROM pg_temp.before();
SET ROLE ducache_70_writer;
DELETE FROM daily_usage_cache WHERE extract(day FROM date) IN (3, 6);
RESET ROLE;
SELECT * FROM pg_temp.after('delete');
SELECT * FROM pg_temp.before();
SET ROLE ducache_70_writer;
COPY daily_usage_cache (date, aggregated_by_user) FROM STDIN;
2025-08-01	{}
2025-08-31	{"u": {"totalRequests": 2}}
2022-02-22	{}
\.
RESET ROLE;
SELECT * FROM pg_temp.after('copy');
SELECT * FROM pg_temp.before();
SET ROLE ducache_70_writer;
-- One day updated (March), one inserted (October).
INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES ('2025-03-02', '{"v": {}}'), ('2025-10-10', '{}')
ON CONFLICT (date) DO UPDATE SET aggregated_by_user = excluded.aggregated_by_user;
RESET ROLE;
SELECT * FROM pg_temp.after('insert on conflict do update');
SELECT * FROM pg_temp.rollup_rows_for_every_month();
SELECT * FROM pg_temp.before();
SET ROLE ducache_70_writer;
TRUNCATE daily_usage_cache;
RESET ROLE;
SELECT * FROM pg_temp.after('truncate');
SELECT count(*) AS ordinary_trigger_fired FROM ordinary_fired;

-- 2. The same statements under session_replication_role = replica (set by a superuser; the
-- role keeps it): the ducache triggers fire (ENABLE ALWAYS), the ordinary one does not.
DELETE FROM ducache_rollups;
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model)
SELECT d, jsonb_build_object('u' || extract(day FROM d), jsonb_build_object('totalRequests', 1)), '{}'
FROM generate_series(date '2024-12-28', date '2025-03-20', interval '3 days') AS g, LATERAL (SELECT g::date AS d) AS x;
DELETE FROM ordinary_fired;
SET session_replication_role = replica;
SELECT * FROM pg_temp.before();
SET ROLE ducache_70_writer;
SHOW session_replication_role;
INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES ('2025-04-02', '{}'), ('2025-04-03', '{}'), ('2023-07-01', '{}');
RESET ROLE;
SELECT * FROM pg_temp.after('insert');
SELECT * FROM pg_temp.before();
SET ROLE ducache_70_writer;
UPDATE daily_usage_cache SET aggregated_by_model = '{"m": {"totalRequests": 1}}' WHERE date BETWEEN '2025-01-20' AND '2025-02-03';
RESET ROLE;
SELECT * FROM pg_temp.after('update');
SELECT * FROM pg_temp.before();
SET ROLE ducache_70_writer;
UPDATE daily_usage_cache SET date = '2025-06-15' WHERE date = '2024-12-31';
RESET ROLE;
SELECT * FROM pg_temp.after('update moving a day');
SELECT * FROM pg_temp.before();
SET ROLE ducache_70_writer;
UPDATE daily_usage_cache SET is_complete = false WHERE date = '1999-01-01';
RESET ROLE;
SELECT * FROM pg_temp.after('update of no row');
SELECT * FROM pg_temp.before();
SET ROLE ducache_70_writer;
DELETE FROM daily_usage_cache WHERE extract(day FROM date) IN (3, 6);
RESET ROLE;
SELECT * FROM pg_temp.after('delete');
SELECT * FROM pg_temp.before();
SET ROLE ducache_70_writer;
COPY daily_usage_cache (date, aggregated_by_user) FROM STDIN;
2025-08-01	{}
2025-08-31	{"u": {"totalRequests": 2}}
2022-02-22	{}
\.
RESET ROLE;
SELECT * FROM pg_temp.after('copy');
SELECT * FROM pg_temp.before();
SET ROLE ducache_70_writer;
INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES ('2025-03-02', '{"v": {}}'), ('2025-10-10', '{}')
ON CONFLICT (date) DO UPDATE SET aggregated_by_user = excluded.aggregated_by_user;
RESET ROLE;
SELECT * FROM pg_temp.after('insert on conflict do update');
SELECT * FROM pg_temp.rollup_rows_for_every_month();
SELECT * FROM pg_temp.before();
SET ROLE ducache_70_writer;
TRUNCATE daily_usage_cache;
RESET ROLE;
SELECT * FROM pg_temp.after('truncate');
SELECT count(*) AS ordinary_trigger_fired FROM ordinary_fired;
RESET session_replication_role;

-- The check can fail: a statement whose trigger is disabled logs nothing.
INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES ('2025-05-05', '{}');
SELECT * FROM pg_temp.before();
ALTER TABLE daily_usage_cache DISABLE TRIGGER ducache_rollups_delete;
DELETE FROM daily_usage_cache WHERE date = '2025-05-05';
ALTER TABLE daily_usage_cache ENABLE ALWAYS TRIGGER ducache_rollups_delete;
SELECT * FROM pg_temp.after('delete, trigger disabled');

-- The writer reads and writes neither ducache table, nor calls the trigger function.
SET ROLE ducache_70_writer;
SELECT ducache_test.error_of('SELECT * FROM ducache_rollups') AS read_rollups;
SELECT ducache_test.error_of('SELECT * FROM ducache_rollup_changes') AS read_changes;
SELECT ducache_test.error_of($$INSERT INTO ducache_rollups (month) VALUES ('2025-01-01')$$) AS write_rollups;
SELECT ducache_test.error_of('UPDATE ducache_rollups SET built = true') AS update_rollups;
SELECT ducache_test.error_of($$INSERT INTO ducache_rollup_changes (month) VALUES ('2025-01-01')$$) AS write_changes;
SELECT ducache_test.error_of('DELETE FROM ducache_rollup_changes') AS delete_changes;
SELECT ducache_test.error_of('TRUNCATE ducache_rollups') AS truncate_rollups;
SELECT ducache_test.error_of('TRUNCATE ducache_rollup_changes') AS truncate_changes;
SELECT ducache_test.error_of('SELECT ducache_rollups_log_changes()') AS call_trigger_function;
RESET ROLE;

-- Own rows: leave the cache and the ducache tables empty.
DROP TRIGGER ordinary_70 ON daily_usage_cache;
DROP TABLE ordinary_fired;
TRUNCATE daily_usage_cache;
DELETE FROM ducache_rollups;
DELETE FROM ducache_rollup_changes;
DROP OWNED BY ducache_70_writer;
DROP ROLE ducache_70_writer;
