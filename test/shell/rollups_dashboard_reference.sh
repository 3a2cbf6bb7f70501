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
# Own providers made constant over time: with providers that change, ducache's dashboard takes
# each day's own provider and the reference the range's latest, an open point of the dashboard
# itself (not of rollups; see /work/notes/rollup_findings.md F3), kept out of this comparison.
psql -X -q -v ON_ERROR_STOP=1 -d $db -c "CREATE EXTENSION ducache" -f test/reference/rollups_fixture.sql \
    -c "UPDATE daily_usage_cache SET aggregated_by_model = (SELECT jsonb_object_agg(m.key,
            CASE WHEN m.key = 'mistral-7b-instruct' THEN m.value || '{\"provider\": \"mistralai\"}' ELSE m.value - 'provider' END)
            FROM jsonb_each(aggregated_by_model) m) WHERE aggregated_by_model <> '{}'" \
    -c "SELECT count(*) FROM ducache_refresh_rollups()" >/dev/null
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
psql -X -At -v ON_ERROR_STOP=1 -d $db -c "SELECT json_agg(json_build_object('date', date,
    'aggregated_by_user', aggregated_by_user, 'aggregated_by_model', aggregated_by_model,
    'aggregated_by_provider', aggregated_by_provider, 'total_metrics', total_metrics) ORDER BY date)
    FROM daily_usage_cache" >"$rows"
PGDATABASE=$db python3 test/shell/rollups_dashboard_reference.py "$rows"
[ -n "${KEEP_DB:-}" ] || psql -X -q -d postgres -c "DROP DATABASE $db"
