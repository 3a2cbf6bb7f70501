#!/usr/bin/env bash
# CONTRACT §9 / issue 15 benchmark: ducache_rebuild when every day changes ("full"), when nothing
# changes ("no-op"), after one API key is reassigned (key1 has usage on 3 days, key2 on K2 = 30,
# or half the days when there are fewer than 60), and
# the write floor: a plain UPDATE rewriting the same four documents (+ the timestamp) on every day.
# Data: bench/raw_data.sql (20 models, each user's key in 3 of them) at USERS x DAYS (L = 10,000
# x 365), rebuilt once. The variants run interleaved, round by round, so a loaded machine slows
# them alike; each prints wall ms and the backend's CPU ms (user + system from /proc, 10 ms ticks:
# what other sessions on the machine do not inflate). The summary is the min per variant and
# the ratios the issue asks for, min over min.
# Usage: scripts' cluster up (DUCACHE_PGPORT, PGHOST as scripts/lib.sh pg_env sets them);
#   bench/rebuild_unchanged.sh [USERS] [DAYS] [ROUNDS]
# KEEP=1 reuses the database of an earlier run at the same size (generating L takes a while).
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${1:-10000} DAYS=${2:-10} ROUNDS=${3:-3}
DB=ducache_bench_rebuild_${USERS}x${DAYS}
K2=$(( DAYS < 60 ? DAYS / 2 : 30 ))
export PGOPTIONS="-c client_min_messages=warning"
SETTINGS="SET ducache.api_keys_table = 'bench.api_keys'; SET ducache.users_table = 'bench.users';"
CPU="(SELECT 10 * (f[12]::bigint + f[13]::bigint) FROM regexp_split_to_array(split_part(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ') ', 2), ' ') AS f)"
LAST="date '2025-01-01' + $DAYS - 1"

if [ "${KEEP:-0}" != 1 ] || ! psql -X -q -d $DB -c "SELECT 1 FROM bench.api_keys LIMIT 1" >/dev/null 2>&1; then
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
    t0=$(date +%s)
    psql -X -q -v ON_ERROR_STOP=1 -d $DB -v users="$USERS" -v days="$DAYS" >/dev/null <<SQL
CREATE EXTENSION ducache;
CREATE SCHEMA bench;
CREATE TABLE bench.users AS SELECT md5('user' || u)::uuid AS id, 'user' || u AS username,
    'user' || u || '@example.com' AS email, ARRAY['user'] AS roles FROM generate_series(1, :users) AS u;
INSERT INTO daily_usage_cache (date, raw_data) SELECT date '2025-01-01' + d, '{}' FROM generate_series(0, :days - 1) AS d;
\i bench/raw_data.sql
-- key1 keeps its usage on the first 3 days only, key2 on the first K2: reassigning one touches 3
-- (or K2) days. key1 is in models 0, 1, 19; key2 in 0, 1, 2.
UPDATE daily_usage_cache SET raw_data = raw_data
    #- ARRAY['breakdown', 'models', 'model-0', 'api_keys', md5('key1')]
    #- ARRAY['breakdown', 'models', 'model-1', 'api_keys', md5('key1')]
    #- ARRAY['breakdown', 'models', 'model-19', 'api_keys', md5('key1')]
WHERE date >= date '2025-01-04';
UPDATE daily_usage_cache SET raw_data = raw_data
    #- ARRAY['breakdown', 'models', 'model-0', 'api_keys', md5('key2')]
    #- ARRAY['breakdown', 'models', 'model-1', 'api_keys', md5('key2')]
    #- ARRAY['breakdown', 'models', 'model-2', 'api_keys', md5('key2')]
WHERE date >= date '2025-01-01' + $K2;
$SETTINGS
SELECT count(*) FROM ducache_rebuild('2025-01-01', $LAST);
VACUUM ANALYZE daily_usage_cache;
SQL
    echo "# data: $USERS users x $DAYS days, generated in $(( $(date +%s) - t0 )) s" >&2
fi
psql -X -q -d $DB -Atc "SELECT '# ' || count(*) || ' days; aggregated_by_user ' || pg_size_pretty(sum(pg_column_size(aggregated_by_user))) || ' compressed, ' || pg_size_pretty(sum(length(aggregated_by_user::text))) || ' as text; table ' || pg_size_pretty(pg_total_relation_size('daily_usage_cache')) FROM daily_usage_cache" >&2

measure() {  # round name setup-SQL SQL: prints round name wall_ms cpu_ms [actions]
    psql -X -q -v ON_ERROR_STOP=1 -d $DB <<< "$3" >/dev/null
    local out
    out=$(psql -X -q -v ON_ERROR_STOP=1 -d $DB -At <<SQL
$SETTINGS
SELECT clock_timestamp() AS t0, $CPU AS c0 \gset
$4
SELECT clock_timestamp() AS t1, $CPU AS c1 \gset
SELECT round(1000 * extract(epoch FROM :'t1'::timestamptz - :'t0'::timestamptz)) || ' ' || (:c1 - :c0);
SQL
)
    printf '%s %-10s %s %s\n' "$1" "$2" "$(tail -1 <<< "$out")" "$(head -n -1 <<< "$out" | tr '\n' ' ')"
}

R="SELECT action || ':' || count(*) FROM ducache_rebuild('2025-01-01', $LAST) GROUP BY action;"
RESET="UPDATE daily_usage_cache SET aggregated_by_user = '{}', aggregated_by_model = '{}', total_metrics = '{}'; VACUUM daily_usage_cache;"
# Reassigning a key back and forth between two users.
MOVE() { echo "UPDATE bench.api_keys SET user_id = CASE WHEN user_id = md5('user$1')::uuid THEN md5('user$(( $1 + 1 ))')::uuid ELSE md5('user$1')::uuid END WHERE key_hash = md5('key$1'); VACUUM daily_usage_cache;"; }
FLOOR="UPDATE daily_usage_cache SET aggregated_by_user = aggregated_by_user, aggregated_by_model = aggregated_by_model, aggregated_by_provider = aggregated_by_provider, total_metrics = total_metrics, cached_at = now();"
OUT=$(mktemp)
echo "round variant   wall_ms cpu_ms actions"
for round in $(seq 1 "$ROUNDS"); do
    measure "$round" full "$RESET" "$R" | tee -a "$OUT"
    measure "$round" no-op "VACUUM daily_usage_cache;" "$R" | tee -a "$OUT"
    measure "$round" floor "VACUUM daily_usage_cache;" "$FLOOR" | tee -a "$OUT"
    # The same end state both ways: the rebuild refreshes the rollups of the months it wrote;
    # after the plain UPDATE they are stale until ducache_refresh_rollups (or a reader) builds
    # them. And the rebuild's write alone, with the refresh turned off.
    measure "$round" floor+ref "VACUUM daily_usage_cache;" "$FLOOR SELECT count(*) FROM ducache_refresh_rollups('2025-01-01', $LAST) \\g /dev/null" | tee -a "$OUT"
    measure "$round" full-noref "$RESET" "SET ducache.use_rollups = off; $R" | tee -a "$OUT"
    measure "$round" key1-3d "SELECT count(*) FROM ducache_refresh_rollups('2025-01-01', $LAST); $(MOVE 1)" "$R" | tee -a "$OUT"
    measure "$round" key2-${K2}d "$(MOVE 2)" "$R" | tee -a "$OUT"
done
awk -v k2="key2-${K2}d" '{ for (i = 3; i <= 4; i++) if (!(($2, i) in m) || $i < m[$2, i]) m[$2, i] = $i }
     END {
       printf "min wall/cpu ms: full (rollups off) %d/%d\n", m["full-noref",3], m["full-noref",4]
       printf "  full / floor with the rollups off: wall %.2f cpu %.2f\n", m["full-noref",3] / m["floor",3], m["full-noref",4] / m["floor",4]
       printf "min wall/cpu ms: full %d/%d, no-op %d/%d, floor %d/%d, key1 (3 days) %d/%d, key2 (%s) %d/%d\n",
         m["full",3], m["full",4], m["no-op",3], m["no-op",4], m["floor",3], m["floor",4],
         m["key1-3d",3], m["key1-3d",4], k2, m[k2,3], m[k2,4]
       printf "no-op / full: wall %.2f cpu %.2f; full / floor: wall %.2f cpu %.2f\n",
         m["no-op",3] / m["full",3], m["no-op",4] / m["full",4], m["full",3] / m["floor",3], m["full",4] / m["floor",4]
       printf "rollups refreshed both ways: full / (floor + refresh): wall %.2f cpu %.2f (floor + refresh %d/%d)\n",
         m["full",3] / m["floor+ref",3], m["full",4] / m["floor+ref",4], m["floor+ref",3], m["floor+ref",4]
     }' "$OUT"
rm -f "$OUT"
