#!/usr/bin/env bash
# Scale-out (CONTRACT §8, docs/scale-out.md): a coordinator over shards of their own (clusters
# started here on Unix sockets, ports DUCACHE_PGPORT+11..) answers every coordinator-aware read,
# for many ranges x filters, text-equal and in order to one node holding the same days. The
# shards are loaded by the plain-SQL split (test/reference/shard_split.sql) of the single
# node's rows. Then the failure cases: a stopped shard (class-08 ERROR naming it, no rows),
# statement_timeout with a shard that hangs; and the plan: Async Foreign Scans, each with a
# whole pushed-down aggregate. Needs the cluster scripts/test.sh started (PG* variables).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
export PGOPTIONS="-c client_min_messages=warning"
NSHARDS=${SCALE_OUT_SHARDS:-2}
USERS=${SCALE_OUT_USERS:-24}
DAYS=${SCALE_OUT_DAYS:-70}
base=$DUCACHE_SANDBOX/scale_out
single=ducache_so_single coord=ducache_so_coord shard_db=ducache_shard
fail() { echo "FAIL: $*" >&2; exit 1; }
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
source test/shell/lib/shards.sh

stop_shards() {
    shards_stop
    [ -n "${locker:-}" ] && kill "$locker" 2>/dev/null || true
    rm -rf "${tmp:-}"
}
trap stop_shards EXIT
stop_shards
tmp=$(mktemp -d); chmod 755 "$tmp"

# The single node: LiteMaaS-shaped days over three months (whole months get rollups).
q -d postgres -c "DROP DATABASE IF EXISTS $single" -c "DROP DATABASE IF EXISTS $coord" -c "CREATE DATABASE $single" -c "CREATE DATABASE $coord"
q -d $single -c "CREATE EXTENSION ducache" -f test/reference/litemaas_gen.sql -f test/reference/shard_split.sql -f - <<SQL
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics)
SELECT g.* FROM generate_series(0, $DAYS - 1) AS d, LATERAL litemaas_ref.gen_day($USERS, d, date '2025-03-01', false) AS g;
-- A flat (seed-shape) day and a day of no users, to exercise the home rule.
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics) VALUES
  ('2025-02-27', '{"alice": {"totalRequests": 3, "totalTokens": 30, "promptTokens": 20, "completionTokens": 10, "totalCost": 0.5},
                   "bob": {"totalRequests": 1, "totalTokens": 5, "promptTokens": 4, "completionTokens": 1, "totalCost": 0.25}}',
                  '{"gpt-4o": {"totalRequests": 4, "totalTokens": 35, "promptTokens": 24, "completionTokens": 11, "totalCost": 0.75}}',
                  '{"openai": {"totalRequests": 4, "totalTokens": 35, "totalCost": 0.75}}', '{"totalRequests": 4}'),
  ('2025-02-28', '{}', '{}', '{}', NULL);
-- Identity from a users table (kept on every shard too: docs/scale-out.md), names unlike the entries'.
CREATE TABLE users AS SELECT id, upper(username) AS username, email, roles FROM litemaas_ref.gen_users($USERS) WHERE username <> 'user3';
SQL
q -d $single -c "\copy users TO '$tmp/users.tsv'"
# The shards: clusters of their own, each loaded with its part of every day.
shards_start 64MB
for k in $(seq 0 $((NSHARDS - 1))); do
    sq "$k" -c "CREATE TABLE users (id uuid, username text, email text, roles text[])" -c "\copy users FROM '$tmp/users.tsv'"
done
shards_load_split $single "$tmp"
for k in $(seq 0 $((NSHARDS - 1))); do sq "$k" -c "SELECT count(*) FROM ducache_refresh_rollups('2025-01-01', '2025-12-31')" >/dev/null; done
q -d $single -c "SELECT count(*) FROM ducache_refresh_rollups('2025-01-01', '2025-12-31')" >/dev/null
# Every user on exactly one shard, every day on every shard (the split's own invariants).
users_total=$(q -At -d $single -c "SELECT count(*) FROM daily_usage_cache, jsonb_object_keys(aggregated_by_user)")
users_shards=0
for k in $(seq 0 $((NSHARDS - 1))); do
    n=$(sq "$k" -At -c "SELECT count(*) FROM daily_usage_cache, jsonb_object_keys(aggregated_by_user)")
    [ "$n" -gt 0 ] || fail "shard $k got no users"
    users_shards=$((users_shards + n))
    [ "$(sq "$k" -At -c "SELECT count(*) FROM daily_usage_cache")" = "$(q -At -d $single -c "SELECT count(*) FROM daily_usage_cache")" ] || fail "shard $k lacks days"
done
[ "$users_shards" = "$users_total" ] || fail "user entries: shards $users_shards, single node $users_total"

# The coordinator: standard postgres_fdw DDL, then ducache_add_shards.
shards_attach $coord
servers=$(seq -s, -f "s%.0f" 0 $((NSHARDS - 1)))
q -d $coord -c "SELECT ducache_add_shards('{$servers}')" >/dev/null   # re-running: a re-check
out=$(q -d $coord -c "SELECT ducache_add_shards('{s0}')" 2>&1) && fail "other shards accepted"
grep -q "already has shards" <<<"$out" || fail "other shards: $out"

# ducache_add_shards refuses what cannot work, naming the server (on a second coordinator).
sq 0 -c "CREATE DATABASE ducache_old"
PGHOST=$base/run PGPORT=$(shard_port 0) q -d ducache_old -c "CREATE EXTENSION ducache VERSION '0.3.0'"
q -d postgres -c "DROP DATABASE IF EXISTS ${coord}2" -c "CREATE DATABASE ${coord}2"
q -d ${coord}2 -c "CREATE EXTENSION ducache" -c "CREATE EXTENSION postgres_fdw" \
  -c "CREATE SERVER s_old FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$base/run', port '$(shard_port 0)', dbname 'ducache_old', extensions 'ducache')" \
  -c "CREATE SERVER s_noext FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$base/run', port '$(shard_port 0)', dbname '$shard_db')" \
  -c "CREATE SERVER s_down FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$base/run', port '$((DUCACHE_PGPORT + 19))', dbname '$shard_db', extensions 'ducache')" \
  -c "CREATE USER MAPPING FOR CURRENT_USER SERVER s_old OPTIONS (user 'postgres')" \
  -c "CREATE USER MAPPING FOR CURRENT_USER SERVER s_noext OPTIONS (user 'postgres')" \
  -c "CREATE USER MAPPING FOR CURRENT_USER SERVER s_down OPTIONS (user 'postgres')"
for case in "s_old|08004|ducache 0.3.0" "s_noext|55000|extensions option" "s_down|08001|\"s_down\"" "no_such|42704|\"no_such\""; do
    IFS='|' read -r srv code text <<<"$case"
    out=$(q -d ${coord}2 -c "\set VERBOSITY verbose" -c "SELECT ducache_add_shards('{$srv}')" 2>&1 || true)
    grep -q "^ERROR:  $code" <<<"$out" && grep -qF "$text" <<<"$out" || fail "ducache_add_shards($srv): $out"
done
[ "$(q -At -d ${coord}2 -c "SELECT count(*) FROM ducache_shards")" = 0 ] || fail "a refused ducache_add_shards recorded shards"
q -d postgres -c "DROP DATABASE ${coord}2"
sq 0 -c "DROP DATABASE ducache_old"

# SCALE_OUT_SETUP_ONLY=1: leave the clusters running here, for a look by hand.
[ -n "${SCALE_OUT_SETUP_ONLY:-}" ] && { trap - EXIT; echo "shards in $base, tmp $tmp"; exit 0; }

# Every function x ranges x filters, text-equal and in order.
python3 - "$tmp/calls.sql" <<'PY'
import sys, hashlib, uuid
uid = lambda u: str(uuid.UUID(hashlib.md5(f"litemaas-user{u}".encode()).hexdigest()))
ranges = [("2025-02-27", "2025-05-09"), ("2025-03-01", "2025-03-31"), ("2025-03-05", "2025-04-17"),
          ("2025-02-27", "2025-02-28"), ("2025-04-30", "2025-04-30"), ("2025-03-14", "2025-03-15"),
          ("2025-06-01", "2025-06-30"), ("2025-01-01", "2025-12-31")]
filters = ["NULL, NULL, NULL", "'{}', '{}', '{}'",
           f"ARRAY['{uid(1)}', '{uid(4)}', '{uid(7)}', 'alice'], NULL, NULL",
           "NULL, ARRAY['gpt-4o', 'mistral-7b-instruct'], NULL",
           "NULL, NULL, ARRAY['team-shared', 'u2-laptop', 'u5-ci']",
           f"ARRAY['{uid(2)}', '{uid(3)}', '{uid(5)}', '{uid(6)}'], ARRAY['openai/gpt-4o-mini', 'claude-3-5-sonnet', 'granite-3.1-8b-instruct'], NULL",
           "NULL, ARRAY['meta-llama/Llama-3.1-8B-Instruct', 'gemini-1.5-pro'], ARRAY['team-shared', 'u1-laptop', 'u4-laptop']",
           "ARRAY['00000000-0000-0000-0000-000000000000'], NULL, NULL",
           "NULL, ARRAY['no-such-model'], NULL"]
fns = ["user_breakdown", "model_breakdown", "provider_breakdown", "analytics", "daily_trend",
       "user_model_breakdown", "api_key_breakdown"]
with open(sys.argv[1], "w") as f:
    for fn in fns:
        for s, e in ranges:
            for flt in filters:
                f.write(f"SELECT '{fn} {s} {e} {flt.replace(chr(39), '')}' AS call;\n")
                f.write(f"SELECT t::text FROM ducache_{fn}('{s}', '{e}', {flt}) t;\n")
    f.write("SELECT t::text FROM ducache_user_breakdown('2025-03-01', '2025-03-31') t;\n")   # the 0.1 calls
    f.write("SELECT t::text FROM ducache_analytics(NULL, '2025-03-31') t;\n")
    f.write("SELECT t::text FROM ducache_model_breakdown('2025-03-01', NULL) t;\n")
PY
q -At -d $single -f "$tmp/calls.sql" >"$tmp/single.out"
start=$(date +%s.%N)
q -At -d $coord -f "$tmp/calls.sql" >"$tmp/coord.out"
echo "coordinator: $(grep -c '' "$tmp/calls.sql") statements in $(echo "$(date +%s.%N) - $start" | bc) s"
[ "$(grep -c '' "$tmp/single.out")" -gt 2000 ] || fail "too few result lines: $(grep -c '' "$tmp/single.out")"
if ! diff "$tmp/single.out" "$tmp/coord.out" >"$tmp/diff"; then
    # Which calls differ (the line before each differing block names its call).
    paste -d'|' "$tmp/single.out" "$tmp/coord.out" | awk -F'|' '$1 ~ /^(user|model|provider|analytics|daily|api)/ {c = $1} $1 != $2 {print c}' | sort | uniq -c | head -30
    head -20 "$tmp/diff"; fail "coordinator differs from the single node"
fi

# Errors the local reads raise, raised on the coordinator too.
for call in "ducache_user_breakdown('2025-03-05', '2025-03-01')" "ducache_daily_trend('infinity', '2025-03-01')" \
            "ducache_model_breakdown('2025-03-01', '2025-03-05', ARRAY[NULL]::text[])"; do
    a=$(q -d $single -c "\set VERBOSITY sqlstate" -c "SELECT * FROM $call" 2>&1 || true)
    b=$(q -d $coord -c "\set VERBOSITY sqlstate" -c "SELECT * FROM $call" 2>&1 || true)
    [ "$a" = "$b" ] || fail "$call: single node '$a', coordinator '$b'"
done
# Not coordinator-aware: a clear ERROR, never the empty local table's answer. (The dashboard
# and filter options answer: scale_out_dashboard.sh.)
for call in "ducache_rebuild('2025-03-01', '2025-03-31')"; do
    out=$(q -d $coord -c "\set VERBOSITY sqlstate" -c "SELECT $call" 2>&1 || true)
    [ "$out" = "ERROR:  0A000" ] || fail "$call on a coordinator: $out"
done

# The plan: one whole aggregate pushed to each shard, the shards asked concurrently.
plan=$(q -At -d $coord -c "SET enable_partitionwise_aggregate = on" -c "EXPLAIN (VERBOSE, COSTS OFF)
    SELECT ducache_shard_partial_bin(date, '{\"kind\": \"user\", \"start\": \"2025-03-01\", \"end\": \"2025-03-31\"}') FROM ducache_shard_0 WHERE date BETWEEN '2025-03-01' AND '2025-03-31'
    UNION ALL SELECT ducache_shard_partial_bin(date, '{\"kind\": \"user\", \"start\": \"2025-03-01\", \"end\": \"2025-03-31\"}') FROM ducache_shard_1 WHERE date BETWEEN '2025-03-01' AND '2025-03-31'")
echo "$plan" >"$tmp/plan"
[ "$(grep -c 'Async Foreign Scan' "$tmp/plan")" = 2 ] || { cat "$tmp/plan"; fail "not two Async Foreign Scans"; }
[ "$(grep -c 'Relations: Aggregate on' "$tmp/plan")" = 2 ] || { cat "$tmp/plan"; fail "aggregates not pushed down"; }
grep -q 'Remote SQL: SELECT .*ducache_shard_partial_bin(date' "$tmp/plan" || { cat "$tmp/plan"; fail "no remote aggregate"; }

# A shard that hangs (its table locked): statement_timeout ends the call (57014), no rows.
PGHOST=$base/run PGPORT=$(shard_port 1) psql -X -q -d $shard_db -c "BEGIN" -c "LOCK daily_usage_cache IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(30)" >/dev/null 2>&1 &
locker=$!
sleep 1
t0=$(date +%s)
out=$(q -d $coord -c "SET statement_timeout = '2s'" -c "\set VERBOSITY sqlstate" -c "SELECT * FROM ducache_user_breakdown('2025-03-01', '2025-03-31')" 2>&1 || true)
[ "$out" = "ERROR:  57014" ] || fail "statement_timeout with a hanging shard: $out"
[ $(( $(date +%s) - t0 )) -le 8 ] || fail "statement_timeout not honoured promptly"
kill "$locker" 2>/dev/null || true; wait "$locker" 2>/dev/null || true; locker=

# A shard that is down: a class-08 ERROR naming its server, no rows.
as_owner "$PGBIN/pg_ctl" -D "$base/shard1" -m fast stop >/dev/null
for call in "ducache_user_breakdown('2025-03-01', '2025-03-31')" "ducache_analytics('2025-03-01', '2025-03-31')" \
            "ducache_daily_trend('2025-03-01', '2025-03-31', NULL, ARRAY['gpt-4o'])"; do
    out=$(q -At -d $coord -c "\set VERBOSITY verbose" -c "SELECT count(*) FROM $call" 2>&1 || true)
    grep -q '^ERROR:  08' <<<"$out" || fail "$call with shard 1 down: not a class-08 error: $out"
    grep -q '"s1"' <<<"$out" || fail "$call with shard 1 down: the error does not name s1: $out"
    ! grep -q '^[0-9]' <<<"$out" || fail "$call with shard 1 down returned rows"
done
# A shard that dies in the middle of a call.
as_owner "$PGBIN/pg_ctl" -D "$base/shard1" -l "$base/shard1.log" -w start >/dev/null
( sleep 1; as_owner "$PGBIN/pg_ctl" -D "$base/shard1" -m immediate stop >/dev/null ) &
out=$(q -At -d $coord -c "\set VERBOSITY verbose" -c "DO \$\$ BEGIN FOR i IN 1 .. 600 LOOP
    PERFORM count(*) FROM ducache_user_breakdown('2025-01-01', '2025-12-31'); PERFORM pg_sleep(0.01); END LOOP; END \$\$" 2>&1 || true)
wait
grep -q '^ERROR:  08' <<<"$out" || fail "a shard dying mid-call: not a class-08 error: $out"
grep -q '"s1"' <<<"$out" || fail "a shard dying mid-call: the error does not name s1: $out"

# A shard that dies after it answered, while the other still works: postgres_fdw has its
# answer and fails on a later step (CLOSE of its cursor). Shard 1 is held by a lock, shard 0
# answers and is then stopped; the call must still fail naming s0, with no rows.
as_owner "$PGBIN/pg_ctl" -D "$base/shard1" -l "$base/shard1.log" -w start >/dev/null
PGHOST=$base/run PGPORT=$(shard_port 1) psql -X -q -d $shard_db -c "BEGIN" -c "LOCK daily_usage_cache IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep(4)" >/dev/null 2>&1 &
locker=$!
sleep 1
q -At -d $coord -c "\set VERBOSITY verbose" -c "SELECT count(*) FROM ducache_user_breakdown('2025-03-01', '2025-03-31')" >"$tmp/late.out" 2>&1 &
caller=$!
sleep 1.5
as_owner "$PGBIN/pg_ctl" -D "$base/shard0" -m immediate stop >/dev/null
wait "$caller" || true
wait "$locker" 2>/dev/null || true; locker=
out=$(cat "$tmp/late.out")
grep -q '^ERROR:  08' <<<"$out" || fail "a shard dying after it answered: not a class-08 error: $out"
grep -q '"s0"' <<<"$out" || fail "a shard dying after it answered: the error does not name s0: $out"
! grep -q '^[0-9]' <<<"$out" || fail "a shard dying after it answered: rows returned: $out"

q -d postgres -c "DROP DATABASE $coord" -c "DROP DATABASE $single"
echo "scale_out: ok ($NSHARDS shards, $USERS users x $DAYS days)"
