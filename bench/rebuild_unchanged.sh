#!/usr/bin/env bash
# CONTRACT §9 benchmark: ducache_rebuild when nothing changes vs a full rebuild (every day
# rewritten), after one API key is reassigned, and the write floor (a plain UPDATE rewriting the
# same four documents). Data: bench/raw_data.sql (20 models, each user's key in 3 of them) at
# USERS x DAYS (L width = 10,000 users). Prints one line per measurement (ms, best of RUNS).
# Usage: DUCACHE_PGPORT=.. scripts' cluster up; bench/rebuild_unchanged.sh [USERS] [DAYS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${1:-10000} DAYS=${2:-10} RUNS=${3:-1}
DB=ducache_bench_rebuild
export PGOPTIONS="-c client_min_messages=warning"
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
t0=$(date +%s)
psql -X -q -v ON_ERROR_STOP=1 -d $DB -v users="$USERS" -v days="$DAYS" >/dev/null <<'SQL'
CREATE EXTENSION ducache;
CREATE SCHEMA bench;
CREATE TABLE bench.users AS SELECT md5('user' || u)::uuid AS id, 'user' || u AS username,
    'user' || u || '@example.com' AS email, ARRAY['user'] AS roles FROM generate_series(1, :users) AS u;
INSERT INTO daily_usage_cache (date, raw_data) SELECT date '2025-01-01' + d, '{}' FROM generate_series(0, :days - 1) AS d;
\i bench/raw_data.sql
-- key1 keeps its usage on the first 3 days only, so reassigning it touches 3 days.
UPDATE daily_usage_cache SET raw_data = raw_data
    #- ARRAY['breakdown', 'models', 'model-0', 'api_keys', md5('key1')]
    #- ARRAY['breakdown', 'models', 'model-1', 'api_keys', md5('key1')]
    #- ARRAY['breakdown', 'models', 'model-19', 'api_keys', md5('key1')]
WHERE date >= date '2025-01-04';
VACUUM ANALYZE daily_usage_cache;
SQL
echo "# data: $USERS users x $DAYS days, generated in $(( $(date +%s) - t0 )) s" >&2
run() {  # name, SQL (run RUNS times, best time); setup SQL before each run in $SETUP
    local name=$1 sql=$2 best=
    for _ in $(seq 1 "$RUNS"); do
        [ -n "${SETUP:-}" ] && psql -X -q -v ON_ERROR_STOP=1 -d $DB <<< "$SETUP" >/dev/null
        ms=$(psql -X -q -d $DB <<SQL | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1
SET ducache.api_keys_table = 'bench.api_keys'; SET ducache.users_table = 'bench.users';
\timing on
$sql
SQL
)
        if [ -z "$best" ] || awk "BEGIN{exit !($ms < $best)}"; then best=$ms; fi
    done
    printf '%-58s %10.0f ms\n' "$name" "$best"
}
R="SELECT action, count(*) FROM ducache_rebuild('2025-01-01', '2026-12-31') GROUP BY 1"
# Full rebuild: every stored document differs (reset to '{}' before each run).
SETUP="UPDATE daily_usage_cache SET aggregated_by_user = '{}', aggregated_by_model = '{}', total_metrics = '{}'; VACUUM daily_usage_cache" \
    run "full rebuild (every day updated)" "$R"
SETUP="" run "rebuild that changes nothing (every day unchanged)" "$R"
# One key reassigned (back and forth between two users): key1 has usage on 3 days.
SETUP="UPDATE bench.api_keys SET user_id = CASE WHEN user_id = md5('user1')::uuid THEN md5('user2')::uuid ELSE md5('user1')::uuid END WHERE key_hash = md5('key1')" \
    run "rebuild after one key reassigned (its days updated)" "$R"
SETUP="VACUUM daily_usage_cache" run "write floor: UPDATE the same four documents, all days" \
    "UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user, aggregated_by_model = aggregated_by_model, aggregated_by_provider = aggregated_by_provider, total_metrics = total_metrics, cached_at = now();"
psql -X -q -d $DB -Atc "SELECT 'table size: ' || pg_size_pretty(pg_total_relation_size('daily_usage_cache'))" >&2
psql -X -q -d postgres -c "DROP DATABASE $DB"
