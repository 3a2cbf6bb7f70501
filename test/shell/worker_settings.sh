#!/usr/bin/env bash
# A parallel worker that loads ducache.so defines none of its settings (PostgreSQL 15 re-sorts
# its whole array of settings for each one defined: most of a worker's start; docs/benchmarks.md,
# round 14 of issue 13), and with shared_preload_libraries = 'ducache' a worker inherits them
# defined, as before. Checked by what PostgreSQL itself shows inside a worker (force_parallel_mode:
# the query in one worker, proved by its pid and its mapped ducache.so): pg_settings' ducache.*
# rows, and current_setting of a setting the leader changed and of one it did not. That the
# accessors still return the leader's values there: sql/78_parallel_breakdown. Times nothing.
# Its own throwaway cluster (port DUCACHE_PGPORT+25), restarted once with the library preloaded.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
base=$DUCACHE_SANDBOX/worker_settings port=$((DUCACHE_PGPORT + 25))
fail() { echo "FAIL: $*" >&2; exit 1; }
ctl() { as_owner "$PGBIN/pg_ctl" -D "$base/data" -l "$base/server.log" -w "$@" >/dev/null; }
stop() { as_owner "$PGBIN/pg_ctl" -D "$base/data" -m immediate stop >/dev/null 2>&1 || true; }
trap stop EXIT

stop
rm -rf "$base"
mkdir -p "$base/run"
if [ "$(id -u)" = 0 ]; then chown "$(pg_owner)" "$base" "$base/run"; fi
init_cluster "$base/data" "$base/run" "$port" 32MB

# One line: the leader's ducache rows in pg_settings, then in a worker: whether it is another
# process with ducache.so mapped, its ducache rows in pg_settings, current_setting of
# parallel_min_kb (set by the leader) and of use_user_packs (left at its default).
look() {
    PGHOST=$base/run PGPORT=$port psql -X -q -At -v ON_ERROR_STOP=1 -U postgres -d postgres <<'SQL' | tr '\n' ' ' | sed 's/ $//'
LOAD 'ducache';
SET ducache.parallel_min_kb = '3MB';
SELECT count(*) FROM pg_settings WHERE name LIKE 'ducache.%';
SELECT pg_backend_pid() AS leader \gset
SET force_parallel_mode = on;
-- (pg_settings in FROM: an InitPlan would keep the query in the leader)
SELECT split_part(pg_read_file('/proc/self/stat'), ' ', 1)::int <> :leader
       AND pg_read_file('/proc/self/maps') ~ 'ducache\.so', s.n,
       coalesce(current_setting('ducache.parallel_min_kb', true), 'none'),
       coalesce(current_setting('ducache.use_user_packs', true), 'none')
FROM (SELECT count(*) AS n FROM pg_settings WHERE name LIKE 'ducache.%') AS s;
SQL
}

# Loaded per process: the worker loads the library (RestoreLibraryState) and defines nothing; the
# leader's non-default value is there as RestoreGUCState's placeholder (sent in kB), the default
# one not at all.
ctl -o "-p $port" start
got=$(look)
echo "loaded per process: $got"
leader_rows=${got%% *}
[ "$leader_rows" -ge 7 ] || fail "the leader shows $leader_rows ducache settings: $got"
[ "$got" = "$leader_rows t|0|3072|none" ] || fail "a worker that loaded ducache.so: want '$leader_rows t|0|3072|none', got '$got'"
ctl -m fast stop

# Preloaded: the worker finds the library loaded and inherits every setting, defined.
ctl -o "-p $port -c shared_preload_libraries=ducache" start
got=$(look)
echo "preloaded: $got"
[ "$got" = "$leader_rows t|$leader_rows|3MB|on" ] || fail "a worker with ducache preloaded: want '$leader_rows t|$leader_rows|3MB|on', got '$got'"
ctl -m fast stop

# Neither way a warning (define_custom_variable in parallel mode would give "cannot set
# parameters during a parallel operation"), nor any other.
if grep -E 'WARNING|ERROR' "$base/server.log"; then fail "the server log has warnings or errors ($base/server.log)"; fi
rm -rf "$base"
echo "worker settings ok"
