#!/usr/bin/env bash
# Scale-out, round 6 (docs/scale-out-speed.md): the CPU each backend spends per call, from
# /proc/<pid>/stat (utime + stime, 10 ms ticks) around N calls in one session: one node's
# backend, then the coordinator's backend and each shard's postgres_fdw backend. On a loaded
# machine this is fairer evidence than wall-time ratios. Reuses the databases of a KEEP=1
# bench/scale_out_bench.sh run (or SCALE_OUT_SETUP_ONLY=1 test/shell/scale_out.sh); run as the
# clusters' owner or root on the same machine, with no other session on the shards.
# Usage: bench/scale_out_cpu.sh [N] [CALL ...] (default: the month dashboard and user x model)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
pg_env
N=${1:-40}; shift || true
base=$DUCACHE_SANDBOX/scale_out
end=$(psql -X -At -d ducache_so_single -c "SELECT max(date) FROM daily_usage_cache")
calls=("$@")
[ ${#calls[@]} -gt 0 ] || calls=("ducache_dashboard('2025-04-01', '2025-04-30')" "ducache_user_model_breakdown('2025-03-01', '$end')")
snap=$(mktemp) snapper=$(mktemp); trap 'rm -f "$snap" "$snapper"' EXIT
# Run by psql (\!) before and after the loop: appends the tick count of the session's backend
# and, per shard, the pid and tick count of its newest postgres_fdw backend (0 0: none).
cat >"$snapper" <<'SH'
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
line=$(ticks "$CPID")
for port in $SHARD_PORTS; do
    p=$(PGHOST=$base/run PGPORT=$port psql -X -At -d ducache_shard -c \
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'postgres_fdw' ORDER BY backend_start DESC LIMIT 1")
    if [ -n "$p" ]; then line="$line $p $(ticks "$p")"; else line="$line 0 0"; fi
done
echo "$line" >>"$snap"
SH
export base snap SHARD_PORTS="$((DUCACHE_PGPORT + 11)) $((DUCACHE_PGPORT + 12))"
measure() {  # database, call -> "backend X [shard0 Y shard1 Z]" ms per call
    : >"$snap"
    psql -X -q -d "$1" >/dev/null <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv CPID :pid
SELECT count(*) FROM $2;
\! bash "$snapper"
DO \$\$ BEGIN FOR i IN 1 .. $N LOOP PERFORM count(*) FROM $2; END LOOP; END \$\$;
\! bash "$snapper"
SQL
    paste -d' ' <(sed -n 1p "$snap") <(sed -n 2p "$snap") | awk -v n="$N" -v coord="$3" '{
        printf "backend %.1f", ($6 - $1) * 10 / n
        if (coord && $2 != 0 && $2 == $7 && $4 == $9) printf " shard0 %.1f shard1 %.1f", ($8 - $3) * 10 / n, ($10 - $5) * 10 / n
        printf "\n" }'
}
echo "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%H:%M) UTC, CPU ms per call over $N calls"
echo
echo "| call | one node | coordinator | shard 0 | shard 1 |"
echo "|---|---:|---:|---:|---:|"
for c in "${calls[@]}"; do
    a=$(measure ducache_so_single "$c" 0); b=$(measure ducache_so_coord "$c" 1)
    read -r _ one <<<"$a"; read -r _ co _ s0 _ s1 <<<"$b"
    printf '| `%s` | %s | %s | %s | %s |\n' "$c" "$one" "$co" "${s0:-?}" "${s1:-?}"
done
