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
GRANT USAGE ON SCHEMA ducache_test TO PUBLIC;  -- tests also run them as unprivileged roles
