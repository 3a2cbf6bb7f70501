#!/usr/bin/env bash
# Round 9 (docs/rollups.md, "Round 9: the dashboards at L after round 8's changes"): backend CPU,
# minor page faults and private memory per call of the L dashboards, two libraries interleaved.
# Per round and library (installed by copy beside + rename, never over a mapped file), one fresh
# session per call: a warm-up call as its own statement, then N calls in one plpgsql loop between
# two readings of /proc/<backend>/stat (utime + stime; minor faults = field 10), then RssAnon
# from /proc/<backend>/status (private memory, shared buffers not counted). Reads the L data set
# of `bench/run.py --rollups L --rollup-shape litemaas` with DUCACHE_BENCH_KEEP_ROLLUPS=1 in
# place (run `python3 bench/rollup_bench.py --dashboard-ratio` once first: it swaps the table
# in). Leaves library A installed.
#   bench/dashboard_heap.sh A.so B.so [N] [ROUNDS]
#   CALLS="call1;call2" (default: the aligned and mid-month 90-day dashboards), PRE="SET ...;"
#   e.g. PRE="SET ducache.use_rollups = off;" CALLS="ducache_dashboard('2025-01-06', '2025-01-10')"
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
pg_env
A=$(realpath "$1") B=$(realpath "$2") N=${3:-10} ROUNDS=${4:-2}
lib=$PGROOT/usr/lib/postgresql/$PG_MAJOR/lib/ducache.so
install_lib() { cp "$1" "$lib.tmp" && mv -f "$lib.tmp" "$lib"; }
calls=("ducache_dashboard('2025-04-01', '2025-06-29')" "ducache_dashboard('2025-05-18', '2025-08-15')")
if [ -n "${CALLS:-}" ]; then IFS=';' read -r -a calls <<< "$CALLS"; fi
PRE=${PRE:-}
measure() {  # call -> "CPU ms (faults) rssanon kB, warm-up faults"
    psql -X -At -d ducache_bench <<SQL | tail -n 1
SELECT pg_backend_pid() AS pid \gset
$PRE
SELECT (string_to_array(pg_read_file('/proc/' || :pid || '/stat'), ' '))[10:15] AS w \gset
SELECT $1 IS NOT NULL \g /dev/null
BEGIN;
SELECT (string_to_array(pg_read_file('/proc/' || :pid || '/stat'), ' '))[10:15] AS a \gset
DO \$\$ BEGIN FOR i IN 1 .. $N LOOP PERFORM $1; END LOOP; END \$\$;
SELECT (string_to_array(pg_read_file('/proc/' || :pid || '/stat'), ' '))[10:15] AS b \gset
COMMIT;
SELECT round((((:'b'::int[])[5] + (:'b'::int[])[6] - (:'a'::int[])[5] - (:'a'::int[])[6]) * 10.0 / $N), 1)
       || ' (' || ((:'b'::bigint[])[1] - (:'a'::bigint[])[1]) / $N || ') rssanon '
       || (regexp_match(pg_read_file('/proc/' || :pid || '/status'), 'RssAnon:\s+(\d+)'))[1]
       || ' kB, warm-up faults ' || ((:'a'::bigint[])[1] - (:'w'::bigint[])[1]);
SQL
}
echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M:%S) UTC, $N calls per session"
for r in $(seq 1 "$ROUNDS"); do
    for which in A B; do
        install_lib "${!which}"
        printf '| %s | %s |' "$r" "$(basename "${!which}")"
        for c in "${calls[@]}"; do printf ' %s |' "$(measure "$c")"; done
        echo
    done
done
install_lib "$A"
echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M:%S) UTC"
