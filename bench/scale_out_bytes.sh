#!/usr/bin/env bash
# Scale-out (issue 14): the bytes one shard returns for each read over a year of USERS users
# on 2 shards, measured (octet_length of each shard's partial, the bytea postgres_fdw ships;
# on the wire postgres_fdw sends it as hex text, twice that plus 2). Data: LiteMaaS's nested
# shape (test/reference/litemaas_gen.sql), 10 generated days repeated with shifted dates over
# 2025 (as bench/rollup_bench.py does at L: generating 365 distinct days at 10K users takes
# ~1.5 h here), split over 2 shards by the plain-SQL rule (test/reference/shard_split.sql),
# month rollups built on each shard. The shards are clusters of their own (Unix sockets,
# ports DUCACHE_PGPORT+13, +14). Needs the cluster scripts/test.sh or scripts/bench.sh started
# (PG* variables). KEEP=1 leaves the shards running (and reuses them when they are there).
# Usage: bench/scale_out_bytes.sh [USERS] [DAYS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
USERS=${1:-10000} DAYS=${2:-365}
BASE_DAYS=10
base=$DUCACHE_SANDBOX/scale_out_bytes
db=ducache_so_bytes_$USERS shard_db=ducache_shard
port() { echo $((DUCACHE_PGPORT + 13 + $1)); }
sq() { local k=$1; shift; PGHOST=$base/run PGPORT=$(port "$k") psql -X -q -v ON_ERROR_STOP=1 -d $shard_db "$@"; }
stop() { for k in 0 1; do as_owner "$PGBIN/pg_ctl" -D "$base/shard$k" -m fast stop >/dev/null 2>&1 || true; done; }
[ -z "${KEEP:-}" ] && trap 'stop; rm -rf "$base"' EXIT
end=$(psql -X -At -d postgres -c "SELECT date '2025-01-01' + $DAYS - 1")

if [ -f "$base/loaded" ] && [ "$(cat "$base/loaded")" = "$USERS x $DAYS" ]; then
    for k in 0 1; do as_owner "$PGBIN/pg_ctl" -D "$base/shard$k" -l "$base/shard$k.log" -w start >/dev/null 2>&1 || true; done
else
    stop; rm -rf "$base"; mkdir -p "$base/run"; chmod 755 "$base"
    if [ "$(id -u)" = 0 ]; then chown "$(pg_owner)" "$base" "$base/run"; fi
    t0=$(date +%s)
    # The base days, split by the plain-SQL rule (raw_data {}: no read uses it); kept in $db
    # (one per USERS) for a re-run.
    if [ "$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")" = 0 ] ||
       [ "$(psql -X -At -d $db -c "SELECT count(*) FROM pg_tables WHERE tablename = 'split'")" = 0 ]; then
        psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
        psql -X -q -v ON_ERROR_STOP=1 -d $db -f test/reference/litemaas_gen.sql -f test/reference/shard_split.sql -c "
            CREATE TABLE base_days AS SELECT g.* FROM generate_series(0, $BASE_DAYS - 1) AS d,
                LATERAL litemaas_ref.gen_day($USERS, d, date '2025-01-01', false) AS g;
            CREATE TABLE split AS SELECT s.* FROM base_days d, LATERAL shard_split.split_day(2, d.date, d.raw_data,
                d.aggregated_by_user, d.aggregated_by_model, d.aggregated_by_provider, d.total_metrics, now(), true) s"
        echo "generated and split $USERS users x $BASE_DAYS days in $(( $(date +%s) - t0 )) s" >&2
    fi
    for k in 0 1; do
        psql -X -q -d $db -c "\copy (SELECT date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics, cached_at, is_complete FROM split WHERE shard = $k) TO '$base/shard$k.tsv'"
    done
    for k in 0 1; do
        init_cluster "$base/shard$k" "$base/run" "$(port "$k")" 256MB
        as_owner "$PGBIN/pg_ctl" -D "$base/shard$k" -l "$base/shard$k.log" -w start >/dev/null
        PGHOST=$base/run PGPORT=$(port "$k") psql -X -q -d postgres -c "CREATE DATABASE $shard_db"
        # Without the three GIN indexes: a year of 10K-user JSON rows takes them tens of minutes
        # to fill here, and no read uses them (the reads find days by date).
        sq "$k" -c "CREATE EXTENSION ducache" -c "CREATE TABLE base_days (LIKE daily_usage_cache INCLUDING DEFAULTS INCLUDING COMPRESSION)" \
                -c "DROP INDEX idx_daily_usage_cache_user_jsonb, idx_daily_usage_cache_model_jsonb, idx_daily_usage_cache_provider_jsonb"
        sq "$k" -c "\copy base_days (date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics, cached_at, is_complete) FROM '$base/shard$k.tsv'"
        # The base days repeated with shifted dates over the year.
        sq "$k" -c "INSERT INTO daily_usage_cache SELECT date + $BASE_DAYS * r, raw_data, aggregated_by_user, aggregated_by_model,
                        aggregated_by_provider, total_metrics, cached_at, is_complete
                    FROM base_days, generate_series(0, $DAYS / $BASE_DAYS) AS r WHERE date + $BASE_DAYS * r <= '$end'" \
                -c "DROP TABLE base_days" -c "ANALYZE daily_usage_cache"
        rm -f "$base/shard$k.tsv"
        t1=$(date +%s)
        sq "$k" -c "SELECT count(*) FROM ducache_refresh_rollups()" >/dev/null
        echo "shard $k loaded; rollups refreshed in $(( $(date +%s) - t1 )) s" >&2
    done
    echo "$USERS x $DAYS" >"$base/loaded"
fi

uid=$(psql -X -At -d postgres -c "SELECT md5('litemaas-user1')::uuid")
# label | start | end | what the shard's pushed-down aggregate returns for the request (its
# final function calls these; sql/77_shard_partial checks the aggregate equals the call)
y="'2025-01-01', '$end'"
parts=("model breakdown|ducache_shard_read_partial('model', $y)"
       "provider breakdown|ducache_shard_read_partial('provider', $y)"
       "analytics, previous period (summary)|ducache_shard_read_partial('summary', $y)"
       "analytics, current period (summary + top user, every model)|ducache_shard_read_partial('summary_top', $y)"
       "user breakdown (rows)|ducache_shard_read_rows('user', $y)"
       "user x model breakdown (rows)|ducache_shard_read_rows('user_model', $y)"
       "api key breakdown (rows)|ducache_shard_read_rows('api_key', $y)"
       "daily trend (rows)|ducache_shard_read_rows('trend', $y)"
       "model breakdown, one user|ducache_shard_read_partial('model', $y, ARRAY['$uid'])"
       "provider breakdown, model gpt-4o|ducache_shard_read_partial('provider', $y, NULL, ARRAY['gpt-4o'])"
       "user breakdown, model gpt-4o (rows)|ducache_shard_read_rows('user', $y, NULL, ARRAY['gpt-4o'])"
       "dashboard, the year|ducache_dashboard_partial($y, '{}', NULL, false)"
       "dashboard, one month (2025-06)|ducache_dashboard_partial('2025-06-01', '2025-06-30', '{}', NULL, false)"
       "filter options, the year|ducache_filter_options_partial($y)")
echo "## Bytes one shard returns: $USERS users x $DAYS days (2025-01-01 .. $end; $BASE_DAYS generated days repeated), 2 shards"
echo
echo "| read | shard 0 bytes | shard 1 bytes | shard 0 ms | shard 1 ms |"
echo "|---|---:|---:|---:|---:|"
for p in "${parts[@]}"; do
    IFS='|' read -r label expr <<<"$p"
    b=() t=()
    for k in 0 1; do
        out=$(sq "$k" -At -c "SELECT octet_length(ducache_shard_read_partial('summary', '2025-01-01', '2025-01-01'))" \
            -c "SELECT octet_length(p), round(extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000) FROM $expr AS p" | tail -1)
        b+=("${out%%|*}") t+=("${out#*|}")
    done
    printf '| %s | %s | %s | %s | %s |\n' "$label" "${b[0]}" "${b[1]}" "${t[0]}" "${t[1]}"
done
echo
for k in 0 1; do
    sq "$k" -At -c "SELECT 'shard $k: ' || pg_size_pretty(pg_total_relation_size('daily_usage_cache')) || ' table, rollups '
        || pg_size_pretty(pg_total_relation_size('ducache_rollups') + pg_total_relation_size('ducache_rollup_blocks'))
        || ', ' || (SELECT count(DISTINCT u) FROM daily_usage_cache, jsonb_object_keys(aggregated_by_user) u WHERE date < '2025-01-11')
        || ' distinct users, ' || (SELECT sum((SELECT count(*) FROM jsonb_object_keys(aggregated_by_user))) FROM daily_usage_cache) || ' user-days'"
done
