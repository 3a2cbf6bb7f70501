#!/usr/bin/env bash
# Scale-out, round 5 (docs/scale-out-speed.md): one node against the coordinator on both of its
# ways to ask the shards, interleaved per call in one setup: round 4's gather query through
# postgres_fdw's executor (the test-only setting ducache.test_gather_via_query = on: needs a
# build with DUCACHE_TEST_HOOKS=1) and round 5's one statement per shard on postgres_fdw's
# connections. Then the per-call floor (a one-day trend): the median of FLOOR_N calls inside one
# transaction, and the mean latency of FLOOR_N autocommit calls (pgbench). Reuses the databases
# of a KEEP=1 bench/scale_out_bench.sh run (or SCALE_OUT_SETUP_ONLY=1 test/shell/scale_out.sh).
# Usage: bench/scale_out_paths.sh [RUNS] [FLOOR_N]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
pg_env
RUNS=${1:-9} FLOOR_N=${2:-101}
source bench/scale_out_lib.sh
single=ducache_so_single coord=ducache_so_coord
end=$(psql -X -At -d $single -c "SELECT max(date) FROM daily_usage_cache")
uid=$(psql -X -At -d $single -c "SELECT md5('litemaas-user1')::uuid")
scale_out_read_calls; scale_out_document_calls; calls=("${read_calls[@]}" "${document_calls[@]:0:2}" "${document_calls[5]}")
median() { median_ms "$1" "count(*) FROM $3" "$4" "SET ducache.test_gather_via_query = $2"; }  # database, via_query setting, call, runs
echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M) UTC, medians of $RUNS"
echo
echo "| call | one node ms | round 4 path ms | ratio | round 5 path ms | ratio |"
echo "|---|---:|---:|---:|---:|---:|"
for c in "${calls[@]}"; do
    a=$(median $single off "$c" "$RUNS"); b=$(median $coord on "$c" "$RUNS"); n=$(median $coord off "$c" "$RUNS")
    printf '| `%s` | %.1f | %.1f | %.2f | %.1f | %.2f |\n' "$c" "$a" "$b" "$(echo "$b / $a" | bc -l)" "$n" "$(echo "$n / $a" | bc -l)"
done
floor="ducache_daily_trend('2025-05-10', '2025-05-10')"
sqlfile=$(mktemp); trap 'rm -f "$sqlfile"' EXIT
echo "SELECT count(*) FROM $floor;" >"$sqlfile"
autocommit() { PGOPTIONS="-c ducache.test_gather_via_query=$2" "$PGBIN/pgbench" -n -t "$FLOOR_N" -f "$sqlfile" "$1" 2>/dev/null |
               sed -n 's/^latency average = \([0-9.]*\) ms/\1/p'; }
echo
echo "The floor, $floor: one node / round 4 path / round 5 path (load $(cut -d' ' -f1 /proc/loadavg))"
echo "* in one transaction, median ms of $FLOOR_N: $(median $single off "$floor" "$FLOOR_N") / $(median $coord on "$floor" "$FLOOR_N") / $(median $coord off "$floor" "$FLOOR_N")"
echo "* autocommit, mean ms of $FLOOR_N (pgbench): $(autocommit $single off) / $(autocommit $coord on) / $(autocommit $coord off)"
