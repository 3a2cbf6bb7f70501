#!/usr/bin/env bash
# ALTER EXTENSION ducache UPDATE from 0.1.0 to the current version, on databases full of rows:
# one whose table ducache created, one with LiteMaaS's own table (updated_at) adopted.
# For each: the 0.1.0 calls answer (through the new library) before the update; after it
# no row changed (every column and xmin: not even rewritten), the five indexes are intact, the
# old calls give the plain-SQL reference's answers, the extension holds exactly the objects
# of a fresh install (same signatures and results), and DROP EXTENSION leaves every row.
# Needs the cluster scripts/test.sh started (PG* variables).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PGOPTIONS="-c client_min_messages=warning"
REF=$PWD/test/reference
VERSION=$(sed -n "s/^default_version = '\(.*\)'/\1/p" ducache.control)
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# The extension's objects with their signatures and results, in a stable order.
objects() {
    psql -X -At -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
SELECT pg_describe_object(d.classid, d.objid, 0) || coalesce(' (' || pg_get_function_arguments(p.oid) || ')', '')
       || coalesce(' -> ' || pg_get_function_result(p.oid), '') || coalesce(' -- ' || obj_description(d.objid, 'pg_proc'), '')
       || coalesce(' ' || p.provolatile::text || p.proparallel::text || p.proisstrict::text, '')
FROM pg_depend d JOIN pg_extension e ON d.refobjid = e.oid AND e.extname = 'ducache'
LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
WHERE d.deptype = 'e' ORDER BY 1;
SQL
}

# md5 over every column of every row, with xmin: a rewritten row changes it.
rows_md5() {
    psql -X -At -d "$1" -c "SELECT count(*) || ' ' || md5(string_agg(t::text || ' ' || t.xmin::text, E'\n' ORDER BY t.date))
                           FROM daily_usage_cache t"
}

fresh=ducache_upgrade_fresh
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $fresh" -c "CREATE DATABASE $fresh"
q -d $fresh -c "CREATE EXTENSION ducache"

for kind in created adopted; do
    db=ducache_upgrade_$kind
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    if [ $kind = adopted ]; then
        # LiteMaaS's own DDL (updated_at, no cached_at), made before ducache exists.
        q -d $db -c "CREATE TABLE daily_usage_cache (date date PRIMARY KEY, raw_data jsonb NOT NULL DEFAULT '{}',
                       aggregated_by_user jsonb, aggregated_by_model jsonb, aggregated_by_provider jsonb,
                       total_metrics jsonb, updated_at timestamptz NOT NULL DEFAULT now(),
                       is_complete boolean NOT NULL DEFAULT true)"
    fi
    q -d $db -c "CREATE EXTENSION ducache VERSION '0.1.0'"
    [ "$(psql -X -At -d $db -c "SELECT extversion FROM pg_extension WHERE extname = 'ducache'")" = 0.1.0 ] ||
        fail "$kind: not at 0.1.0"
    # Rows: the LiteMaaS-shaped fixture (10 days x 8 users, nested, per-key cells) and 70 days
    # of flat entries (2023-01-25 on, across three months), so both shapes are there. (Small on
    # purpose: the plain-SQL reference is slow, and the update's cost does not depend on rows.)
    q -d $db -f "$REF/litemaas_fixture.sql" >/dev/null
    q -d $db <<'SQL'
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics)
SELECT date '2023-01-25' + d, u, m, '{"openai": {"totalRequests": 3, "totalCost": 0.5}}', '{"totalRequests": 3}'
FROM generate_series(0, 69) AS d,
     LATERAL (SELECT jsonb_object_agg('user-' || k, jsonb_build_object('totalRequests', k + d % 5, 'totalTokens', 100 * k,
                     'promptTokens', 60 * k, 'completionTokens', 40 * k, 'totalCost', round((k + d) * 0.000123, 6))) AS u,
                     jsonb_object_agg('model-' || k % 3, jsonb_build_object('totalRequests', 1, 'totalCost', 0.25)) AS m
              FROM generate_series(1, 1 + d % 12) AS k) AS day;
SQL
    q -d $db -f "$REF/cells.sql" >/dev/null
    before=$(rows_md5 $db)
    indexes_before=$(psql -X -At -d $db -c "SELECT string_agg(indexname || ':' || indexdef, E'\n' ORDER BY indexname)
                                             FROM pg_indexes WHERE tablename = 'daily_usage_cache'")

    # The old calls, through the new library, before the update; and the same after it.
    check_calls() {
        q -d $db <<'SQL'
DO $$
DECLARE r record; n bigint;
BEGIN
    FOR r IN SELECT * FROM (VALUES (date '2023-01-01', date '2025-12-31'), ('2025-03-02', '2025-03-08'),
                                   ('2023-02-01', '2023-02-28')) AS v(s, e) LOOP
        SELECT count(*) INTO n FROM (
            (SELECT user_id, total_requests, total_tokens, prompt_tokens, completion_tokens, total_cost,
                    successful_requests, failed_requests, active_days FROM ducache_user_breakdown(r.s, r.e)
             EXCEPT ALL
             SELECT user_id, total_requests, total_tokens, prompt_tokens, completion_tokens, total_cost,
                    successful_requests, failed_requests, active_days FROM litemaas_ref.user_breakdown(r.s, r.e))
            UNION ALL
            (SELECT user_id, total_requests, total_tokens, prompt_tokens, completion_tokens, total_cost,
                    successful_requests, failed_requests, active_days FROM litemaas_ref.user_breakdown(r.s, r.e)
             EXCEPT ALL
             SELECT user_id, total_requests, total_tokens, prompt_tokens, completion_tokens, total_cost,
                    successful_requests, failed_requests, active_days FROM ducache_user_breakdown(r.s, r.e))) AS x;
        IF n <> 0 THEN RAISE EXCEPTION 'user breakdown % .. %: % rows differ from the reference', r.s, r.e, n; END IF;
        SELECT count(*) INTO n FROM (
            (SELECT date, total_requests, total_cost FROM ducache_daily_trend(r.s, r.e)
             EXCEPT ALL SELECT date, total_requests, total_cost FROM litemaas_ref.daily_trend(r.s, r.e))
            UNION ALL
            (SELECT date, total_requests, total_cost FROM litemaas_ref.daily_trend(r.s, r.e)
             EXCEPT ALL SELECT date, total_requests, total_cost FROM ducache_daily_trend(r.s, r.e))) AS x;
        IF n <> 0 THEN RAISE EXCEPTION 'daily trend % .. %: % rows differ from the reference', r.s, r.e, n; END IF;
        IF (SELECT (a.total_requests, a.total_cost, a.active_users)
                   IS DISTINCT FROM (f.total_requests, f.total_cost, f.active_users)
            FROM ducache_analytics(r.s, r.e) a, litemaas_ref.analytics(r.s, r.e) f) THEN
            RAISE EXCEPTION 'analytics % .. % differ from the reference', r.s, r.e;
        END IF;
        -- The model column itself, summed by plain SQL (the merge aggregate and the breakdown).
        SELECT count(*) INTO n FROM (
            (SELECT key, (value->>'requests')::bigint, (value->>'cost')::numeric
             FROM jsonb_each((SELECT ducache_merge(aggregated_by_model) FROM daily_usage_cache WHERE date BETWEEN r.s AND r.e))
             EXCEPT ALL
             SELECT e.key, sum(coalesce(e.value->'metrics'->>'api_requests', e.value->>'totalRequests')::bigint),
                    sum(coalesce(e.value->'metrics'->>'spend', e.value->>'totalCost')::numeric)
             FROM daily_usage_cache, jsonb_each(aggregated_by_model) e WHERE date BETWEEN r.s AND r.e GROUP BY e.key)
            UNION ALL
            (SELECT model, total_requests, total_cost FROM ducache_model_breakdown(r.s, r.e)
             EXCEPT ALL
             SELECT key, (value->>'requests')::bigint, (value->>'cost')::numeric
             FROM jsonb_each((SELECT ducache_merge(aggregated_by_model) FROM daily_usage_cache WHERE date BETWEEN r.s AND r.e)))) AS x;
        IF n <> 0 THEN RAISE EXCEPTION 'models % .. %: % rows differ from plain SQL', r.s, r.e, n; END IF;
    END LOOP;
END $$;
SQL
    }
    check_calls || fail "$kind: 0.1.0 calls before the update"

    q -d $db -c "ALTER EXTENSION ducache UPDATE"
    [ "$(psql -X -At -d $db -c "SELECT extversion FROM pg_extension WHERE extname = 'ducache'")" = "$VERSION" ] ||
        fail "$kind: not at $VERSION after the update"
    [ "$(rows_md5 $db)" = "$before" ] || fail "$kind: rows changed by the update"
    [ "$(psql -X -At -d $db -c "SELECT string_agg(indexname || ':' || indexdef, E'\n' ORDER BY indexname)
                               FROM pg_indexes WHERE tablename = 'daily_usage_cache'")" = "$indexes_before" ] ||
        fail "$kind: indexes changed by the update"
    check_calls || fail "$kind: calls after the update"
    objects $fresh >/dev/null || fail "could not list the objects"
    diff <(objects $fresh) <(objects $db) || fail "$kind: the updated extension differs from a fresh install"
    [ "$(rows_md5 $db)" = "$before" ] || fail "$kind: rows changed by the calls"

    q -d $db -c "DROP EXTENSION ducache"
    [ "$(rows_md5 $db)" = "$before" ] || fail "$kind: DROP EXTENSION changed rows"
    echo "$kind: $(echo "$before" | cut -d' ' -f1) rows kept, 0.1.0 -> $VERSION ok"
    psql -X -q -d postgres -c "DROP DATABASE $db"
done
psql -X -q -d postgres -c "DROP DATABASE $fresh"
