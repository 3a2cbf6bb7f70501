-- The TOAST read in heap order (pg/toast_read.hpp, round 17 of issue 13): a day's jsonb value
-- stored out of line is read chunk after chunk from the TOAST heap, the TOAST index finding only
-- the first chunk and any chunk that does not follow the one before it. The bytes must be
-- PostgreSQL's own detoasting's for every way a value is stored (lz4, pglz, out of line without
-- compression, inline), also for values whose chunks lie apart (written into the holes deleted
-- values left); the user breakdown (serial and with workers) and ducache_merge over such days
-- must equal plain SQL's sums. Needs a DUCACHE_TEST_HOOKS build.
CREATE FUNCTION ducache_test_toast_chunks() RETURNS bigint[]
    AS 'ducache', 'ducache_test_toast_chunks' LANGUAGE C;
CREATE FUNCTION ducache_test_toast_same(jsonb) RETURNS boolean
    AS 'ducache', 'ducache_test_toast_same' LANGUAGE C STRICT;
CREATE FUNCTION ducache_test_toast_take(regclass, oid, integer, integer, oid, integer, integer) RETURNS boolean
    AS 'ducache', 'ducache_test_toast_take' LANGUAGE C STRICT;
CREATE FUNCTION ducache_test_parallel_worker_days() RETURNS integer
    AS '$libdir/ducache', 'ducache_test_parallel_worker_days' LANGUAGE C;
SET ducache.users_table = '';
SET ducache.use_rollups = off;

-- A day of n users from a seed (md5 in the keys and varied numbers: lz4 leaves ~40 % of it).
CREATE FUNCTION pg_temp.day_doc(seed int, n int) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_object_agg('u' || u || '-' || substr(md5(u::text), 1, 8),
                                     jsonb_build_object('totalRequests', (seed * 7 + u) % 1000,
                                                        'totalTokens', (seed * 31 + u * 17) % 100000,
                                                        'promptTokens', (seed + u) % 5000,
                                                        'completionTokens', (seed * u) % 3000,
                                                        'totalCost', round(((seed * 7919 + u * 104729) % 1000000)::numeric
                                                                           / 1000000, 6))), '{}')
    FROM generate_series(1, n) AS u $$;

-- A table's TOAST relation: its values and chunks.
CREATE FUNCTION pg_temp.toasted(t regclass) RETURNS TABLE (toast_values bigint, chunks bigint) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT count(DISTINCT chunk_id), count(*) FROM %s',
                                (SELECT reltoastrelid::regclass FROM pg_class WHERE oid = t));
END $$;

-- Every way a value is stored, in fresh tables (each value's chunks one after another): the
-- index finds each out-of-line value's first chunk only.
CREATE TEMP TABLE t_lz4 (id int, doc jsonb COMPRESSION lz4);
CREATE TEMP TABLE t_pglz (id int, doc jsonb COMPRESSION pglz);
CREATE TEMP TABLE t_plain (id int, doc jsonb);
ALTER TABLE t_plain ALTER COLUMN doc SET STORAGE EXTERNAL;
INSERT INTO t_lz4 SELECT i, pg_temp.day_doc(i, n) FROM (VALUES (1, 0), (2, 3), (3, 40), (4, 400), (5, 3000), (6, 9000)) AS v(i, n);
INSERT INTO t_pglz SELECT * FROM t_lz4;
INSERT INTO t_plain SELECT * FROM t_lz4;
-- Each: rows, bytes equal, and the chunks read: one found by the index per out-of-line value,
-- the rest each after the one before it.
CREATE FUNCTION pg_temp.stored_check(t regclass)
RETURNS TABLE (rows bigint, same boolean, each_value_located_once boolean, some_out_of_line boolean)
LANGUAGE plpgsql AS $$
DECLARE c bigint[];
BEGIN
    PERFORM ducache_test_toast_chunks();
    EXECUTE format('SELECT count(*), bool_and(ducache_test_toast_same(doc)) FROM %s', t) INTO rows, same;
    c := ducache_test_toast_chunks();
    SELECT c = ARRAY[x.chunks - x.toast_values, x.toast_values], x.toast_values > 0
    INTO each_value_located_once, some_out_of_line FROM pg_temp.toasted(t) AS x;
    RETURN NEXT;
END $$;
SELECT * FROM pg_temp.stored_check('t_lz4');
SELECT * FROM pg_temp.stored_check('t_pglz');
SELECT * FROM pg_temp.stored_check('t_plain');

-- Each test a line pointer's chunk must pass, one at a time (ducache_test_toast_take: a chunk
-- tuple made in memory, taken or not as chunk n of value 100 of 5,000 stored bytes: chunks of
-- 1,996, 1,996 and 1,008 bytes). No layout the tables above can make puts a chunk of the same
-- value with another number, or of another size, right after one of its chunks (corruption):
-- these are the tests for it.
SELECT ducache_test_toast_take('t_lz4', 100, 1, 1996, 100, 1, 5000) AS right_chunk,
       ducache_test_toast_take('t_lz4', 101, 1, 1996, 100, 1, 5000) AS other_value,
       ducache_test_toast_take('t_lz4', 100, 0, 1996, 100, 1, 5000) AS earlier_number,
       ducache_test_toast_take('t_lz4', 100, 2, 1996, 100, 1, 5000) AS later_number,
       ducache_test_toast_take('t_lz4', 100, 1, 1008, 100, 1, 5000) AS short_chunk,
       ducache_test_toast_take('t_lz4', 100, 2, 1008, 100, 2, 5000) AS right_last_chunk,
       ducache_test_toast_take('t_lz4', 100, 2, 1996, 100, 2, 5000) AS long_last_chunk,
       ducache_test_toast_take('t_lz4', 100, 2, 1007, 100, 2, 5000) AS short_last_chunk;

-- Values written into holes: every other value deleted and vacuumed away, then larger ones
-- written, whose chunks fill the freed line pointers and pages between other values' chunks.
CREATE TEMP TABLE t_holes (id int, doc jsonb COMPRESSION lz4);
INSERT INTO t_holes SELECT i, pg_temp.day_doc(i, 200 + i % 7 * 60) FROM generate_series(1, 60) AS i;
DELETE FROM t_holes WHERE id % 2 = 0;
VACUUM t_holes;
INSERT INTO t_holes SELECT 100 + i, pg_temp.day_doc(100 + i, 2500) FROM generate_series(1, 8) AS i;
SELECT ducache_test_toast_chunks() IS NOT NULL AS counts_reset;
SELECT count(*) AS rows, bool_and(ducache_test_toast_same(doc)) AS same FROM t_holes;
-- More chunks found by the index than values: chunks that did not follow the one before them.
SELECT c[1] + c[2] = t.chunks AS every_chunk_read, c[2] > t.toast_values AS some_found_apart, c[1] > 0 AS some_in_order
FROM (SELECT ducache_test_toast_chunks() AS c) AS x, pg_temp.toasted('t_holes') AS t;

-- The trap the value id's test is for: a value whose chunks 0-3 fill a page freed between two
-- pages of another value, so the line pointer after its chunk 3 is the other value's chunk 4,
-- of a full chunk's size (values stored uncompressed: their chunk counts are their sizes').
CREATE TEMP TABLE t_trap (id int, doc jsonb);
ALTER TABLE t_trap ALTER COLUMN doc SET STORAGE EXTERNAL;
INSERT INTO t_trap VALUES (1, jsonb_build_object('a', repeat('a', 7000))), (2, jsonb_build_object('b', repeat('b', 7000))),
                          (3, jsonb_build_object('c', repeat('c', 7000)));  -- 4 chunks each: a page each
DELETE FROM t_trap WHERE id IN (1, 3);
VACUUM t_trap;
INSERT INTO t_trap VALUES (4, jsonb_build_object('x', repeat('x', 15000)));  -- 8 chunks: pages 0 and 2
DELETE FROM t_trap WHERE id = 2;
VACUUM t_trap;
INSERT INTO t_trap VALUES (5, jsonb_build_object('v', repeat('v', 11000)));  -- 6 chunks: page 1, then 3
-- The TOAST heap in order: page:value/chunk (values numbered by their ids).
CREATE FUNCTION pg_temp.trap_layout() RETURNS TABLE (block int, line int, chunk_seq int, value_no bigint) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format('SELECT (ctid::text::point)[0]::int, (ctid::text::point)[1]::int, chunk_seq,
                                        dense_rank() OVER (ORDER BY chunk_id) FROM %s',
                                (SELECT reltoastrelid::regclass FROM pg_class WHERE oid = 't_trap'::regclass));
END $$;
SELECT string_agg(format('%s:%s/%s', block, value_no, chunk_seq), ' ' ORDER BY block, line) AS pages_values_chunks
FROM pg_temp.trap_layout();
SELECT ducache_test_toast_chunks() IS NOT NULL AS counts_reset;
SELECT id, ducache_test_toast_same(doc) AS same FROM t_trap ORDER BY id;
SELECT ducache_test_toast_chunks() AS in_order_and_located;

-- Days written the same way into daily_usage_cache: the breakdown, serial and with workers, and
-- the merge against plain SQL.
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider)
SELECT date '2034-01-01' + d, pg_temp.day_doc(d, 1200 + d * 10), '{}', '{}' FROM generate_series(0, 29) AS d;
DELETE FROM daily_usage_cache WHERE date BETWEEN '2034-01-01' AND '2034-01-30' AND (date - date '2034-01-01') % 2 = 0;
VACUUM daily_usage_cache;
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider)
SELECT date '2034-01-01' + d, pg_temp.day_doc(d + 1000, 3000), '{}', '{}' FROM generate_series(0, 29, 2) AS d;
ANALYZE daily_usage_cache;  -- the planner then gives the chunks' scans to the workers

CREATE TEMP TABLE holes_ref AS
SELECT k AS user_id, sum((v->>'totalRequests')::numeric) AS total_requests, sum((v->>'totalTokens')::numeric) AS total_tokens,
       sum((v->>'promptTokens')::numeric) AS prompt_tokens, sum((v->>'completionTokens')::numeric) AS completion_tokens,
       sum((v->>'totalCost')::numeric) AS total_cost, count(*) AS active_days, max(date) AS last_active
FROM daily_usage_cache, jsonb_each(aggregated_by_user) AS e(k, v)
WHERE date BETWEEN '2034-01-01' AND '2034-01-30'
GROUP BY k;

-- The breakdown against it; then the days parallel workers read (-1: the serial path ran). The
-- call's rows go into a table first (as sql/78_parallel_breakdown: a plan inside another query's
-- row-by-row reading gets no workers).
CREATE FUNCTION pg_temp.holes_check() RETURNS TABLE (users bigint, missing bigint, differ bigint, worker_days int)
LANGUAGE plpgsql AS $$
BEGIN
    CREATE TEMP TABLE got AS SELECT * FROM ducache_user_breakdown('2034-01-01', '2034-01-30');
    worker_days := ducache_test_parallel_worker_days();
    SELECT count(*),
           count(*) FILTER (WHERE d.user_id IS NULL OR r.user_id IS NULL),
           count(*) FILTER (WHERE (d.total_requests, d.total_tokens, d.prompt_tokens, d.completion_tokens,
                                   d.total_cost::text, d.active_days, d.last_active)
                                  IS DISTINCT FROM
                                  (r.total_requests, r.total_tokens, r.prompt_tokens, r.completion_tokens,
                                   r.total_cost::text, r.active_days, r.last_active))
    INTO users, missing, differ
    FROM got AS d FULL JOIN holes_ref AS r USING (user_id);
    DROP TABLE got;
    RETURN NEXT;
END $$;

SELECT ducache_test_toast_chunks() IS NOT NULL AS counts_reset;
SELECT users, missing, differ, worker_days FROM pg_temp.holes_check();
SELECT c[2] > 30 AS some_found_apart, c[1] > 0 AS some_in_order FROM (SELECT ducache_test_toast_chunks() AS c) AS x;
SELECT * FROM ducache_test.merge_check('2034-01-01', '2034-01-30', 'holes_ref');
-- With workers forced, the workers read the days through the same path.
SELECT ducache_test.force_workers(true);
SELECT users, missing, differ, worker_days > 0 AS workers_read_days FROM pg_temp.holes_check();
SELECT ducache_test.force_workers(false);
RESET ducache.use_rollups;
RESET ducache.users_table;
DELETE FROM daily_usage_cache WHERE date BETWEEN '2034-01-01' AND '2034-01-30';
DROP FUNCTION ducache_test_parallel_worker_days();
DROP FUNCTION ducache_test_toast_chunks();
DROP FUNCTION ducache_test_toast_same(jsonb);
DROP FUNCTION ducache_test_toast_take(regclass, oid, integer, integer, oid, integer, integer);
