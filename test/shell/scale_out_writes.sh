#!/usr/bin/env bash
# Writes through a coordinator (CONTRACT §8, docs/scale-out-writes.md): ducache_batch_upsert on
# a coordinator over two shards (clusters of their own, and the coordinator on a cluster of its
# own, so its crash tests touch nothing else; Unix sockets, ports DUCACHE_PGPORT+21..+23).
#  * every shard then holds exactly what the plain-SQL split (test/reference/shard_split.sql) of
#    the same days stored on one node gives, row by row, every column but the timestamp;
#  * actions (inserted / updated / unchanged, in date order) equal one node's for the same calls;
#  * a shard that refuses (a trigger raising at write time, a deferred one raising at PREPARE),
#    a slow shard under statement_timeout, a stopped shard, a shard without
#    max_prepared_transactions: an ERROR naming it (its SQLSTATE, 57014, 08001, 55000) and no
#    shard changed, no prepared transaction left;
#  * the coordinator crashing after PREPARE (rolled back by ducache_resolve_shards()) and after
#    its commit but before COMMIT PREPARED (committed by it).
# Needs the cluster scripts/test.sh started (PG* variables) for the single node, and a build
# with DUCACHE_TEST_HOOKS=1 (the crash points).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
export PGOPTIONS="-c client_min_messages=warning"
base=$DUCACHE_SANDBOX/scale_out_writes
single=ducache_sow_single shard_db=ducache_shard coord=ducache_coord
fail() { echo "FAIL: $*" >&2; exit 1; }
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
port() { echo $((DUCACHE_PGPORT + 21 + $1)); }   # 0, 1: the shards; 2: the coordinator
sq() { local k=$1; shift; PGHOST=$base/run PGPORT=$(port "$k") q -d $shard_db "$@"; }
cq() { PGHOST=$base/run PGPORT=$(port 2) q -d $coord "$@"; }
ctl() { as_owner "$PGBIN/pg_ctl" -D "$base/c$1" -l "$base/c$1.log" -w "${@:2}" >/dev/null; }

stop_all() {
    for k in 0 1 2; do as_owner "$PGBIN/pg_ctl" -D "$base/c$k" -m immediate stop >/dev/null 2>&1 || true; done
    rm -rf "$base" "${tmp:-}"
}
trap stop_all EXIT
stop_all
mkdir -p "$base/run"; tmp=$(mktemp -d); chmod 755 "$tmp"
if [ "$(id -u)" = 0 ]; then chown "$(pg_owner)" "$base" "$base/run"; fi
start=$(date +%s)

# The days, on one node: LiteMaaS-shaped (cell-split days, and home days: flat entries, a
# non-empty provider object), a flat day, a day without users.
# batch 1: 14 days; batch 2: the same days, 4 of them changed, one new; batch 3: new days.
q -d postgres -c "DROP DATABASE IF EXISTS $single" -c "CREATE DATABASE $single"
q -d $single -c "CREATE EXTENSION ducache" -f test/reference/litemaas_gen.sql -f test/reference/shard_split.sql -f - <<'SQL'
CREATE TABLE days AS
SELECT 1 AS batch, g.*, d % 6 <> 5 AS is_complete
FROM generate_series(0, 13) AS d, LATERAL litemaas_ref.gen_day(30, d, date '2025-03-01', true) AS g;
INSERT INTO days VALUES
  (1, '2025-02-27', '{"date": "2025-02-27"}',
   '{"alice": {"totalRequests": 3, "totalTokens": 30, "totalCost": 0.5}, "bob": {"totalRequests": 1, "totalCost": 0.25}}',
   '{"gpt-4o": {"totalRequests": 4, "totalTokens": 35, "totalCost": 0.75}}',
   '{"openai": {"totalRequests": 4, "totalCost": 0.75}}', '{"totalRequests": 4}', true),
  (1, '2025-02-28', '{}', '{}', '{}', '{}', NULL, true);
INSERT INTO days
SELECT 2, g.*, true FROM generate_series(0, 14) AS d,
       LATERAL litemaas_ref.gen_day(CASE WHEN d >= 10 THEN 31 ELSE 30 END, d, date '2025-03-01', true) AS g;
UPDATE days SET is_complete = d1.is_complete FROM days d1 WHERE days.batch = 2 AND d1.batch = 1 AND d1.date = days.date;
INSERT INTO days SELECT 3, g.*, true FROM generate_series(31, 33) AS d, LATERAL litemaas_ref.gen_day(12, d, date '2025-03-01', true) AS g;
CREATE FUNCTION write_batch(b int) RETURNS TABLE (date date, action text) LANGUAGE sql AS $$
  SELECT r.* FROM (SELECT array_agg(date ORDER BY date DESC) AS d, array_agg(raw_data ORDER BY date DESC) AS r,
                          array_agg(aggregated_by_user ORDER BY date DESC) AS u, array_agg(aggregated_by_model ORDER BY date DESC) AS m,
                          array_agg(aggregated_by_provider ORDER BY date DESC) AS p, array_agg(total_metrics ORDER BY date DESC) AS t,
                          array_agg(is_complete ORDER BY date DESC) AS c FROM days WHERE batch = b) AS a,
                  LATERAL ducache_batch_upsert(a.d, a.r, a.u, a.m, a.p, a.t, a.c) AS r
$$;
SQL
q -d $single -c "\copy days TO '$tmp/days.tsv'"
q -d $single -At -c "SELECT count(*) FILTER (WHERE shard_split.is_cell_split(aggregated_by_user, aggregated_by_model, aggregated_by_provider)), count(*) FROM days" >"$tmp/kinds"
echo "days (cell-split, all): $(cat "$tmp/kinds")"

# Two shards with max_prepared_transactions, and the coordinator.
for k in 0 1 2; do
    init_cluster "$base/c$k" "$base/run" "$(port "$k")" 32MB
    echo "max_prepared_transactions = 10" | as_owner tee -a "$base/c$k/postgresql.conf" >/dev/null
    ctl "$k" start
done
for k in 0 1; do
    PGHOST=$base/run PGPORT=$(port "$k") q -d postgres -c "CREATE DATABASE $shard_db"
    sq "$k" -c "CREATE EXTENSION ducache"
done
PGHOST=$base/run PGPORT=$(port 2) q -d postgres -c "CREATE DATABASE $coord"
cq -f - <<SQL
CREATE EXTENSION ducache;
CREATE EXTENSION postgres_fdw;
CREATE SERVER s0 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$base/run', port '$(port 0)', dbname '$shard_db', extensions 'ducache');
CREATE SERVER s1 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$base/run', port '$(port 1)', dbname '$shard_db', extensions 'ducache');
CREATE USER MAPPING FOR CURRENT_USER SERVER s0 OPTIONS (user 'postgres');
CREATE USER MAPPING FOR CURRENT_USER SERVER s1 OPTIONS (user 'postgres');
INSERT INTO ducache_shards (shard, server) VALUES (0, 's0'), (1, 's1');
CREATE TABLE days (batch int, date date, raw_data jsonb, aggregated_by_user jsonb, aggregated_by_model jsonb,
                   aggregated_by_provider jsonb, total_metrics jsonb, is_complete boolean);
\copy days FROM '$tmp/days.tsv'
SQL
q -d $single -At -c "SELECT pg_get_functiondef('write_batch(int)'::regprocedure)" | cq

# Every shard equals the reference split of what the single node holds (all columns but the
# write timestamp, as text: jsonb prints canonically, numbers with their scale).
compare_shards() {
    for k in 0 1; do
        q -d $single -At -c "SELECT s.date, s.raw_data, s.aggregated_by_user, s.aggregated_by_model, s.aggregated_by_provider, s.total_metrics, s.is_complete
            FROM daily_usage_cache d, LATERAL shard_split.split_day(2, d.date, d.raw_data, d.aggregated_by_user, d.aggregated_by_model,
                 d.aggregated_by_provider, d.total_metrics, d.cached_at, d.is_complete) s WHERE s.shard = $k ORDER BY s.date" >"$tmp/ref$k"
        sq "$k" -At -c "SELECT date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics, is_complete
            FROM daily_usage_cache ORDER BY date" >"$tmp/got$k"
        diff "$tmp/ref$k" "$tmp/got$k" >"$tmp/diff$k" || { head -c 3000 "$tmp/diff$k"; fail "$1: shard $k differs from the reference split"; }
        [ -s "$tmp/ref$k" ] || fail "$1: empty reference for shard $k"
    done
    echo "$1: both shards equal the reference split ($(wc -l <"$tmp/ref0") + $(wc -l <"$tmp/ref1") rows)"
}
fingerprint() {   # every column of every row of both shards, timestamps included; prepared xacts
    for k in 0 1; do
        sq "$k" -At -c "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY date), '')) FROM daily_usage_cache t"
        sq "$k" -At -c "SELECT count(*) FROM pg_prepared_xacts"
    done | tr '\n' ' '
}

# 1. Writes: the same calls on one node and through the coordinator.
for b in 1 1 2; do
    q -d $single -At -c "SELECT * FROM write_batch($b)" >"$tmp/single_actions"
    cq -At -c "SELECT * FROM write_batch($b)" >"$tmp/coord_actions"
    diff "$tmp/single_actions" "$tmp/coord_actions" || fail "batch $b: actions differ from one node's"
    echo "batch $b: actions as one node: $(cut -d'|' -f2 "$tmp/coord_actions" | sort | uniq -c | tr -s ' \n' ' ')"
done
compare_shards "after batches 1, 1, 2"
[ "$(cq -At -c "SELECT count(*) FROM daily_usage_cache")" = 0 ] || fail "the coordinator stored days itself"

# Batch 3 is written by the failure cases below: each leaves the shards as they were.
before=$(fingerprint)
expect_error() {   # label, expected SQLSTATE, expected text, [psql options...]
    local label=$1 state=$2 text=$3; shift 3
    local out rc=0
    out=$(PGHOST=$base/run PGPORT=$(port 2) psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d $coord "$@" 2>&1) || rc=$?
    [ $rc != 0 ] || fail "$label: no error"
    grep -q "ERROR:  $state:" <<<"$out" || { echo "$out"; fail "$label: not SQLSTATE $state"; }
    grep -q -- "$text" <<<"$out" || { echo "$out"; fail "$label: the message does not say '$text'"; }
    sleep 0.3   # a cancelled shard statement ends asynchronously
    [ -n "${defer_check:-}" ] || [ "$(fingerprint)" = "$before" ] || fail "$label: a shard changed or a prepared transaction was left"
    echo "$label: $(grep ERROR <<<"$out" | head -1)"
}
write3="SELECT count(*) FROM write_batch(3)"

# 2a. A shard whose own upsert fails (a trigger on shard 1): its SQLSTATE, the shard named.
sq 1 -c "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN RAISE EXCEPTION 'shard 1 refuses' USING ERRCODE = '22P05'; END\$\$;
         CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON daily_usage_cache FOR EACH ROW EXECUTE FUNCTION refuse()"
before=$(fingerprint)
expect_error "refusing shard" 22P05 'ducache shard 1 (server "s1"): shard 1 refuses' -c "$write3"
sq 1 -c "DROP TRIGGER refuse ON daily_usage_cache"

# 2b. A shard that fails at PREPARE (a deferred constraint trigger fires then): shard 0 was
#     already prepared and is rolled back.
sq 1 -c "CREATE CONSTRAINT TRIGGER refuse_late AFTER INSERT ON daily_usage_cache DEFERRABLE INITIALLY DEFERRED
         FOR EACH ROW EXECUTE FUNCTION refuse()"
before=$(fingerprint)
expect_error "refusing at prepare" 22P05 'ducache shard 1 (server "s1")' -c "$write3"
sq 1 -c "DROP TRIGGER refuse_late ON daily_usage_cache"

# 2c. A slow shard under statement_timeout: 57014 promptly, the shard's statement cancelled.
sq 1 -c "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN PERFORM pg_sleep(30); RETURN NEW; END\$\$;
         CREATE TRIGGER slow BEFORE INSERT ON daily_usage_cache FOR EACH ROW EXECUTE FUNCTION slow()"
t0=$(date +%s)
expect_error "slow shard" 57014 'statement timeout' -c "SET statement_timeout = '1s'" -c "$write3"
[ $(( $(date +%s) - t0 )) -le 6 ] || fail "statement_timeout was not honoured promptly"
for _ in $(seq 1 50); do
    [ "$(sq 1 -At -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%ducache_batch_upsert%' AND pid <> pg_backend_pid()")" = 0 ] && break
    sleep 0.1
done
[ "$(sq 1 -At -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%ducache_batch_upsert%' AND pid <> pg_backend_pid()")" = 0 ] ||
    fail "the slow shard's statement still runs"
sq 1 -c "DROP TRIGGER slow ON daily_usage_cache"

# 2d. A stopped shard: 08001 naming it.
ctl 1 -m fast stop
defer_check=1 expect_error "stopped shard" 08001 'could not connect to ducache shard 1 (server "s1")' -c "$write3"
ctl 1 start
[ "$(fingerprint)" = "$before" ] || fail "stopped shard: a shard changed"

# 2e. A shard that cannot prepare: 55000 naming it, before anything is written.
ctl 1 -m fast stop
ctl 1 -o "-c max_prepared_transactions=0" start
expect_error "shard without max_prepared_transactions" 55000 'ducache shard 1 (server "s1") cannot prepare' -c "$write3"
ctl 1 -m fast stop
ctl 1 start

# 2f. A metrics field that is a string but no number: the coordinator must sum it (22P02).
expect_error "number string" 22P02 'field "spend"' -c "SELECT * FROM ducache_batch_upsert(ARRAY['2025-05-01']::date[],
    ARRAY['{}']::jsonb[], ARRAY['{\"u1\": {\"metrics\": {\"spend\": \"lots\"}, \"models\": {}}}']::jsonb[], NULL, NULL, ARRAY['{}']::jsonb[])"

# 2g. Rights, as dblink: USAGE on the servers, and a password for non-superusers (the shards
#     here trust local connections, so a mapping without a password must not be enough).
cq -c "CREATE ROLE bob LOGIN" -c "CREATE ROLE eve LOGIN" -c "GRANT SELECT ON days TO bob, eve" \
   -c "GRANT USAGE ON FOREIGN SERVER s0, s1 TO bob" -c "GRANT ALL ON daily_usage_cache TO bob, eve" \
   -c "CREATE USER MAPPING FOR bob SERVER s0 OPTIONS (user 'postgres')" \
   -c "CREATE USER MAPPING FOR bob SERVER s1 OPTIONS (user 'postgres')"
expect_error "non-superuser without a password" 2F003 'password is required to reach ducache shard 0' -U bob -c "$write3"
expect_error "no USAGE on the server" 42501 'permission denied for foreign server s0' -U eve -c "$write3"

# 2h. Transactions: an explicit ROLLBACK undoes the shard writes; a savepoint rolled back over
#     a shard write fails the commit (25000); PREPARE TRANSACTION of the coordinator is refused.
cq -c "BEGIN" -c "$write3" -c "$write3" -c "ROLLBACK" >/dev/null
[ "$(fingerprint)" = "$before" ] || fail "ROLLBACK left shard writes"
echo "ROLLBACK of a transaction with two writes: no shard changed"
expect_error "rolled-back savepoint" 25000 'a rolled-back subtransaction wrote to ducache shards' \
    -c "BEGIN" -c "SAVEPOINT a" -c "$write3" -c "ROLLBACK TO a" -c "COMMIT"
expect_error "PREPARE TRANSACTION on the coordinator" 0A000 'cannot PREPARE a transaction that wrote to ducache shards' \
    -c "BEGIN" -c "$write3" -c "PREPARE TRANSACTION 'x'"

# 3. The coordinator crashes (immediate stop) while paused at a test hook; then the resolver.
crash_at() {   # hook point; waits until the session is paused there, then stops the cluster
    PGHOST=$base/run PGPORT=$(port 2) PGOPTIONS="-c ducache.test_shard_pause=$1" \
        psql -X -q -d $coord -c "$write3" >/dev/null 2>&1 &
    local client=$!
    for _ in $(seq 1 100); do grep -q "ducache test pause: $1" "$base/c2.log" && break; sleep 0.1; done
    grep -q "ducache test pause: $1" "$base/c2.log" || fail "$1: the session never paused"
    sleep 0.5    # the commit record (before_commit_prepared) reaches the OS
    ctl 2 -m immediate stop
    wait $client || true
    [ "$(for k in 0 1; do sq "$k" -At -c "SELECT count(*) FROM pg_prepared_xacts"; done | tr '\n' ' ')" = "1 1 " ] ||
        fail "$1: not one prepared transaction on each shard"
    mv "$base/c2.log" "$base/c2.log.$1"
    ctl 2 start
}
crash_at after_prepare
cq -At -c "SELECT shard, server, action FROM ducache_resolve_shards() ORDER BY shard" >"$tmp/resolved"
[ "$(tr '\n' ' ' <"$tmp/resolved")" = "0|s0|rolled back 1|s1|rolled back " ] || { cat "$tmp/resolved"; fail "after_prepare: not rolled back"; }
[ "$(fingerprint)" = "$before" ] || fail "after_prepare: a shard changed"
[ "$(cq -At -c "SELECT count(*) FROM ducache_shard_xacts")" = 0 ] || fail "after_prepare: decision rows left"
echo "crash after PREPARE: resolver rolled back both shards, no shard changed"

crash_at before_commit_prepared
cq -At -c "SELECT shard, server, action FROM ducache_resolve_shards() ORDER BY shard" >"$tmp/resolved"
[ "$(tr '\n' ' ' <"$tmp/resolved")" = "0|s0|committed 1|s1|committed " ] || { cat "$tmp/resolved"; fail "before_commit_prepared: not committed"; }
[ "$(cq -At -c "SELECT count(*) FROM ducache_shard_xacts")" = 0 ] || fail "before_commit_prepared: decision rows left"
[ -z "$(cq -At -c "SELECT * FROM ducache_resolve_shards()")" ] || fail "a second resolve found work"
q -d $single -At -c "SELECT count(*) FROM write_batch(3)" >/dev/null
compare_shards "crash before COMMIT PREPARED, resolved"
for k in 0 1; do [ "$(sq "$k" -At -c "SELECT count(*) FROM pg_prepared_xacts")" = 0 ] || fail "prepared transactions left"; done

q -d postgres -c "DROP DATABASE $single"
echo "scale_out_writes: ok in $(( $(date +%s) - start )) s"
