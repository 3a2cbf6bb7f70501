#!/usr/bin/env bash
# Scale-out: where each call's CPU goes, per process, which wall-clock ratios on these 2 shared
# cores hide (docs/scale-out-speed.md, round 6). For every call of bench/scale_out_lib.sh: the
# backend CPU per call (utime+stime from /proc, 10 ms ticks, so N calls resolve 10/N ms) of one
# node, of each shard's postgres_fdw backend and of the coordinator, all N calls inside one
# transaction, and (slowest shard + coordinator) / one node: the critical path's share when
# the shards run side by side and the coordinator merges after them. Reuses the databases of a
# KEEP=1 bench/scale_out_bench.sh run (or SCALE_OUT_SETUP_ONLY=1 test/shell/scale_out.sh).
# Usage: bench/scale_out_cpu_table.sh [N] [CALL ...] (default: every call of the lists; the
# one-day floor runs 50 N calls)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
pg_env
N=${1:-20}; shift || true
source bench/scale_out_lib.sh
single=ducache_so_single coord=ducache_so_coord base=$DUCACHE_SANDBOX/scale_out
end=$(psql -X -At -d $single -c "SELECT max(date) FROM daily_usage_cache")
uid=$(psql -X -At -d $single -c "SELECT md5('litemaas-user1')::uuid")
scale_out_read_calls; scale_out_document_calls; calls=("${read_calls[@]}" "${document_calls[@]}")
[ $# -gt 0 ] && calls=("$@")
# CPU ms per call of the given database's backend (and, on the coordinator, its shards'
# postgres_fdw backends, found after the warm-up call opened them): one session, a warm-up call,
# then N calls in one transaction between two readings of /proc.
measure() {  # database call calls
    local tmp; tmp=$(mktemp -d)
    cat >"$tmp/ticks.sh" <<EOS
pids=""
if [ "$1" = "$coord" ]; then
    for k in 0 1; do
        pids="\$pids \$(psql -X -At -h '$base/run' -p \$(( $DUCACHE_PGPORT + 11 + k )) -d ducache_shard -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'ducache' ORDER BY backend_start DESC LIMIT 1")"
    done
fi
for p in \$pids \$BPID; do awk '{printf "%d ", \$14 + \$15}' /proc/\$p/stat; done
EOS
    psql -X -At -d "$1" >/dev/null <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv BPID :pid
BEGIN;
SELECT count(*) FROM $2;
\! bash $tmp/ticks.sh > $tmp/a
DO \$\$ BEGIN FOR i IN 1 .. $3 LOOP PERFORM count(*) FROM $2; END LOOP; END \$\$;
\! bash $tmp/ticks.sh > $tmp/b
COMMIT;
SQL
    paste -d' ' <(tr ' ' '\n' <"$tmp/a" | grep .) <(tr ' ' '\n' <"$tmp/b" | grep .) |
        awk -v n="$3" '{printf "%s%.2f", (NR > 1 ? " " : ""), ($2 - $1) * 10 / n}'
    rm -rf "$tmp"
}
echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M) UTC, CPU ms per call, $N calls in one transaction"
echo
echo "| call | one node | shard 0 | shard 1 | coordinator | (slowest shard + coordinator) / one node |"
echo "|---|---:|---:|---:|---:|---:|"
for c in "${calls[@]}"; do
    n=$N; [[ $c == *"'2025-05-10', '2025-05-10'"* ]] && n=$((N * 50))  # the one-day floor: ~1 ms a call
    one=$(measure $single "$c" $n); read -r s0 s1 co <<<"$(measure $coord "$c" $n)"
    printf '| `%s` | %s | %s | %s | %s | %s |\n' "$c" "$one" "$s0" "$s1" "$co" \
        "$(awk -v a="$s0" -v b="$s1" -v c="$co" -v o="$one" 'BEGIN { m = a > b ? a : b; if (o > 0) printf "%.2f", (m + c) / o; else print "-" }')"
done
