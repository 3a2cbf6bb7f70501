#!/usr/bin/env bash
# ducache_dashboard and ducache_filter_options against the LiteMaaS references of
# test/reference (litemaas_dashboard.py, litemaas_breakdowns.py) on the regression fixture's
# rows: 6 ranges x 108 filter combinations, and 3 ranges of filter options (the comparison
# itself: test/shell/dashboard_reference.py). Needs the cluster scripts/test.sh started (PG*).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PGOPTIONS="-c client_min_messages=warning"
db=ducache_dashboard_ref
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
psql -X -q -v ON_ERROR_STOP=1 -d $db -c "CREATE EXTENSION ducache" -f test/reference/litemaas_fixture.sql
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
psql -X -At -v ON_ERROR_STOP=1 -d $db -c "SELECT json_agg(json_build_object('date', date,
    'aggregated_by_user', aggregated_by_user, 'aggregated_by_model', aggregated_by_model,
    'aggregated_by_provider', aggregated_by_provider, 'total_metrics', total_metrics) ORDER BY date)
    FROM daily_usage_cache" >"$rows"
PGDATABASE=$db python3 test/shell/dashboard_reference.py "$rows"
psql -X -q -d postgres -c "DROP DATABASE $db"
