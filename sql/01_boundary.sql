-- The C++/PostgreSQL boundary, both directions (needs make DUCACHE_TEST_HOOKS=1).
CREATE FUNCTION ducache_test_fail(text) RETURNS boolean
    AS 'ducache', 'ducache_test_fail' LANGUAGE C STRICT;
CREATE FUNCTION ducache_test_live_objects() RETURNS bigint
    AS 'ducache', 'ducache_test_live_objects' LANGUAGE C STRICT;
-- C++ exceptions reach the client as ERRORs with a real SQLSTATE.
SELECT kind, ducache_test.error_of(format('SELECT ducache_test_fail(%L)', kind))
FROM unnest(ARRAY['core_error', 'bad_alloc', 'runtime_error', 'unknown']) AS kind;
-- A request past the largest allocation (MaxAllocSize, 1 GB) is a program limit (54000) naming
-- what the bytes were for, not palloc's own "invalid memory alloc request size" (XX000).
SELECT ducache_test.error_of('SELECT ducache_test_fail(''alloc_over_limit'')') AS over_limit;
-- PostgreSQL ERRORs raised under C++ frames keep their own SQLSTATE and detail.
SELECT kind, ducache_test.error_of(format('SELECT ducache_test_fail(%L)', kind))
FROM unnest(ARRAY['pg_error', 'spi_error', 'interrupt']) AS kind;
-- The session survived all of that, and every C++ destructor ran.
SELECT ducache_test_live_objects() AS live_after_errors;

-- 10,000 failing calls, each with 1 MB held by a C++ object when PostgreSQL raises the ERROR:
-- no object stays alive and the backend's resident memory does not grow.
CREATE FUNCTION pg_temp.fail_many(n int, kind text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE failures int := 0;
BEGIN
    FOR i IN 1..n LOOP
        BEGIN
            PERFORM ducache_test_fail(kind);
        EXCEPTION WHEN OTHERS THEN
            failures := failures + 1;
        END;
    END LOOP;
    RETURN failures;
END $$;
SELECT pg_temp.fail_many(200, 'pg_error') AS warmup;
SELECT ducache_test.backend_rss_kb() AS rss_before \gset
SELECT pg_temp.fail_many(10000, 'pg_error') AS pg_errors,
       pg_temp.fail_many(10000, 'core_error') AS cpp_errors;
SELECT ducache_test_live_objects() AS live_after_20000_failures,
       ducache_test.backend_rss_kb() - :rss_before < 10240 AS rss_grew_less_than_10mb;
