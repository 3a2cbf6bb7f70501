#!/usr/bin/env bash
# Round 8 (docs/scale-out-speed.md): md5 of the dashboard and filter-options documents (their
# jsonb bytes, byteasend, and their `::text`) for many ranges x filters, on one node and on the coordinator of the databases a
# SCALE_OUT_SETUP_ONLY=1 test/shell/scale_out.sh (or KEEP=1 bench/scale_out_bench.sh) left, with
# rollups and without. Run once per library and diff the outputs: the documents must not change.
# Needs the cluster scripts/test.sh started (PG* variables, via scripts/lib.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
pg_env
single=ducache_so_single
end=$(psql -X -At -d $single -c "SELECT max(date) FROM daily_usage_cache")
uid=$(psql -X -At -d $single -c "SELECT md5('litemaas-user1')::uuid")
key=$(psql -X -At -d $single -c "SELECT k.key FROM daily_usage_cache d, jsonb_each(d.aggregated_by_user) u,
    jsonb_each(u.value->'models') m, jsonb_each(m.value->'api_keys') k WHERE u.key = '$uid' LIMIT 1")
ranges=("'2025-03-01', '$end'" "'2025-04-01', '2025-04-30'" "'2025-03-01', '2025-03-01'" "'2025-05-10', '2025-05-20'"
        "'2025-02-27', '2025-02-28'" "'2025-02-28', '2025-02-28'" "'2024-01-01', '2024-01-31'")
filters=("'{}'" "'{\"userIds\": [\"$uid\"]}'" "'{\"modelIds\": [\"gpt-4o\"]}'" "'{\"providerIds\": [\"openai\"]}'"
         "'{\"apiKeyIds\": [\"$key\"]}'" "'{\"userIds\": [\"$uid\", \"nobody\"], \"modelIds\": [\"gpt-4o\", \"claude-3-5-sonnet\"]}'"
         "'{\"providerIds\": [\"nobody\"]}'")
sql=$(mktemp); trap 'rm -f "$sql"' EXIT
{
echo "CREATE FUNCTION pg_temp.bytes(jsonb) RETURNS bytea LANGUAGE internal IMMUTABLE STRICT AS 'byteasend';"
for rollups in on off; do
    echo "SET ducache.use_rollups = $rollups;"
    for r in "${ranges[@]}"; do
        for f in "${filters[@]}"; do
            echo "SELECT 'rollups $rollups', \$q\$ducache_dashboard($r, $f)\$q\$, md5(pg_temp.bytes(d)), md5(d::text), length(d::text) FROM ducache_dashboard($r, $f) AS d;"
        done
        echo "SELECT 'rollups $rollups', \$q\$ducache_filter_options($r)\$q\$, md5(pg_temp.bytes(d)), md5(d::text), length(d::text) FROM ducache_filter_options($r) AS d;"
    done
done
} >"$sql"
for db in $single ducache_so_coord; do
    psql -X -At -q -v ON_ERROR_STOP=1 -d $db -f "$sql" | sed "s/^/$db|/"
done
