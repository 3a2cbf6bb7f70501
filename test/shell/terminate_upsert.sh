#!/usr/bin/env bash
# pg_terminate_backend in the middle of a big upsert: no row of the batch is left, and the
# cluster does not go through a crash restart (only that one backend ends).
set -euo pipefail
DB=ducache_terminate
export PGOPTIONS="-c client_min_messages=warning"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
psql -X -q -v ON_ERROR_STOP=1 -d $DB <<'SQL'
CREATE EXTENSION ducache;
-- 200 days of 20,000 users each, built once as arrays.
CREATE TABLE batch AS
SELECT array_agg(date '2026-01-01' + d ORDER BY d) AS dates,
       array_agg('{}'::jsonb) AS raw,
       array_agg(users || jsonb_build_object('day', d)) AS users
FROM (SELECT jsonb_object_agg('user-' || u, jsonb_build_object('totalRequests', u, 'totalCost', u * 0.001)) AS users
      FROM generate_series(1, 20000) AS u) AS one, generate_series(0, 199) AS d;
SQL
started=$(psql -X -At -d $DB -c "SELECT pg_postmaster_start_time()")
psql -X -q -d $DB -c "SELECT count(*) FROM batch, ducache_batch_upsert(dates, raw, users, NULL, NULL)" \
    > /tmp/ducache_terminate_$$.log 2>&1 &
client=$!
# Wait until the upsert is running, then terminate its backend.
for _ in $(seq 1 100); do
    pid=$(psql -X -At -d $DB -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%ducache_batch_upsert(dates%' AND state = 'active' AND pid <> pg_backend_pid()")
    [ -n "$pid" ] && break
    sleep 0.1
done
[ -n "$pid" ] || { echo "FAIL: the upsert never started"; exit 1; }
sleep 0.5
psql -X -At -d $DB -c "SELECT pg_terminate_backend($pid)"
wait $client || true
cat /tmp/ducache_terminate_$$.log; rm -f /tmp/ducache_terminate_$$.log
fail=0
rows=$(psql -X -At -d $DB -c "SELECT count(*) FROM daily_usage_cache")
[ "$rows" = 0 ] || { echo "FAIL: $rows rows of the terminated batch were left"; fail=1; }
[ "$(psql -X -At -d $DB -c "SELECT pg_postmaster_start_time()")" = "$started" ] || { echo "FAIL: the cluster restarted"; fail=1; }
echo "rows left: $rows; postmaster start time unchanged: $([ $fail = 0 ] && echo yes || echo no)"
psql -X -q -d postgres -c "DROP DATABASE $DB"
exit $fail
