#!/usr/bin/env bash
# Scale-out benchmark of the documents (issue 14): ducache_dashboard and ducache_filter_options
# on a coordinator over 2 shards against one node holding the same days, and the bytes of each
# shard's binary partial. The data and clusters are test/shell/scale_out.sh's
# (SCALE_OUT_SETUP_ONLY), at USERS x DAYS (default 1000 x 90: scale S). Times are server-side
# medians (clock_timestamp around the call, one session, single/coordinator interleaved per
# call). Needs the cluster scripts/bench.sh or scripts/test.sh started (PG* variables).
# Usage: bench/scale_out_dashboard_bench.sh [USERS] [DAYS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
USERS=${1:-1000} DAYS=${2:-90} RUNS=${3:-5}
export SCALE_OUT_USERS=$USERS SCALE_OUT_DAYS=$DAYS
source bench/scale_out_lib.sh
scale_out_setup
scale_out_document_calls; calls=("${document_calls[@]}")
timed() { median_ms "$1" "length($2::text)" "$RUNS"; }  # median ms of RUNS calls of $2 in database $1
echo "## Scale-out documents: coordinator over 2 shards vs one node, $USERS users x $DAYS days (2025-03-01 .. $end), median of $RUNS"
echo
echo "| call | one node ms | coordinator ms | ratio |"
echo "|---|---:|---:|---:|"
for c in "${calls[@]}"; do
    a=$(timed ducache_so_single "$c"); b=$(timed ducache_so_coord "$c")
    printf '| `%s` | %.1f | %.1f | %.2f |\n' "$c" "$a" "$b" "$(echo "$b / $a" | bc -l)"
done
echo
echo "Bytes one shard returns (its binary partial) for the whole range:"
echo
echo "| partial | shard 0 bytes | shard 1 bytes |"
echo "|---|---:|---:|"
for fn in "ducache_dashboard_partial('2025-03-01', '$end', '{}', NULL, false)" "ducache_filter_options_partial('2025-03-01', '$end')"; do
    sizes=()
    for k in 0 1; do
        sizes+=("$(PGHOST=$base/run PGPORT=$((DUCACHE_PGPORT + 11 + k)) psql -X -At -d ducache_shard -c "SELECT octet_length($fn)")")
    done
    echo "| \`${fn%%(*}\` | ${sizes[0]} | ${sizes[1]} |"
done
[ -z "${KEEP:-}" ] && psql -X -q -d postgres -c "DROP DATABASE ducache_so_coord" -c "DROP DATABASE ducache_so_single"
true
