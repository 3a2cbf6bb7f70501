#!/usr/bin/env bash
# Scale-out, round 5 (docs/scale-out-speed.md): a coordinator read asks each shard with one
# statement sent directly on its own read connection (no cursor; rounds 5 and 8), and an ERROR while it waits
# leaves nothing behind. Two shards on their own clusters (ports DUCACHE_PGPORT+11..), loaded by
# the plain-SQL split of a single node's rows, which is the reference for every answer:
# * with log_statement = all on a shard, a call in a transaction sends it exactly one statement,
#   the pushed-down aggregate (the test-only gather query path, ducache.test_gather_via_query,
#   sends DECLARE/FETCH/CLOSE: the check can fail);
# * answers equal the single node's, on both paths;
# * statement_timeout and a cancel while a shard is held by a lock end the call (57014), the
#   shard's statement is cancelled too (it no longer waits for the lock), and the same session
#   then answers correctly, also after ROLLBACK TO SAVEPOINT inside one transaction;
# * postgres_fdw's password rule holds: a non-superuser without a password is refused (2F003).
# Needs the cluster scripts/test.sh started (PG* variables).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
export PGOPTIONS="-c client_min_messages=warning"
NSHARDS=2 USERS=16 DAYS=40
base=$DUCACHE_SANDBOX/scale_out_direct
single=ducache_sod_single coord=ducache_sod_coord shard_db=ducache_shard
fail() { echo "FAIL: $*" >&2; exit 1; }
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
source test/shell/lib/shards.sh

stop_shards() {
    [ -n "${locker:-}" ] && kill "$locker" 2>/dev/null || true
    shards_stop
    rm -rf "${tmp:-}"
}
trap stop_shards EXIT
stop_shards
tmp=$(mktemp -d); chmod 755 "$tmp"

q -d postgres -c "DROP DATABASE IF EXISTS $single" -c "DROP DATABASE IF EXISTS $coord" -c "CREATE DATABASE $single" -c "CREATE DATABASE $coord"
q -d $single -c "CREATE EXTENSION ducache" -f test/reference/litemaas_gen.sql -f test/reference/shard_split.sql -c "
INSERT INTO daily_usage_cache (date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics)
SELECT g.* FROM generate_series(0, $DAYS - 1) AS d, LATERAL litemaas_ref.gen_day($USERS, d, date '2025-03-01', false) AS g"
shards_start 64MB
shards_load_split $single "$tmp"
shards_attach $coord

calls=("ducache_user_breakdown('2025-03-01', '2025-04-09')" "ducache_model_breakdown('2025-03-05', '2025-03-20', NULL, ARRAY['gpt-4o'])"
       "ducache_analytics('2025-03-01', '2025-03-31')" "ducache_daily_trend('2025-03-10', '2025-04-02')"
       "ducache_user_model_breakdown('2025-03-01', '2025-04-09')" "ducache_api_key_breakdown('2025-03-02', '2025-03-02')")
# Answers: both paths equal the single node's.
for c in "${calls[@]}"; do
    ref=$(q -At -d $single -c "SELECT t::text FROM $c t")
    [ "$(grep -c '' <<<"$ref")" -gt 0 ] || fail "$c: no reference rows"
    direct=$(q -At -d $coord -c "SELECT t::text FROM $c t")
    [ "$direct" = "$ref" ] || fail "$c: the coordinator differs from the single node"
    old=$(q -At -d $coord -c "SET ducache.test_gather_via_query = on" -c "SELECT t::text FROM $c t")
    [ "$old" = "$ref" ] || fail "$c: the coordinator's gather query path differs from the single node"
done

# Statements per call on shard 0: 5 calls in one transaction (START/COMMIT once).
statements() {   # setting: the statements shard 0 logged for 5 calls
    local log=$base/shard0.log before
    sq 0 -c "ALTER SYSTEM SET log_statement = 'all'" -c "ALTER SYSTEM SET log_line_prefix = '%a|'" -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.3
    before=$(wc -c <"$log")
    q -d $coord -c "SET ducache.test_gather_via_query = $1" -c "BEGIN" \
      -c "SELECT count(*) FROM ducache_daily_trend('2025-03-10', '2025-03-12')" -c "SELECT count(*) FROM ducache_daily_trend('2025-03-10', '2025-03-12')" \
      -c "SELECT count(*) FROM ducache_daily_trend('2025-03-10', '2025-03-12')" -c "SELECT count(*) FROM ducache_daily_trend('2025-03-10', '2025-03-12')" \
      -c "SELECT count(*) FROM ducache_daily_trend('2025-03-10', '2025-03-12')" -c "COMMIT" >/dev/null
    sq 0 -c "ALTER SYSTEM RESET log_statement" -c "ALTER SYSTEM RESET log_line_prefix" -c "SELECT pg_reload_conf()" >/dev/null
    # The coordinator's statements (on postgres_fdw's connection for the gather query, on
    # ducache's own read connection otherwise), less the session settings of a new connection.
    tail -c +$((before + 1)) "$log" | grep -E '^(postgres_fdw|ducache)\|LOG:  (statement|execute [^:]*):' |
        sed -E 's/.*LOG:  (statement|execute [^:]*): //' | grep -v '^SET ' || true
}
new=$(statements off)
[ "$(grep -c '' <<<"$new")" = 7 ] || fail "direct path: not START + 5 statements + COMMIT on shard 0: $new"
[ "$(grep -c 'ducache_shard_partial_bin(date' <<<"$new")" = 5 ] || fail "direct path: not one aggregate per call: $new"
! grep -qE 'DECLARE|FETCH|CLOSE|SAVEPOINT' <<<"$new" || fail "direct path used a cursor: $new"
old=$(statements on)
[ "$(grep -c 'FETCH' <<<"$old")" = 5 ] || fail "the gather query path: not one FETCH a call: $old"

# A shard held by a lock: statement_timeout ends the call, the shard's statement is cancelled
# (no coordinator's backend there waits for the lock any more), then the same session answers.
c="ducache_user_breakdown('2025-03-01', '2025-04-09')"
ref=$(q -At -d $single -c "SELECT t::text FROM $c t")
lock_shard1() { PGHOST=$base/run PGPORT=$(shard_port 1) psql -X -q -d $shard_db -c "BEGIN" -c "LOCK daily_usage_cache IN ACCESS EXCLUSIVE MODE" -c "SELECT pg_sleep($1)" >/dev/null 2>&1; }
lock_shard1 30 &
locker=$!
sleep 1
psql -X -q -At -d $coord -c "\set VERBOSITY sqlstate" -c "SET statement_timeout = '1s'" -c "SELECT t::text FROM $c t" \
     -c "\! PGHOST=$base/run PGPORT=$(shard_port 1) psql -X -At -d $shard_db -c \"SELECT count(*) FROM pg_stat_activity WHERE application_name IN ('postgres_fdw', 'ducache') AND wait_event_type = 'Lock'\" >$tmp/waiting" \
     -c "RESET statement_timeout" -c "\! kill $locker" -c "SELECT 'slept' FROM pg_sleep(1.5)" -c "SELECT t::text FROM $c t" >"$tmp/timeout.out" 2>&1 || true
wait "$locker" 2>/dev/null || true; locker=
[ "$(head -2 "$tmp/timeout.out")" = "$(printf 'ERROR:  57014\nslept')" ] || fail "statement_timeout with a locked shard: $(head -3 "$tmp/timeout.out")"
[ "$(cat "$tmp/waiting")" = 0 ] || fail "the shard's statement was not cancelled: $(cat "$tmp/waiting") still wait for the lock"
[ "$(tail -n +3 "$tmp/timeout.out")" = "$ref" ] || fail "the session after a timeout answers wrong: $(head -5 "$tmp/timeout.out")"
# A cancel inside a transaction: ROLLBACK TO SAVEPOINT, then the same transaction answers.
lock_shard1 4 &
locker=$!
sleep 0.5
( sleep 1.5; q -d $coord -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = '$coord' AND query LIKE '%user_breakdown%/*victim*/%' AND pid <> pg_backend_pid()" >/dev/null ) &
psql -X -q -At -d $coord -c "\set VERBOSITY sqlstate" -c "BEGIN" -c "SAVEPOINT a" -c "SELECT t::text FROM $c t /*victim*/" \
     -c "ROLLBACK TO SAVEPOINT a" -c "SELECT 'slept' FROM pg_sleep(3)" -c "SELECT t::text FROM $c t" -c "COMMIT" >"$tmp/cancel.out" 2>&1 || true
wait
locker=
[ "$(head -2 "$tmp/cancel.out")" = "$(printf 'ERROR:  57014\nslept')" ] || fail "a cancel while a shard is locked: $(head -3 "$tmp/cancel.out")"
[ "$(tail -n +3 "$tmp/cancel.out")" = "$ref" ] || fail "the transaction after a cancel answers wrong: $(head -5 "$tmp/cancel.out")"

# postgres_fdw's password rule: a non-superuser whose user mapping has no password is refused.
q -d $coord -c "DROP ROLE IF EXISTS ducache_sod_reader" -c "CREATE ROLE ducache_sod_reader" \
  -c "CREATE USER MAPPING FOR ducache_sod_reader SERVER s0 OPTIONS (user 'postgres')" \
  -c "CREATE USER MAPPING FOR ducache_sod_reader SERVER s1 OPTIONS (user 'postgres')"
out=$(q -At -d $coord -c "\set VERBOSITY sqlstate" -c "SET ROLE ducache_sod_reader" -c "SELECT count(*) FROM $c" 2>&1 || true)
[ "$out" = "ERROR:  2F003" ] || fail "a non-superuser without a password: $out"

# A shard's own ERROR (not of the connection class): its SQLSTATE and message, as postgres_fdw
# raised it on the gather query path; then, the table back, the same session answers.
sq 1 -c "ALTER TABLE daily_usage_cache RENAME TO daily_usage_cache_away"
for via in off on; do
    psql -X -q -At -d $coord -c "SET ducache.test_gather_via_query = $via" -c "\set SHOW_CONTEXT never" -c "SELECT count(*) FROM $c" -c "\echo :LAST_ERROR_SQLSTATE" \
         -c "\! PGHOST=$base/run PGPORT=$(shard_port 1) psql -X -q -d $shard_db -c 'ALTER TABLE daily_usage_cache_away RENAME TO daily_usage_cache'" \
         -c "SELECT t::text FROM $c t" -c "\! PGHOST=$base/run PGPORT=$(shard_port 1) psql -X -q -d $shard_db -c 'ALTER TABLE daily_usage_cache RENAME TO daily_usage_cache_away'" \
         >"$tmp/remote_$via.out" 2>&1 || true
    [ "$(head -2 "$tmp/remote_$via.out")" = "$(printf '%s\n42P01' 'ERROR:  relation "public.daily_usage_cache" does not exist')" ] ||
        fail "a shard's ERROR (via query $via): $(head -3 "$tmp/remote_$via.out")"
    [ "$(tail -n +3 "$tmp/remote_$via.out")" = "$ref" ] || fail "the session after a shard's ERROR answers wrong (via query $via): $(head -8 "$tmp/remote_$via.out")"
done
sq 1 -c "ALTER TABLE daily_usage_cache_away RENAME TO daily_usage_cache"

# The read connections (pg/read_conns.cpp) are kept across calls and transactions, so each
# transaction must see its own snapshot of the shards: inside one transaction a shard's change
# committed meanwhile is not seen (REPEATABLE READ, as postgres_fdw's), the next transaction
# sees it, and every autocommit call sees what committed before it. Shard 1 loses one day
# (its users' sums change) and gets it back.
sq 1 -c "CREATE TABLE kept_day AS SELECT * FROM daily_usage_cache WHERE date = '2025-03-05'"
psql -X -q -At -d $coord -c "SELECT md5(string_agg(t::text, '|')) FROM $c t" -c "BEGIN" -c "SELECT md5(string_agg(t::text, '|')) FROM $c t" \
     -c "\! PGHOST=$base/run PGPORT=$(shard_port 1) psql -X -q -d $shard_db -c \"DELETE FROM daily_usage_cache WHERE date = '2025-03-05'\"" \
     -c "SELECT md5(string_agg(t::text, '|')) FROM $c t" -c "COMMIT" -c "SELECT md5(string_agg(t::text, '|')) FROM $c t" \
     -c "\! PGHOST=$base/run PGPORT=$(shard_port 1) psql -X -q -d $shard_db -c 'INSERT INTO daily_usage_cache SELECT * FROM kept_day'" \
     -c "SELECT md5(string_agg(t::text, '|')) FROM $c t" >"$tmp/snapshots.out" 2>&1 || true
want=$(q -At -d $single -c "SELECT md5(string_agg(t::text, '|')) FROM $c t")
got=$(paste -sd' ' "$tmp/snapshots.out")
read -r s1 s2 s3 s4 s5 <<<"$got"
[ "$s1" = "$want" ] && [ "$s2" = "$want" ] && [ "$s3" = "$want" ] || fail "a transaction's reads saw a shard's later commit (or answered wrong): $got (want $want)"
[ -n "$s4" ] && [ "$s4" != "$want" ] || fail "the transaction after a shard's change did not see it: $got"
[ "$s5" = "$want" ] || fail "an autocommit call after the day came back answers wrong: $got"
sq 1 -c "DROP TABLE kept_day"
# A changed foreign server closes the kept connection: the next call uses the new options.
good_port=$(shard_port 1) bad_port=$((DUCACHE_PGPORT + 19))
psql -X -q -At -d $coord -c "\set VERBOSITY verbose" -c "SELECT md5(string_agg(t::text, '|')) FROM $c t" \
     -c "ALTER SERVER s1 OPTIONS (SET port '$bad_port')" -c "SELECT md5(string_agg(t::text, '|')) FROM $c t" \
     -c "ALTER SERVER s1 OPTIONS (SET port '$good_port')" -c "SELECT md5(string_agg(t::text, '|')) FROM $c t" >"$tmp/alter.out" 2>&1 || true
[ "$(grep -c "^$want\$" "$tmp/alter.out")" = 2 ] || fail "answers around ALTER SERVER: $(cat "$tmp/alter.out")"
grep -q '^ERROR:  08001' "$tmp/alter.out" && grep -q '"s1"' "$tmp/alter.out" || fail "a server moved to a dead port: not 08001 naming s1: $(cat "$tmp/alter.out")"
# password_required 'false' on the user mapping (postgres_fdw's option, set by a superuser)
# lets a non-superuser read without a password, as through postgres_fdw.
q -d $coord -c "ALTER USER MAPPING FOR ducache_sod_reader SERVER s0 OPTIONS (ADD password_required 'false')" \
  -c "ALTER USER MAPPING FOR ducache_sod_reader SERVER s1 OPTIONS (ADD password_required 'false')"
out=$(q -At -d $coord -c "SET ROLE ducache_sod_reader" -c "SELECT md5(string_agg(t::text, '|')) FROM $c t" 2>&1 || true)
[ "$out" = "$want" ] || fail "a non-superuser with password_required 'false': $out"

q -d $coord -c "DROP USER MAPPING FOR ducache_sod_reader SERVER s0" -c "DROP USER MAPPING FOR ducache_sod_reader SERVER s1" -c "DROP ROLE ducache_sod_reader"
q -d postgres -c "DROP DATABASE $coord" -c "DROP DATABASE $single"
echo "scale_out_direct: ok"
