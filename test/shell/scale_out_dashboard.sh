#!/usr/bin/env bash
# Scale-out (CONTRACT §8, docs/scale-out.md): ducache_dashboard and ducache_filter_options on a
# coordinator answer, text-equal, what one node holding the same days answers, for many ranges
# (whole months from rollups, partial months, a range whose comparison period has no cached day,
# an empty range) x filter combinations (users, models, API keys, providers, the Unknown User,
# a filter nothing passes). The setup is scale_out.sh's own (SCALE_OUT_SETUP_ONLY=1: the single
# node, two shard clusters loaded by the plain-SQL split, the coordinator). Then: the plan (one
# whole aggregate per shard, concurrent), the local refusals raised on the coordinator too, and
# a shard that is down (class-08 ERROR naming it, no document). Needs scripts/test.sh's cluster.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
export PGOPTIONS="-c client_min_messages=warning"
NSHARDS=2
base=$DUCACHE_SANDBOX/scale_out
single=ducache_so_single coord=ducache_so_coord
fail() { echo "FAIL: $*" >&2; exit 1; }
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
stop_shards() {
    for k in $(seq 0 $((NSHARDS - 1))); do
        as_owner "$PGBIN/pg_ctl" -D "$base/shard$k" -m immediate stop >/dev/null 2>&1 || true
    done
    rm -rf "$base" "${tmp:-}"
    q -d postgres -c "DROP DATABASE IF EXISTS $coord" -c "DROP DATABASE IF EXISTS $single" >/dev/null 2>&1 || true
}
trap stop_shards EXIT
setup=$(SCALE_OUT_SETUP_ONLY=1 SCALE_OUT_SHARDS=$NSHARDS bash test/shell/scale_out.sh)
tmp=$(sed -n 's/^shards in .*, tmp //p' <<<"$setup")
[ -d "$tmp" ] || fail "scale_out.sh setup: $setup"

# The data has what the rules need: own provider fields, a flat (home) day, both shards' users.
[ "$(q -At -d $single -c "SELECT count(*) > 0 FROM daily_usage_cache, jsonb_each(aggregated_by_model) m WHERE m.value ? 'provider'")" = t ] \
    || fail "no model with its own provider field"

python3 - "$tmp/calls.sql" <<'PY'
import sys, hashlib, uuid, json
uid = lambda u: str(uuid.UUID(hashlib.md5(f"litemaas-user{u}".encode()).hexdigest()))
# whole months (rollups), partial months, a range whose comparison period has no cached day
# (02-27..), the flat day alone, one day, a range with no cached day, a wide range.
ranges = [("2025-02-27", "2025-05-09"), ("2025-03-01", "2025-03-31"), ("2025-04-01", "2025-04-30"),
          ("2025-03-05", "2025-04-17"), ("2025-02-27", "2025-02-28"), ("2025-04-30", "2025-04-30"),
          ("2025-03-14", "2025-03-15"), ("2025-06-01", "2025-06-30"), ("2025-01-01", "2025-12-31")]
filters = [{}, {"userIds": []},
           {"userIds": [uid(1), uid(4), uid(7), "alice"]},
           {"modelIds": ["gpt-4o", "mistral-7b-instruct"]},
           {"apiKeyIds": ["team-shared", "u2-laptop", "u5-ci"]},
           {"providerIds": ["openai"]},
           {"providerIds": ["anthropic", "meta-llama", "unknown"]},
           {"userIds": [uid(2), uid(3), uid(5), uid(6)], "modelIds": ["openai/gpt-4o-mini", "claude-3-5-sonnet", "granite-3.1-8b-instruct"]},
           {"modelIds": ["meta-llama/Llama-3.1-8B-Instruct", "gemini-1.5-pro"], "apiKeyIds": ["team-shared", "u1-laptop", "u4-laptop"]},
           {"userIds": [uid(1), uid(2), uid(8)], "apiKeyIds": ["team-shared"], "providerIds": ["openai", "google"]},
           {"userIds": ["00000000-0000-0000-0000-000000000000"]},
           {"modelIds": ["no-such-model"]}]
with open(sys.argv[1], "w") as f:
    for s, e in ranges:
        for flt in filters:
            doc = json.dumps(flt)
            f.write(f"SELECT 'dashboard {s} {e} {doc}' AS call;\n")
            f.write(f"SELECT ducache_dashboard('{s}', '{e}', '{doc}')::text;\n")
        f.write(f"SELECT ducache_dashboard('{s}', '{e}')::text;\n")   # the default filters
        f.write(f"SELECT 'filter_options {s} {e}' AS call;\n")
        f.write(f"SELECT ducache_filter_options('{s}', '{e}')::text;\n")
PY
q -At -d $single -f "$tmp/calls.sql" >"$tmp/single.out"
start=$(date +%s.%N)
q -At -d $coord -f "$tmp/calls.sql" >"$tmp/coord.out"
echo "coordinator: $(grep -c '' "$tmp/calls.sql") statements in $(echo "$(date +%s.%N) - $start" | bc) s"
# The comparison means something: documents with users, with trends against a previous
# period, empty ones, and filter options with users.
grep -q '"totalUsers": [1-9]' "$tmp/single.out" || fail "no dashboard with users"
grep -q '"previous": [1-9]' "$tmp/single.out" || fail "no dashboard with a previous period"
grep -q '"totalUsers": 0' "$tmp/single.out" || fail "no empty dashboard"
grep -q '"users": \[{' "$tmp/single.out" || fail "no filter options with users"
[ "$(grep -c '"topUser": {' "$tmp/single.out")" -gt 20 ] || fail "too few documents with a top user"
if ! diff "$tmp/single.out" "$tmp/coord.out" >"$tmp/diff"; then
    awk 'NR==FNR {a[FNR] = $0; next} {if (a[FNR] != $0) {print "differs after: " c; exit} if ($0 ~ /^(dashboard|filter_options) /) c = $0}' \
        "$tmp/single.out" "$tmp/coord.out"
    head -c 3000 "$tmp/diff"; fail "coordinator differs from the single node"
fi

# The local refusals, raised on the coordinator too (before any shard is asked).
for call in "ducache_dashboard('2025-03-05', '2025-03-01')" "ducache_dashboard('2025-03-01', '2025-03-05', '[]')" \
            "ducache_dashboard('2025-03-01', '2025-03-05', '{\"userId\": []}')" \
            "ducache_dashboard('2025-03-01', '2025-03-05', '{\"modelIds\": [1]}')" \
            "ducache_filter_options('2025-03-01', 'infinity')" "ducache_filter_options('2025-03-05', '2025-03-01')"; do
    a=$(q -d $single -c "\set VERBOSITY verbose" -c "SELECT $call" 2>&1 | grep -v '^LOCATION' || true)
    b=$(q -d $coord -c "\set VERBOSITY verbose" -c "SELECT $call" 2>&1 | grep -v '^LOCATION' || true)
    grep -q '^ERROR:  22' <<<"$a" || fail "$call on the single node: $a"
    [ "$a" = "$b" ] || fail "$call: single node '$a', coordinator '$b'"
done

# The plan: one whole aggregate pushed to each shard, the shards asked concurrently.
for req in '{"kind": "dashboard", "start": "2025-03-01", "end": "2025-03-31", "filters": {}}' '{"kind": "filter_options", "start": "2025-03-01", "end": "2025-03-31"}'; do
    plan=$(q -At -d $coord -c "SET enable_partitionwise_aggregate = on" -c "EXPLAIN (VERBOSE, COSTS OFF)
        SELECT ducache_shard_partial_bin(date, '$req') FROM ducache_shard_0 WHERE date BETWEEN '2025-01-29' AND '2025-03-31'
        UNION ALL SELECT ducache_shard_partial_bin(date, '$req') FROM ducache_shard_1 WHERE date BETWEEN '2025-01-29' AND '2025-03-31'")
    echo "$plan" >"$tmp/plan"
    [ "$(grep -c 'Async Foreign Scan' "$tmp/plan")" = 2 ] || { cat "$tmp/plan"; fail "not two Async Foreign Scans"; }
    [ "$(grep -c 'Relations: Aggregate on' "$tmp/plan")" = 2 ] || { cat "$tmp/plan"; fail "aggregates not pushed down"; }
    grep -q 'Remote SQL: SELECT .*ducache_shard_partial_bin(date' "$tmp/plan" || { cat "$tmp/plan"; fail "no remote aggregate"; }
done
# What a shard returns is its binary partial (header "DUCP", version 1), KBs, never the rows.
for k in 0 1; do
    hdr=$(PGHOST=$base/run PGPORT=$((DUCACHE_PGPORT + 11 + k)) q -At -d ducache_shard -c "SELECT encode(substr(ducache_dashboard_partial('2025-03-01', '2025-03-31', '{}', NULL, false), 1, 5), 'hex')")
    [ "$hdr" = 4455435001 ] || fail "shard $k's partial header: $hdr"
done
# The partial's final function refuses to run on a coordinator (it would ask the shards again).
out=$(q -d $coord -c "\set VERBOSITY sqlstate" -c "SELECT ducache_shard_partial_bin_final('{\"kind\": \"filter_options\", \"start\": \"2025-03-01\", \"end\": \"2025-03-31\"}')" 2>&1 || true)
[ "$out" = "ERROR:  55000" ] || fail "the final function on a coordinator: $out"

# A shard that is down: a class-08 ERROR naming its server, no document.
as_owner "$PGBIN/pg_ctl" -D "$base/shard1" -m fast stop >/dev/null
for call in "ducache_dashboard('2025-03-01', '2025-03-31')" "ducache_dashboard('2025-03-01', '2025-03-31', '{\"providerIds\": [\"openai\"]}')" \
            "ducache_filter_options('2025-03-01', '2025-03-31')"; do
    out=$(q -At -d $coord -c "\set VERBOSITY verbose" -c "SELECT $call" 2>&1 || true)
    grep -q '^ERROR:  08' <<<"$out" || fail "$call with shard 1 down: not a class-08 error: $out"
    grep -q '"s1"' <<<"$out" || fail "$call with shard 1 down: the error does not name s1: $out"
    ! grep -q '^{' <<<"$out" || fail "$call with shard 1 down returned a document"
done
echo "scale_out_dashboard: ok ($NSHARDS shards)"
