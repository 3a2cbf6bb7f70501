# Shared by test/shell/upgrade_*.sh (sourced; not a test itself: scripts/test.sh runs only
# test/shell/*.sh). Needs the cluster scripts/test.sh started (PG* variables) and the repo root
# as the working directory.
export PGOPTIONS="-c client_min_messages=warning"
REF=$PWD/test/reference
VERSION=$(sed -n "s/^default_version = '\(.*\)'/\1/p" ducache.control)
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
val() { psql -X -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
fresh_db() { psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"; }

# A database at ducache VERSION_FROM: `created` lets CREATE EXTENSION make the table, `adopted`
# makes LiteMaaS's own table first (updated_at, no cached_at), as LiteMaaS does before ducache.
install_at() {   # db kind version
    local db=$1 kind=$2 from=$3 v
    fresh_db "$db"
    if [ "$kind" = adopted ]; then
        q -d "$db" -c "CREATE TABLE daily_usage_cache (date date PRIMARY KEY, raw_data jsonb NOT NULL DEFAULT '{}',
                       aggregated_by_user jsonb, aggregated_by_model jsonb, aggregated_by_provider jsonb,
                       total_metrics jsonb, updated_at timestamptz NOT NULL DEFAULT now(),
                       is_complete boolean NOT NULL DEFAULT true)"
    fi
    q -d "$db" -c "CREATE EXTENSION ducache VERSION '$from'"
    v=$(val "$db" "SELECT extversion FROM pg_extension WHERE extname = 'ducache'")
    [ "$v" = "$from" ] || fail "$kind: not at $from"
}

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

# The extension's objects in database $2 are those of $1 (a fresh install).
same_objects() {
    local want have
    want=$(objects "$1"); have=$(objects "$2")
    [ -n "$want" ] || fail "could not list the objects"
    [ "$want" = "$have" ] || fail "$3 differs from a fresh install: $(diff <(echo "$want") <(echo "$have"))"
}

# The rollup tables' columns, constraints and indexes (members: objects() names them only).
rollup_tables() {
    psql -X -At -v ON_ERROR_STOP=1 -d "$1" <<'SQL'
SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text
       || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
WHERE c.relname IN ('ducache_rollups', 'ducache_rollup_changes') AND c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
WHERE conrelid IN ('public.ducache_rollups'::regclass, 'public.ducache_rollup_changes'::regclass)
UNION ALL
SELECT indexname || ' ' || indexdef FROM pg_indexes WHERE tablename IN ('ducache_rollups', 'ducache_rollup_changes')
UNION ALL
SELECT relname || ' acl ' || coalesce(relacl::text, 'default') FROM pg_class
WHERE relname IN ('ducache_rollups', 'ducache_rollup_changes') AND relnamespace = 'public'::regnamespace
ORDER BY 1;
SQL
}

# md5 over every column of every row, with xmin: a rewritten row changes it.
rows_md5() {
    val "$1" "SELECT count(*) || ' ' || md5(string_agg(t::text || ' ' || t.xmin::text, E'\n' ORDER BY t.date))
              FROM daily_usage_cache t"
}
indexes() {
    val "$1" "SELECT string_agg(indexname || ':' || indexdef, E'\n' ORDER BY indexname)
              FROM pg_indexes WHERE tablename = 'daily_usage_cache'"
}
# daily_usage_cache's own triggers: definition, firing mode (A = ALWAYS), whether the
# extension owns them (DEPENDS ON EXTENSION: DROP EXTENSION takes them away).
triggers() {
    val "$1" "SELECT t.tgname || ' ' || t.tgenabled::text || ' ' || pg_get_triggerdef(t.oid) || ' ext:' ||
                     EXISTS (SELECT FROM pg_depend d JOIN pg_extension e ON d.refobjid = e.oid AND e.extname = 'ducache'
                             WHERE d.classid = 'pg_trigger'::regclass AND d.objid = t.oid AND d.deptype = 'x')::text
              FROM pg_trigger t WHERE t.tgrelid = 'daily_usage_cache'::regclass AND NOT t.tgisinternal ORDER BY 1"
}

# DB at the current version holds the rollup machinery of a fresh install (database $2):
# the four triggers (ALWAYS, owned by the extension), the two tables, empty, and the triggers
# log the months that statements touch (checked in a transaction rolled back).
check_rollups() {
    local db=$1 fresh=$2 what=$3 have want tables_have tables_want rows
    # (Assigned first: a failing query then stops the test, inside [ ] it would not.)
    have=$(triggers "$db"); want=$(triggers "$fresh")
    [ "$(echo "$have" | grep -c ' A CREATE TRIGGER .* ext:true$')" = 4 ] ||
        fail "$what: not four ALWAYS triggers owned by the extension: $have"
    [ "$have" = "$want" ] || fail "$what: triggers differ from a fresh install's: $have"
    tables_have=$(rollup_tables "$db"); tables_want=$(rollup_tables "$fresh")
    [ -n "$tables_have" ] && [ "$tables_have" = "$tables_want" ] ||
        fail "$what: rollup tables differ from a fresh install's: $(diff <(echo "$tables_want") <(echo "$tables_have"))"
    rows=$(val "$db" "SELECT (SELECT count(*) FROM ducache_rollups) + (SELECT count(*) FROM ducache_rollup_changes)")
    [ "$rows" = 0 ] || fail "$what: rollup tables not empty"
    # Each statement's logged months against the months of the rows it touched (plain SQL).
    q -d "$db" >/dev/null <<'SQL' || fail "$what: the triggers do not log the months touched"
BEGIN;
CREATE TEMP TABLE want (month date);
CREATE FUNCTION pg_temp.logged_is_wanted(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS ((SELECT DISTINCT month FROM ducache_rollup_changes EXCEPT SELECT month FROM want)
               UNION ALL (SELECT month FROM want EXCEPT SELECT month FROM ducache_rollup_changes)) THEN
        RAISE EXCEPTION '%: logged % instead of %', what, (SELECT array_agg(DISTINCT month) FROM ducache_rollup_changes),
                        (SELECT array_agg(month) FROM want);
    END IF;
    DELETE FROM ducache_rollup_changes; DELETE FROM want;
END $$;
-- UPDATE of the first and last cached days (two months).
INSERT INTO want SELECT DISTINCT date_trunc('month', date)::date FROM daily_usage_cache
    WHERE date IN ((SELECT min(date) FROM daily_usage_cache), (SELECT max(date) FROM daily_usage_cache));
SELECT count(*) = 2 AS two_months FROM want \gset
\if :two_months
\else
    SELECT 1 / 0;   -- the data must span two months for this check
\endif
UPDATE daily_usage_cache SET is_complete = is_complete
    WHERE date IN ((SELECT min(date) FROM daily_usage_cache), (SELECT max(date) FROM daily_usage_cache));
SELECT pg_temp.logged_is_wanted('update');
INSERT INTO want VALUES ('2031-07-01');
INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES ('2031-07-15', '{}');
SELECT pg_temp.logged_is_wanted('insert');
INSERT INTO want SELECT DISTINCT date_trunc('month', date)::date FROM daily_usage_cache WHERE date < '2031-01-01'
    AND extract(day FROM date) = 5;
DELETE FROM daily_usage_cache WHERE date < '2031-01-01' AND extract(day FROM date) = 5;
SELECT pg_temp.logged_is_wanted('delete');
-- TRUNCATE logs every month holding a rollup row.
INSERT INTO ducache_rollups (month) VALUES ('2030-02-01'), ('2030-03-01');
INSERT INTO want VALUES ('2030-02-01'), ('2030-03-01');
TRUNCATE daily_usage_cache;
SELECT pg_temp.logged_is_wanted('truncate');
ROLLBACK;
SQL
}

# After DROP EXTENSION (no CASCADE): the rows as they were, no trigger left, no rollup table.
check_dropped() {
    local db=$1 before=$2 what=$3 md5 left
    md5=$(rows_md5 "$db")
    [ "$md5" = "$before" ] || fail "$what: DROP EXTENSION changed rows"
    left=$(triggers "$db")
    [ -z "$left" ] || fail "$what: triggers left after DROP EXTENSION: $left"
    left=$(val "$db" "SELECT count(*) FROM pg_class WHERE relname LIKE 'ducache\_rollup%'")
    [ "$left" = 0 ] || fail "$what: rollup tables left after DROP EXTENSION"
    left=$(val "$db" "SELECT count(*) FROM pg_proc WHERE proname LIKE 'ducache%'")
    [ "$left" = 0 ] || fail "$what: functions left after DROP EXTENSION"
}

# CREATE EXTENSION again over the kept rows: a fresh install's objects and rollup machinery.
check_reinstall() {
    local db=$1 fresh=$2 before=$3 what=$4
    local v md5
    q -d "$db" -c "CREATE EXTENSION ducache"
    v=$(val "$db" "SELECT extversion FROM pg_extension WHERE extname = 'ducache'")
    [ "$v" = "$VERSION" ] || fail "$what: CREATE EXTENSION again is not at $VERSION"
    same_objects "$fresh" "$db" "$what: CREATE EXTENSION again"
    check_rollups "$db" "$fresh" "$what (created again)"
    md5=$(rows_md5 "$db")
    [ "$md5" = "$before" ] || fail "$what: CREATE EXTENSION again changed rows"
}

# Rows for an upgrade test: the LiteMaaS-shaped fixture (10 days x 8 users, nested, per-key
# cells, March 2025) and 70 days of flat entries (2023-01-25 on, across three months), so both
# shapes are there; then the plain-SQL references (schema litemaas_ref). Small on purpose: the
# reference is slow, and the update's cost does not depend on rows.
fill_rows() {
    q -d "$1" -f "$REF/litemaas_fixture.sql" >/dev/null
    q -d "$1" <<'SQL'
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics)
SELECT date '2023-01-25' + d, u, m, '{"openai": {"totalRequests": 3, "totalCost": 0.5}}', '{"totalRequests": 3}'
FROM generate_series(0, 69) AS d,
     LATERAL (SELECT jsonb_object_agg('user-' || k, jsonb_build_object('totalRequests', k + d % 5, 'totalTokens', 100 * k,
                     'promptTokens', 60 * k, 'completionTokens', 40 * k, 'totalCost', round((k + d) * 0.000123, 6))) AS u,
                     jsonb_object_agg('model-' || k % 3, jsonb_build_object('totalRequests', 1, 'totalCost', 0.25)) AS m
              FROM generate_series(1, 1 + d % 12) AS k) AS day;
SQL
    q -d "$1" -f "$REF/cells.sql" >/dev/null
}

# The 0.1.0 calls (two arguments, 0.1.0's columns) against the plain-SQL references, over the
# flat and the nested rows.
check_calls_010() {
    q -d "$1" <<'SQL'
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

# The 0.2.0 calls: every read function with filters (whole rows as text, in order, against the
# references, as sql/60_filters does), the dashboard's period totals and the filter options
# against plain SQL, and an upsert through the 0.2.0 declaration (touch_unchanged), rolled back.
check_calls_020() {
    q -d "$1" <<'SQL'
DO $$
DECLARE
    fn text; f record; args text; n bigint; duc text[]; ref text[];
    u1 constant text := 'db711a1f-361b-2fab-949a-37a5f48914c1';
BEGIN
    FOREACH fn IN ARRAY ARRAY['user_breakdown', 'model_breakdown', 'provider_breakdown', 'analytics', 'daily_trend',
                              'user_model_breakdown', 'api_key_breakdown'] LOOP
        FOR f IN SELECT * FROM (VALUES (NULL::text[], NULL::text[], NULL::text[]), (ARRAY[u1], NULL, NULL),
                                       (NULL, '{gpt-4o}', NULL), (NULL, NULL, '{u1-ci,u5-laptop}')) AS v(u, m, k) LOOP
            args := format('%L::date, %L::date, %L::text[], %L::text[], %L::text[]', '2025-03-04', '2025-03-10', f.u, f.m, f.k);
            EXECUTE format('SELECT array(SELECT t::text FROM ducache_%s(%s) t)', fn, args) INTO duc;
            EXECUTE format('SELECT array(SELECT t::text FROM litemaas_ref.%s(%s) t)', fn, args) INTO ref;
            SELECT count(*) INTO n FROM (
                (SELECT * FROM unnest(duc) WITH ORDINALITY EXCEPT ALL SELECT * FROM unnest(ref) WITH ORDINALITY)
                UNION ALL
                (SELECT * FROM unnest(ref) WITH ORDINALITY EXCEPT ALL SELECT * FROM unnest(duc) WITH ORDINALITY)) d;
            IF n <> 0 OR cardinality(ref) = 0 THEN
                RAISE EXCEPTION '%(%): % rows differ from the reference (% rows)', fn, args, n, cardinality(ref);
            END IF;
        END LOOP;
    END LOOP;

    -- The dashboard's trends: current and previous period totals (unfiltered, one user).
    FOR f IN SELECT * FROM (VALUES ('{}'::jsonb, NULL::text[]), (jsonb_build_object('userIds', jsonb_build_array(u1)), ARRAY[u1])) AS v(filters, u) LOOP
        IF EXISTS (
            WITH d AS (SELECT ducache_dashboard('2025-03-04', '2025-03-10', f.filters) -> 'trends' AS t),
                 c AS (SELECT * FROM litemaas_ref.period_totals('2025-03-04', '2025-03-10', f.u, NULL, NULL)),
                 p AS (SELECT * FROM litemaas_ref.period_totals('2025-02-25', '2025-03-03', f.u, NULL, NULL))
            SELECT FROM d, c, p
            WHERE ((t->'requestsTrend'->>'current')::bigint, (t->'requestsTrend'->>'previous')::bigint,
                   (t->'costTrend'->>'current')::numeric, (t->'costTrend'->>'previous')::numeric,
                   (t->'totalTokensTrend'->>'current')::bigint, (t->'promptTokensTrend'->>'current')::bigint,
                   (t->'completionTokensTrend'->>'current')::bigint)
                  IS DISTINCT FROM
                  (c.total_requests, p.total_requests, c.total_cost, p.total_cost, c.total_tokens, c.prompt_tokens,
                   c.completion_tokens)) THEN
            RAISE EXCEPTION 'dashboard %: trends differ from the reference period totals', f.filters;
        END IF;
    END LOOP;
    IF (SELECT array_agg(u->>'userId' ORDER BY u->>'userId')
        FROM jsonb_array_elements(ducache_filter_options('2025-03-04', '2025-03-10') -> 'users') u)
       IS DISTINCT FROM
       (SELECT array_agg(DISTINCT user_id ORDER BY user_id) FROM litemaas_ref.user_cells WHERE date BETWEEN '2025-03-04' AND '2025-03-10') THEN
        RAISE EXCEPTION 'filter options: users differ from plain SQL';
    END IF;
END $$;

-- An upsert of a day exactly as stored ('unchanged') and of a new day ('inserted', written as
-- given), with 0.2.0's touch_unchanged; rolled back.
BEGIN;
CREATE TEMP TABLE given AS
SELECT date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics, is_complete
FROM daily_usage_cache WHERE date = '2025-03-07'
UNION ALL
SELECT '2031-07-15', '{"x": 1}', '{"u9": {"totalRequests": 2, "totalCost": 0.10}}', '{"m9": {"totalRequests": 2}}',
       '{}', '{"totalRequests": 2}', false;
CREATE TEMP TABLE acted AS
SELECT * FROM ducache_batch_upsert(
    (SELECT array_agg(date ORDER BY date) FROM given), (SELECT array_agg(raw_data ORDER BY date) FROM given),
    (SELECT array_agg(aggregated_by_user ORDER BY date) FROM given), (SELECT array_agg(aggregated_by_model ORDER BY date) FROM given),
    (SELECT array_agg(aggregated_by_provider ORDER BY date) FROM given), (SELECT array_agg(total_metrics ORDER BY date) FROM given),
    (SELECT array_agg(is_complete ORDER BY date) FROM given), touch_unchanged => false);
DO $$
BEGIN
    IF (SELECT array_agg(date || ' ' || action ORDER BY date) FROM acted)
       IS DISTINCT FROM ARRAY['2025-03-07 unchanged', '2031-07-15 inserted'] THEN
        RAISE EXCEPTION 'upsert actions: %', (SELECT array_agg(date || ' ' || action ORDER BY date) FROM acted);
    END IF;
    IF EXISTS (SELECT * FROM given EXCEPT
               SELECT date, raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics, is_complete
               FROM daily_usage_cache) THEN
        RAISE EXCEPTION 'upsert: the table does not hold what was given';
    END IF;
END $$;
ROLLBACK;
SQL
}
