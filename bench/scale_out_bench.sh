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
export SCALE_OUT_USERS=$USERS SCALE_OUT_DAYS=$DAYS SCALE_OUT_SETUP_ONLY=1
base=$DUCACHE_SANDBOX/scale_out
# REUSE=1: the clusters and databases a KEEP=1 run left (same USERS x DAYS), not built again.
if [ -n "${REUSE:-}" ] && [ -d "$base/shard1" ]; then
    for k in 0 1; do as_owner "$PGBIN/pg_ctl" -D "$base/shard$k" -l "$base/shard$k.log" -w start >/dev/null 2>&1 || true; done
else
    setup_out=$(bash test/shell/scale_out.sh)
fi
# KEEP=1 leaves the clusters and databases for a look by hand (scale_out.sh cleans them up next time).
[ -z "${KEEP:-}" ] && trap 'for k in 0 1; do as_owner "$PGBIN/pg_ctl" -D "$base/shard$k" -m fast stop >/dev/null 2>&1 || true; done; rm -rf "$base"' EXIT
end=$(psql -X -At -d ducache_so_single -c "SELECT max(date) FROM daily_usage_cache")
uid=$(psql -X -At -d ducache_so_single -c "SELECT md5('litemaas-user1')::uuid")
calls=("ducache_user_breakdown('2025-03-01', '$end')" "ducache_model_breakdown('2025-03-01', '$end')"
       "ducache_provider_breakdown('2025-03-01', '$end')" "ducache_analytics('2025-03-01', '$end')"
       "ducache_daily_trend('2025-03-01', '$end')"
       "ducache_user_breakdown('2025-03-01', '$end', NULL, ARRAY['gpt-4o'])"
       "ducache_model_breakdown('2025-03-01', '$end', ARRAY['$uid'])"
       "ducache_api_key_breakdown('2025-03-01', '$end', ARRAY['$uid'])"
       "ducache_provider_breakdown('2025-03-01', '$end', ARRAY['$uid'])"
       "ducache_provider_breakdown('2025-03-01', '$end', NULL, ARRAY['gpt-4o'])"
       "ducache_analytics('2025-03-01', '$end', NULL, ARRAY['gpt-4o'])"
       "ducache_daily_trend('2025-03-01', '$end', NULL, ARRAY['gpt-4o'])"
       "ducache_user_model_breakdown('2025-03-01', '$end')"
       "ducache_api_key_breakdown('2025-03-01', '$end')"
       "ducache_daily_trend('2025-05-10', '2025-05-10')")   # the per-call floor: one day
timed() {  # median ms of RUNS calls of $2 in database $1
    psql -X -At -d "$1" -c "DO \$\$ DECLARE t0 timestamptz; ms float8[] := '{}'; BEGIN
        FOR i IN 1 .. $RUNS LOOP t0 := clock_timestamp(); PERFORM count(*) FROM $2;
            ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000; END LOOP;
        RAISE NOTICE '%', (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x); END \$\$" 2>&1 |
        sed -n 's/^NOTICE:  //p'
}
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
