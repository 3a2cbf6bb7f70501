#!/usr/bin/env bash
# Scale-out benchmark (issue 14): a coordinator over 2 shards against one node holding the same
# days, and the bytes each shard returns (its partial) per read. The data and the clusters are
# test/shell/scale_out.sh's (SCALE_OUT_SETUP_ONLY), at USERS x DAYS (default 1000 x 90: the
# benchmark's scale S). Times are server-side medians (clock_timestamp around the call, in one
# session, runs interleaved single/coordinator). Needs the cluster scripts/bench.sh or
# scripts/test.sh started (PG* variables). Usage: bench/scale_out_bench.sh [USERS] [DAYS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
USERS=${1:-1000} DAYS=${2:-90} RUNS=${3:-5}
export SCALE_OUT_USERS=$USERS SCALE_OUT_DAYS=$DAYS
source bench/scale_out_lib.sh
scale_out_setup
scale_out_read_calls; calls=("${read_calls[@]}")  # the last: the per-call floor, one day
timed() { median_ms "$1" "count(*) FROM $2" "$RUNS"; }  # median ms of RUNS calls of $2 in database $1
echo "## Scale-out: coordinator over 2 shards vs one node, $USERS users x $DAYS days (2025-03-01 .. $end), median of $RUNS"
echo
echo "| call | one node ms | coordinator ms | ratio |"
echo "|---|---:|---:|---:|"
for c in "${calls[@]}"; do
    a=$(timed ducache_so_single "$c"); b=$(timed ducache_so_coord "$c")
    printf '| `%s` | %.1f | %.1f | %.2f |\n' "$c" "$a" "$b" "$(echo "$b / $a" | bc -l)"
done
echo
echo "Bytes one shard returns (its bytea answer, ducache_shard_partial_bin; kinds user, user_model, api_key, trend are typed rows):"
echo
echo "| kind | shard 0 bytes | shard 1 bytes |"
echo "|---|---:|---:|"
for kind in model provider summary summary_top user user_model api_key trend; do
    req="{\"kind\": \"$kind\", \"start\": \"2025-03-01\", \"end\": \"$end\"}"
    sizes=()
    for k in 0 1; do
        sizes+=("$(PGHOST=$base/run PGPORT=$((DUCACHE_PGPORT + 11 + k)) psql -X -At -d ducache_shard -c \
            "SELECT octet_length(ducache_shard_partial_bin(date, '$req')) FROM daily_usage_cache WHERE date BETWEEN '2025-03-01' AND '$end'")")
    done
    echo "| $kind | ${sizes[0]} | ${sizes[1]} |"
done
echo
echo "Per shard: $(for k in 0 1; do PGHOST=$base/run PGPORT=$((DUCACHE_PGPORT + 11 + k)) psql -X -At -d ducache_shard -c "SELECT 'shard $k: ' || pg_size_pretty(pg_total_relation_size('daily_usage_cache')) || ' table, ' || (SELECT count(*) FROM daily_usage_cache, jsonb_object_keys(aggregated_by_user)) || ' user-days; '"; done)"
[ -z "${KEEP:-}" ] && psql -X -q -d postgres -c "DROP DATABASE ducache_so_coord" -c "DROP DATABASE ducache_so_single"
true
