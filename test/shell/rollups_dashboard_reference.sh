#!/usr/bin/env bash
# ducache_dashboard and ducache_filter_options on the rollups fixture (several months, after
# ducache_refresh_rollups()), with and without rollups, against the LiteMaaS references of
# test/reference (test/shell/rollups_dashboard_reference.py). Needs the cluster scripts/test.sh
# started (PG*).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PGOPTIONS="-c client_min_messages=warning"
db=ducache_rollups_dashboard_ref
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
# Own providers change over time in this fixture (mistral-7b-instruct: 'mistralai', then
# 'mistral'): a model's provider is its latest own one in the range, in ducache and in the
# reference alike (docs/litemaas.md, "Provider of a model").
psql -X -q -v ON_ERROR_STOP=1 -d $db -c "CREATE EXTENSION ducache" -f test/reference/rollups_fixture.sql \
    -c "SELECT count(*) FROM ducache_refresh_rollups()" >/dev/null
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
psql -X -At -v ON_ERROR_STOP=1 -d $db -c "SELECT json_agg(json_build_object('date', date,
    'aggregated_by_user', aggregated_by_user, 'aggregated_by_model', aggregated_by_model,
    'aggregated_by_provider', aggregated_by_provider, 'total_metrics', total_metrics) ORDER BY date)
    FROM daily_usage_cache" >"$rows"
PGDATABASE=$db python3 test/shell/rollups_dashboard_reference.py "$rows"
[ -n "${KEEP_DB:-}" ] || psql -X -q -d postgres -c "DROP DATABASE $db"
