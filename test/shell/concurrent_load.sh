#!/usr/bin/env bash
# Concurrency under load: pgbench with 8 clients for 30 s, random overlapping dates in random
# order, some transactions making two or three upsert/rebuild calls, while the CONCURRENTLY
# index script and its rollback run, and a concurrent build is cancelled mid-way (it leaves an
# INVALID index, which re-running the script repairs). Then: no deadlock (40P01) and no XX000 anywhere, every
# inserted/updated action adds up, amcheck is clean, and the GIN indexes agree with a
# sequential scan. Needs the cluster scripts/test.sh started (PG* variables exported).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
DB=ducache_load
BIN=$(pg_config --bindir)
export PGOPTIONS="-c client_min_messages=warning"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d $DB <<'SQL'
CREATE EXTENSION ducache;
CREATE EXTENSION amcheck;
CREATE TABLE load_log (action text);
-- The raw data one writer stores: one model, one key of its own.
CREATE FUNCTION load_raw() RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('breakdown', jsonb_build_object('models', jsonb_build_object('m',
               jsonb_build_object('metrics', jsonb_build_object('api_requests', 1),
                                  'api_keys', jsonb_build_object('k' || pg_backend_pid(),
                                      jsonb_build_object('metrics', jsonb_build_object('api_requests', 1)))))))
$$;
-- One write: n days picked at random from a 30-day window, in random order.
CREATE FUNCTION load_write(n int) RETURNS void LANGUAGE sql AS $$
    INSERT INTO load_log
    SELECT u.action
    FROM (SELECT array_agg(d ORDER BY random()) AS ds
          FROM (SELECT DISTINCT date '2025-01-01' + (random() * 29)::int AS d FROM generate_series(1, n)) AS pick) AS p,
         ducache_batch_upsert(p.ds, array_fill(load_raw(), ARRAY[cardinality(p.ds)]),
                              array_fill(jsonb_build_object('u' || pg_backend_pid(), jsonb_build_object('totalRequests', 1)),
                                         ARRAY[cardinality(p.ds)]),
                              NULL, NULL) AS u
$$;
SQL
cat > /tmp/ducache_load_$$.sql <<'SQL'
\set kind random(1, 4)
BEGIN;
SELECT load_write(5);
\if :kind = 2
SELECT load_write(3);
\elif :kind = 3
SELECT load_write(4);
SELECT count(*) FROM ducache_rebuild(date '2025-01-01' + (random() * 20)::int, date '2025-01-25');
\elif :kind = 4
SELECT count(*) FROM ducache_user_breakdown('2025-01-01', '2025-01-30');
\endif
COMMIT;
SQL
# The production index path runs while the load runs (it must neither block nor fail).
index_job() {
    local q="psql -X -q -v ON_ERROR_STOP=1 -d $DB"
    sleep 3
    $q -f "$REPO/scripts/indexes_rollback.sql" >/dev/null
    $q -f "$REPO/scripts/indexes_concurrently.sql" >/dev/null
    echo "index scripts ok under load"
    # A cancelled build: a REPEATABLE READ reader keeps an old snapshot open, so CREATE INDEX
    # CONCURRENTLY waits for it (on its virtual xid) after the index is in the catalog; the
    # operator cancels it there.
    $q -f "$REPO/scripts/indexes_rollback.sql" >/dev/null
    psql -X -q -d $DB -c "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM daily_usage_cache; SELECT pg_sleep(6); COMMIT" >/dev/null &
    local holder=$!
    sleep 0.5
    $q -f "$REPO/scripts/indexes_concurrently.sql" >/dev/null 2>&1 &
    local build=$! cancelled=0
    for _ in $(seq 1 100); do
        cancelled=$(psql -X -At -d $DB -c "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity
                     WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event = 'virtualxid'")
        [ "$cancelled" = 1 ] && break
        sleep 0.1
    done
    if wait $build; then echo "the cancelled build did not fail"; fi
    echo "cancelled builds: $cancelled"
    echo "invalid after cancel: $(psql -X -At -d $DB -c "SELECT count(*) FROM pg_index WHERE indrelid = 'daily_usage_cache'::regclass AND NOT indisvalid")"
    wait $holder
    $q -f "$REPO/scripts/indexes_concurrently.sql" >/dev/null
    echo "valid after re-run: $(psql -X -At -d $DB -c "SELECT count(*) FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
           WHERE i.indrelid = 'daily_usage_cache'::regclass AND i.indisvalid AND c.relname LIKE 'idx_daily_usage_cache_%'"),\
 invalid: $(psql -X -At -d $DB -c "SELECT count(*) FROM pg_index WHERE indrelid = 'daily_usage_cache'::regclass AND NOT indisvalid")"
}
index_job > /tmp/ducache_load_idx_$$.log 2>&1 &
idx_pid=$!
"$BIN/pgbench" -n -c 8 -j 2 -T 30 -f /tmp/ducache_load_$$.sql $DB > /tmp/ducache_load_pgbench_$$.log 2>&1 || true
wait $idx_pid || true
cat /tmp/ducache_load_pgbench_$$.log | grep -E "transactions|failed|aborted|error" || true
cat /tmp/ducache_load_idx_$$.log
fail=0
grep -q "index scripts ok under load" /tmp/ducache_load_idx_$$.log || { echo "FAIL: index scripts under load"; fail=1; }
grep -q "cancelled builds: 1" /tmp/ducache_load_idx_$$.log || { echo "FAIL: no concurrent build was cancelled"; fail=1; }
grep -qE "invalid after cancel: [1-9]" /tmp/ducache_load_idx_$$.log || { echo "FAIL: the cancelled build left no INVALID index"; fail=1; }
grep -q "valid after re-run: 5, invalid: 0" /tmp/ducache_load_idx_$$.log || { echo "FAIL: re-running the script did not repair"; fail=1; }
grep -q "did not fail" /tmp/ducache_load_idx_$$.log && { echo "FAIL: the build was not cancelled"; fail=1; }
grep -qE "number of failed transactions: 0|aborted" /tmp/ducache_load_pgbench_$$.log || true
if grep -qiE "deadlock|XX000|aborted in command|client [0-9]+ aborted" /tmp/ducache_load_pgbench_$$.log; then
    echo "FAIL: a client hit an error"; fail=1
fi
done_tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' /tmp/ducache_load_pgbench_$$.log)
[ "${done_tx:-0}" -gt 50 ] || { echo "FAIL: too few transactions ($done_tx)"; fail=1; }
psql -X -At -v ON_ERROR_STOP=1 -d $DB > /tmp/ducache_load_checks_$$.log <<'SQL'
-- Every date was inserted exactly once; everything else was an update, or (0.2, CONTRACT §9)
-- left alone because the stored row already held exactly the values sent.
SELECT 'actions add up: ' || ((SELECT count(*) FROM load_log WHERE action = 'inserted') = (SELECT count(*) FROM daily_usage_cache)
       AND (SELECT count(*) FROM load_log WHERE action NOT IN ('inserted', 'updated', 'unchanged')) = 0);
-- Each row is one complete write: raw_data and the breakdown come from one writer (or one rebuild).
SELECT 'rows whole: ' || bool_and(aggregated_by_user IS NOT NULL) FROM daily_usage_cache;
-- amcheck: every btree with heapallindexed, and the heap.
SELECT 'btree check: ' || count(*) FROM (
    SELECT bt_index_check(i.indexrelid, true) FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
    JOIN pg_am AS a ON a.oid = c.relam WHERE i.indrelid = 'daily_usage_cache'::regclass AND a.amname = 'btree') AS x;
SELECT 'heap problems: ' || count(*) FROM verify_heapam('daily_usage_cache');
-- The GIN index returns the same rows as a sequential scan.
CREATE TEMP TABLE keys AS SELECT DISTINCT k FROM daily_usage_cache, jsonb_object_keys(aggregated_by_user) AS k;
SET enable_seqscan = off;
CREATE TEMP TABLE via_index AS SELECT k, (SELECT count(*) FROM daily_usage_cache WHERE aggregated_by_user ? k) AS n FROM keys;
SET enable_seqscan = on; SET enable_bitmapscan = off; SET enable_indexscan = off;
SELECT 'gin agrees: ' || bool_and(v.n = (SELECT count(*) FROM daily_usage_cache WHERE aggregated_by_user ? v.k)) FROM via_index AS v;
SQL
cat /tmp/ducache_load_checks_$$.log
grep -q "actions add up: true" /tmp/ducache_load_checks_$$.log || fail=1
grep -q "rows whole: true" /tmp/ducache_load_checks_$$.log || fail=1
grep -q "heap problems: 0" /tmp/ducache_load_checks_$$.log || fail=1
grep -q "gin agrees: true" /tmp/ducache_load_checks_$$.log || fail=1
rm -f /tmp/ducache_load_*_$$.log /tmp/ducache_load_$$.sql
psql -X -q -d postgres -c "DROP DATABASE $DB"
exit $fail
