#!/usr/bin/env bash
# Scale-out (issue 14's goal: coordinator over 2 shards <= 1.3x one node at S): wall-clock
# ratios that hold up on a shared 2-core machine. For every call of bench/scale_out_lib.sh,
# ROUNDS rounds; in each, the server-side median of K calls on one node and of K calls on the
# coordinator, in alternating order (one node first in odd rounds), so a change of load hits
# both sides alike. Printed: the median over rounds of each side and the median of the rounds'
# ratios (coordinator / one node). Then the one-day floor in a transaction (medians of 101
# calls) and autocommit (pgbench, mean of 101), also alternating, 3 rounds.
# Reuses the databases of a KEEP=1 bench/scale_out_bench.sh run (or SCALE_OUT_SETUP_ONLY=1
# test/shell/scale_out.sh). Usage: bench/scale_out_ratio.sh [ROUNDS] [K] [CALL ...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
pg_env
ROUNDS=${1:-7} K=${2:-5}; shift 2 || shift $# || true
source bench/scale_out_lib.sh
single=ducache_so_single coord=ducache_so_coord
end=$(psql -X -At -d $single -c "SELECT max(date) FROM daily_usage_cache")
uid=$(psql -X -At -d $single -c "SELECT md5('litemaas-user1')::uuid")
scale_out_read_calls; scale_out_document_calls; calls=("${read_calls[@]}" "${document_calls[@]}")
[ $# -gt 0 ] && calls=("$@")
med() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M) UTC; $ROUNDS rounds of (median of $K calls, one node and coordinator alternating)"
echo
echo "| call | one node ms | coordinator ms | ratio (median of the rounds' ratios) | rounds' ratios, min - max |"
echo "|---|---:|---:|---:|---:|"
for c in "${calls[@]}"; do
    a=() b=() r=()
    for i in $(seq 1 "$ROUNDS"); do
        if [ $((i % 2)) = 1 ]; then x=$(median_ms $single "count(*) FROM $c" "$K"); y=$(median_ms $coord "count(*) FROM $c" "$K")
        else y=$(median_ms $coord "count(*) FROM $c" "$K"); x=$(median_ms $single "count(*) FROM $c" "$K"); fi
        a+=("$x") b+=("$y") r+=("$(awk -v x="$x" -v y="$y" 'BEGIN { printf "%.4f", y / x }')")
    done
    printf '| `%s` | %.1f | %.1f | %.2f | %.2f - %.2f |\n' "$c" "$(printf '%s\n' "${a[@]}" | med)" "$(printf '%s\n' "${b[@]}" | med)" \
        "$(printf '%s\n' "${r[@]}" | med)" "$(printf '%s\n' "${r[@]}" | sort -g | head -1)" "$(printf '%s\n' "${r[@]}" | sort -g | tail -1)"
done
floor="ducache_daily_trend('2025-05-10', '2025-05-10')"
sqlfile=$(mktemp); trap 'rm -f "$sqlfile"' EXIT
echo "SELECT count(*) FROM $floor;" >"$sqlfile"
autocommit() { "$PGBIN/pgbench" -n -t 101 -f "$sqlfile" "$1" 2>/dev/null | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p'; }
echo
echo "The floor, \`$floor\`, one node / coordinator, 3 rounds (load $(cut -d' ' -f1 /proc/loadavg)):"
for i in 1 2 3; do
    t1=$(median_ms $single "count(*) FROM $floor" 101); t2=$(median_ms $coord "count(*) FROM $floor" 101)
    u2=$(autocommit $coord); u1=$(autocommit $single)
    printf -- '* round %d: in one transaction (median of 101) %.2f / %.2f ms = %.2fx; autocommit (mean of 101) %.2f / %.2f ms = %.2fx\n' \
        "$i" "$t1" "$t2" "$(awk -v x="$t1" -v y="$t2" 'BEGIN { print y / x }')" "$u1" "$u2" "$(awk -v x="$u1" -v y="$u2" 'BEGIN { print y / x }')"
done
