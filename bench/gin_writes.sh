#!/usr/bin/env bash
# Writes and GIN (issue 15): what the three GIN indexes cost the write path, and what their
# `fastupdate` / `gin_pending_list_limit` settings change. Data: bench/raw_data.sql (20 models,
# each user's key in 3 of them) at USERS x DAYS, rebuilt once into LiteMaaS documents. For each
# index configuration, interleaved round by round so machine noise hits all alike:
#   upsert      ducache_batch_upsert of every day into an emptied table (arrays already in the server)
#   rebuild     ducache_rebuild of every day, each day's stored documents reset to '{}' first
#   rebuild nop the same rebuild again: every day `unchanged`, nothing written (the build's own cost)
#   floor same  plain UPDATE writing the same four documents back (+ timestamp): issue 15's floor
#   floor new   plain UPDATE writing the same documents as new values (`|| '{}'`: recompressed)
# After each write, `flush` is the time gin_clean_pending_list() then takes on the three GIN
# indexes: work that fastupdate deferred (VACUUM or autovacuum would do it later).
# Prints: round config op write_ms write_cpu_ms flush_ms wal_MB (one line per measurement;
# cpu = the backend's user+system time, 10 ms ticks).
# Usage: scripts' cluster up (DUCACHE_PGPORT, PGHOST set as scripts/lib.sh pg_env does);
#   bench/gin_writes.sh [USERS] [DAYS] [ROUNDS] [CONFIGS...]
# CONFIGS: default (fastupdate on, 4MB list) | off (fastupdate off) | list64k | list64MB | nogin
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${1:-1000} DAYS=${2:-8} ROUNDS=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
CONFIGS=${*:-default off list64k list64MB nogin}
DB=ducache_bench_gin
export PGOPTIONS="-c client_min_messages=warning"
GIN="idx_daily_usage_cache_user_jsonb idx_daily_usage_cache_model_jsonb idx_daily_usage_cache_provider_jsonb"
GIN_LIST="'idx_daily_usage_cache_user_jsonb', 'idx_daily_usage_cache_model_jsonb', 'idx_daily_usage_cache_provider_jsonb'"
# The backend's CPU time (user + system, ms): steadier than wall-clock on a shared machine.
CPU="(SELECT 10 * (f[12]::bigint + f[13]::bigint) FROM regexp_split_to_array(split_part(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ') ', 2), ' ') AS f)"
SETTINGS="SET ducache.api_keys_table = 'bench.api_keys'; SET ducache.users_table = 'bench.users';"
LAST="date '2025-01-01' + $DAYS - 1"

psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
t0=$(date +%s)
psql -X -q -v ON_ERROR_STOP=1 -d $DB -v users="$USERS" -v days="$DAYS" >/dev/null <<SQL
CREATE EXTENSION ducache;
CREATE SCHEMA bench;
CREATE TABLE bench.users AS SELECT md5('user' || u)::uuid AS id, 'user' || u AS username,
    'user' || u || '@example.com' AS email, ARRAY['user'] AS roles FROM generate_series(1, :users) AS u;
INSERT INTO daily_usage_cache (date, raw_data) SELECT date '2025-01-01' + d, '{}' FROM generate_series(0, :days - 1) AS d;
\i bench/raw_data.sql
$SETTINGS
SELECT count(*) FROM ducache_rebuild('2025-01-01', $LAST);
CREATE TABLE bench.arrays AS
SELECT array_agg(date ORDER BY date) AS d, array_agg(raw_data ORDER BY date) AS r,
       array_agg(aggregated_by_user ORDER BY date) AS u, array_agg(aggregated_by_model ORDER BY date) AS m,
       array_agg(aggregated_by_provider ORDER BY date) AS p, array_agg(total_metrics ORDER BY date) AS t
FROM daily_usage_cache;
VACUUM ANALYZE daily_usage_cache;
SQL
echo "# data: $USERS users x $DAYS days, generated in $(( $(date +%s) - t0 )) s;" \
     "aggregated_by_user $(psql -X -q -d $DB -Atc "SELECT pg_size_pretty(sum(pg_column_size(aggregated_by_user))) FROM daily_usage_cache") compressed" >&2

config() {  # puts the GIN indexes into configuration $1
    local sql=""
    for i in $GIN; do
        sql+="DROP INDEX IF EXISTS $i; "
    done
    if [ "$1" != nogin ]; then
        local with=""
        case $1 in
            default) with="" ;;
            off) with="WITH (fastupdate = off)" ;;
            list64k) with="WITH (gin_pending_list_limit = 64)" ;;
            list64MB) with="WITH (gin_pending_list_limit = 65536)" ;;
            *) echo "unknown config $1" >&2; exit 2 ;;
        esac
        sql+="CREATE INDEX idx_daily_usage_cache_user_jsonb ON daily_usage_cache USING gin (aggregated_by_user) $with;
              CREATE INDEX idx_daily_usage_cache_model_jsonb ON daily_usage_cache USING gin (aggregated_by_model) $with;
              CREATE INDEX idx_daily_usage_cache_provider_jsonb ON daily_usage_cache USING gin (aggregated_by_provider) $with;"
    fi
    psql -X -q -v ON_ERROR_STOP=1 -d $DB -c "$sql" >/dev/null
}

measure() {  # round config op setup-SQL write-SQL
    local out
    psql -X -q -v ON_ERROR_STOP=1 -d $DB <<< "$4" >/dev/null
    out=$(psql -X -q -v ON_ERROR_STOP=1 -d $DB -At <<SQL
$SETTINGS
SELECT pg_current_wal_lsn() AS l0, clock_timestamp() AS t0, $CPU AS c0 \gset
$5
SELECT pg_current_wal_lsn() AS l1, clock_timestamp() AS t1, $CPU AS c1 \gset
SELECT count(gin_clean_pending_list(c.oid)) FROM pg_class c WHERE c.relname IN ($GIN_LIST) \g /dev/null
SELECT round(1000 * extract(epoch FROM :'t1'::timestamptz - :'t0'::timestamptz)) || ' ' || (:c1 - :c0) || ' ' ||
       round(1000 * extract(epoch FROM clock_timestamp() - :'t1'::timestamptz)) || ' ' ||
       round(pg_wal_lsn_diff(:'l1', :'l0') / 1048576.0, 1);
SQL
)
    printf '%s %-8s %-11s %s\n' "$1" "$2" "$3" "$(tail -1 <<< "$out")"
}

RESET_DOCS="UPDATE daily_usage_cache SET aggregated_by_user = '{}', aggregated_by_model = '{}', total_metrics = '{}'; VACUUM daily_usage_cache;"
echo "round config   op          write_ms cpu_ms flush_ms wal_MB"
for round in $(seq 1 "$ROUNDS"); do
    for c in $CONFIGS; do
        config "$c"
        measure "$round" "$c" upsert "TRUNCATE daily_usage_cache; VACUUM daily_usage_cache;" \
            "SELECT count(*) FROM bench.arrays, ducache_batch_upsert(d, r, u, m, p, t) \g /dev/null"
        measure "$round" "$c" rebuild "$RESET_DOCS" \
            "SELECT count(*) FROM ducache_rebuild('2025-01-01', $LAST) \g /dev/null"
        measure "$round" "$c" "rebuild nop" "" \
            "SELECT count(*) FROM ducache_rebuild('2025-01-01', $LAST) \g /dev/null"
        measure "$round" "$c" "floor same" "VACUUM daily_usage_cache;" \
            "UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user, aggregated_by_model = aggregated_by_model, aggregated_by_provider = aggregated_by_provider, total_metrics = total_metrics, cached_at = now();"
        measure "$round" "$c" "floor new" "VACUUM daily_usage_cache;" \
            "UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user || '{}', aggregated_by_model = aggregated_by_model || '{}', aggregated_by_provider = aggregated_by_provider || '{}', total_metrics = total_metrics || '{}', cached_at = now();"
    done
done
config default
psql -X -q -d postgres -c "DROP DATABASE $DB"
