#!/usr/bin/env bash
# A tiny memory budget and a huge key set: one backend gets an address-space limit (prlimit
# RLIMIT_AS, its current size + 128 MB) and then sums 1,000,000 distinct keys (10 days of
# 100,000). Every call must give the plain-SQL reference's answer or a clean 53200/54000,
# never a crash or an OOM kill; at least one must really hit the limit; after the errors the
# same backend still answers a call that fits (nothing was kept from the failed ones), and
# the cluster never restarts. Needs the cluster scripts/test.sh started (PG* variables).
set -euo pipefail
DB=ducache_memory
export PGOPTIONS="-c client_min_messages=warning"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
started=$(psql -X -At -d postgres -c "SELECT pg_postmaster_start_time()")

psql -X -q -v ON_ERROR_STOP=1 -d $DB <<'SQL'
CREATE EXTENSION ducache;
-- Day d holds keys k<d>-1 .. k<d>-100000 (no key repeats across days).
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model)
SELECT date '2025-06-01' + d, o, o
FROM generate_series(0, 9) AS d,
     LATERAL (SELECT jsonb_object_agg('k' || d || '-' || u,
                     jsonb_build_object('totalRequests', u % 7, 'totalCost', round(u * 0.00001, 5))) AS o
              FROM generate_series(1, 100000) AS u) AS day;
-- Reference answers from plain SQL, computed without any limit.
CREATE TABLE reference (call text PRIMARY KEY, answer text);
INSERT INTO reference
SELECT 'users ' || n || 'd', concat_ws(' ', count(*), sum(r), sum(c))
FROM (VALUES (1), (10)) AS days(n),
     LATERAL (SELECT e.key, sum((e.value->>'totalRequests')::bigint) AS r, sum((e.value->>'totalCost')::numeric) AS c
              FROM daily_usage_cache, jsonb_each(aggregated_by_user) AS e
              WHERE date < date '2025-06-01' + n GROUP BY e.key) AS per_key
GROUP BY n;
INSERT INTO reference
SELECT 'trend', string_agg(concat_ws(' ', date, jsonb_object_length_ok, req), ',' ORDER BY date)
FROM (SELECT date, (SELECT count(*) FROM jsonb_object_keys(aggregated_by_user)) AS jsonb_object_length_ok,
             (SELECT sum((v->>'totalRequests')::bigint) FROM jsonb_each(aggregated_by_user) AS e(k, v)) AS req
      FROM daily_usage_cache) AS t;

-- Runs a call and says what happened: its answer, or the SQLSTATE it ended with.
CREATE FUNCTION outcome(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE answer text;
BEGIN
    EXECUTE q INTO answer;
    RETURN answer;
EXCEPTION WHEN OTHERS THEN
    RETURN 'SQLSTATE ' || SQLSTATE;
END $$;
CREATE TABLE outcomes (n serial, call text, got text);
SQL

psql -X -q -v ON_ERROR_STOP=1 -d $DB <<'SQL'
-- The budget: this backend may map 128 MB more than it does now (shared memory included).
DO $$
DECLARE vm bigint := (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmSize:\s+(\d+)'))[1];
BEGIN
    EXECUTE format('COPY (SELECT 1) TO PROGRAM %L',
                   format('prlimit --pid %s --as=%s', pg_backend_pid(), (vm + 128 * 1024) * 1024));
END $$;
INSERT INTO outcomes (call, got) SELECT 'limit', (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/limits'),
                                                  'Max address space\s+(\d+)'))[1];
-- Each call on its own statement, all in this one limited backend: one that fits, the big ones,
-- then the one that fits again.
INSERT INTO outcomes (call, got) SELECT 'users 1d', outcome($q$SELECT concat_ws(' ', count(*), sum(total_requests), sum(total_cost)) FROM ducache_user_breakdown('2025-06-01', '2025-06-01')$q$);
INSERT INTO outcomes (call, got) SELECT 'users 10d', outcome($q$SELECT concat_ws(' ', count(*), sum(total_requests), sum(total_cost)) FROM ducache_user_breakdown('2025-06-01', '2025-06-10')$q$);
INSERT INTO outcomes (call, got) SELECT 'models 10d', outcome($q$SELECT concat_ws(' ', count(*), sum(total_requests), sum(total_cost)) FROM ducache_model_breakdown('2025-06-01', '2025-06-10')$q$);
INSERT INTO outcomes (call, got) SELECT 'analytics 10d', outcome($q$SELECT concat_ws(' ', active_users, total_requests, total_cost) FROM ducache_analytics('2025-06-01', '2025-06-10')$q$);
INSERT INTO outcomes (call, got) SELECT 'merge 10d', outcome($q$SELECT concat_ws(' ', count(*), sum((v->>'requests')::bigint), sum((v->>'cost')::numeric)) FROM jsonb_each((SELECT ducache_merge(aggregated_by_user) FROM daily_usage_cache)) AS e(k, v)$q$);
INSERT INTO outcomes (call, got) SELECT 'trend', outcome($q$SELECT string_agg(concat_ws(' ', date, active_users, total_requests), ',' ORDER BY date) FROM ducache_daily_trend('2025-06-01', '2025-06-10')$q$);
INSERT INTO outcomes (call, got) SELECT 'users 10d again', outcome($q$SELECT concat_ws(' ', count(*), sum(total_requests), sum(total_cost)) FROM ducache_user_breakdown('2025-06-01', '2025-06-10')$q$);
INSERT INTO outcomes (call, got) SELECT 'users 1d after the errors', outcome($q$SELECT concat_ws(' ', count(*), sum(total_requests), sum(total_cost)) FROM ducache_user_breakdown('2025-06-01', '2025-06-01')$q$);
SQL

report=$(psql -X -At -F ' | ' -d $DB <<'SQL'
SELECT o.call, o.got,
       CASE WHEN o.call = 'limit' THEN 'budget'
            WHEN o.got IN ('SQLSTATE 53200', 'SQLSTATE 54000') THEN 'clean error'
            WHEN o.got = r.answer THEN 'equal'
            ELSE 'WRONG (reference: ' || coalesce(r.answer, '?') || ')' END
FROM outcomes AS o
LEFT JOIN reference AS r ON r.call = regexp_replace(regexp_replace(o.call, ' (again|after the errors)$', ''), '^(models|analytics|merge) ', 'users ')
ORDER BY o.n;
SQL
)
echo "$report"
fail=0
[ "$(echo "$report" | grep -c '| equal$\|| clean error$')" = 8 ] || { echo "FAIL: a call gave neither the answer nor 53200/54000"; fail=1; }
grep -q '| clean error$' <<<"$report" || { echo "FAIL: the budget never bound (no 53200)"; fail=1; }
grep -q '^users 1d after the errors | .* | equal$' <<<"$report" || { echo "FAIL: the backend could not answer after the errors"; fail=1; }
[ "$(psql -X -At -d postgres -c "SELECT pg_postmaster_start_time()")" = "$started" ] || { echo "FAIL: the cluster restarted"; fail=1; }
[ -n "${KEEP_DB:-}" ] || psql -X -q -d postgres -c "DROP DATABASE $DB"
exit $fail
