#!/usr/bin/env bash
# Scale-out, the binary partials (docs/scale-out.md): on test/shell/scale_out.sh's setup, the
# model, provider and summary reads push ducache_shard_partial_bin down whole to every shard
# (an Async Foreign Scan each, bytea shipped back), and a shard that is down or dies during a
# call ends it with a class-08 ERROR naming the shard, no rows. (scale_out.sh compares their
# answers with one node.) Needs the cluster scripts/test.sh started (PG* variables).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
export PGOPTIONS="-c client_min_messages=warning"
base=$DUCACHE_SANDBOX/scale_out
coord=ducache_so_coord single=ducache_so_single
fail() { echo "FAIL: $*" >&2; exit 1; }
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
cleanup() {
    for k in 0 1; do as_owner "$PGBIN/pg_ctl" -D "$base/shard$k" -m immediate stop >/dev/null 2>&1 || true; done
    rm -rf "$base"
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $coord" -c "DROP DATABASE IF EXISTS $single" >/dev/null 2>&1 || true
}
trap cleanup EXIT
SCALE_OUT_SETUP_ONLY=1 bash test/shell/scale_out.sh >/dev/null

# The plan: one whole aggregate per shard, run concurrently, bytea back.
req='{"kind": "provider", "start": "2025-03-01", "end": "2025-03-31"}'
plan=$(q -At -d $coord -c "SET enable_partitionwise_aggregate = on" -c "EXPLAIN (VERBOSE, COSTS OFF)
    SELECT ducache_shard_partial_bin(date, '$req') FROM ducache_shard_0 WHERE date BETWEEN '2025-03-01' AND '2025-03-31'
    UNION ALL SELECT ducache_shard_partial_bin(date, '$req') FROM ducache_shard_1 WHERE date BETWEEN '2025-03-01' AND '2025-03-31'")
[ "$(grep -c 'Async Foreign Scan' <<<"$plan")" = 2 ] || fail "not two Async Foreign Scans: $plan"
[ "$(grep -c 'Relations: Aggregate on' <<<"$plan")" = 2 ] || fail "aggregates not pushed down: $plan"
grep -q 'Remote SQL: SELECT .*ducache_shard_partial_bin(date' <<<"$plan" || fail "no remote aggregate: $plan"
# The aggregate refuses to run on the coordinator itself (its reads would ask the shards again).
out=$(q -d $coord -c "\set VERBOSITY sqlstate" -c "SELECT ducache_shard_partial_bin(current_date, '$req')" 2>&1 || true)
[ "$out" = "ERROR:  55000" ] || fail "ducache_shard_partial_bin on a coordinator: $out"

# A shard that is down.
as_owner "$PGBIN/pg_ctl" -D "$base/shard1" -m fast stop >/dev/null
for call in "ducache_model_breakdown('2025-03-01', '2025-03-31')" "ducache_provider_breakdown('2025-03-01', '2025-03-31')" \
            "ducache_provider_breakdown('2025-03-01', '2025-03-31', NULL, ARRAY['gpt-4o'])"; do
    out=$(q -At -d $coord -c "\set VERBOSITY verbose" -c "SELECT count(*) FROM $call" 2>&1 || true)
    grep -q '^ERROR:  08' <<<"$out" || fail "$call with shard 1 down: not a class-08 error: $out"
    grep -q '"s1"' <<<"$out" || fail "$call with shard 1 down: the error does not name s1: $out"
    ! grep -q '^[0-9]' <<<"$out" || fail "$call with shard 1 down returned rows"
done
# A shard that dies in the middle of a loop of calls.
as_owner "$PGBIN/pg_ctl" -D "$base/shard1" -l "$base/shard1.log" -w start >/dev/null
( sleep 1; as_owner "$PGBIN/pg_ctl" -D "$base/shard1" -m immediate stop >/dev/null ) &
out=$(q -At -d $coord -c "\set VERBOSITY verbose" -c "DO \$\$ BEGIN FOR i IN 1 .. 600 LOOP
    PERFORM count(*) FROM ducache_model_breakdown('2025-01-01', '2025-12-31'); PERFORM pg_sleep(0.01); END LOOP; END \$\$" 2>&1 || true)
wait
grep -q '^ERROR:  08' <<<"$out" || fail "a shard dying mid-call: not a class-08 error: $out"
grep -q '"s1"' <<<"$out" || fail "a shard dying mid-call: the error does not name s1: $out"
echo "scale_out_binary: ok"
