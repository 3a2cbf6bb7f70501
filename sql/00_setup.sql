-- Helpers shared by the regression tests (schema ducache_test; not part of the extension).
CREATE SCHEMA ducache_test;

-- Runs a statement that must fail and shows its SQLSTATE, message and DETAIL: the
-- equivalent of VERBOSITY verbose, without the source-file line numbers that would make
-- expected output change with every edit.
CREATE FUNCTION ducache_test.error_of(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS OR query_canceled THEN  -- OTHERS alone excludes 57014
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ': ' || msg || CASE WHEN det <> '' THEN E'\nDETAIL: ' || det ELSE '' END;
END $$;

-- Plan lines of EXPLAIN (COSTS OFF), one row each, for regex assertions.
CREATE FUNCTION ducache_test.plan_of(stmt text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE 'EXPLAIN (COSTS OFF) ' || stmt;
END $$;

-- This backend's resident memory, for leak checks.
CREATE FUNCTION ducache_test.backend_rss_kb() RETURNS bigint
LANGUAGE sql AS $$
    SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'),
                         'VmRSS:\s+(\d+)'))[1]::bigint
$$;

-- The text of one query's single value with ducache.use_rollups = off: the rollup tests'
-- reference (the same call reading the days only). Used by 74_rollups_equal,
-- 75_rollups_dashboard, 77_rollup_blocks, 78_rollup_derived, 79_day_projections and
-- 79_dashboard_user_walks.
CREATE FUNCTION ducache_test.with_rollups_off(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v text;
BEGIN
    PERFORM set_config('ducache.use_rollups', 'off', false);
    EXECUTE q INTO v;
    PERFORM set_config('ducache.use_rollups', 'on', false);
    RETURN v;
END $$;
-- Parallel workers forced on for the session (every plan cost of parallelism zero, the leader
-- leaving the rows to them, ducache's day and byte minimums down: the tests' rows are a few KB,
-- core/parallel_rule.hpp), or (false) those settings back to their defaults. Used by
-- 78_parallel_breakdown, 79_fast_entries and 79_toast_read.
CREATE FUNCTION ducache_test.force_workers(force boolean) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    s text[] := ARRAY['parallel_setup_cost', '0', 'parallel_tuple_cost', '0', 'min_parallel_table_scan_size', '0',
                      'min_parallel_index_scan_size', '0', 'max_parallel_workers_per_gather', '2',
                      'parallel_leader_participation', 'off', 'ducache.parallel_min_days', '2',
                      'ducache.parallel_min_kb', '0'];
BEGIN
    FOR i IN 1 .. array_length(s, 1) BY 2 LOOP
        IF force THEN
            PERFORM set_config(s[i], s[i + 1], false);
        ELSE
            EXECUTE format('RESET %s', s[i]);
        END IF;
    END LOOP;
    RETURN CASE WHEN force THEN 'workers forced' ELSE 'parallel settings reset' END;
END $$;
-- ducache_merge over the days s..e of daily_usage_cache against a reference table of plain SQL's
-- sums (user_id, total_requests, total_tokens, total_cost, active_days): the keys merged and how
-- many differ (costs as text: the scale counts too). Used by 79_fast_entries and 79_toast_read.
CREATE FUNCTION ducache_test.merge_check(s date, e date, ref regclass)
RETURNS TABLE (merged bigint, merge_differ bigint) LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT count(*),
               count(*) FILTER (WHERE ((m.value->>'requests')::numeric, (m.value->>'total_tokens')::numeric,
                                       (m.value->>'cost')::numeric::text, (m.value->>'days')::bigint)
                                      IS DISTINCT FROM (r.total_requests, r.total_tokens, r.total_cost::text,
                                                        r.active_days))
        FROM (SELECT ducache_merge(aggregated_by_user) AS doc FROM daily_usage_cache
              WHERE date BETWEEN $1 AND $2) AS x,
             jsonb_each(x.doc) AS m JOIN %s AS r ON r.user_id = m.key$q$, ref) USING s, e;
END $$;
GRANT USAGE ON SCHEMA ducache_test TO PUBLIC;  -- tests also run them as unprivileged roles
