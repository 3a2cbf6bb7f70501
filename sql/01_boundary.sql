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
-- PostgreSQL ERRORs raised under C++ frames keep their own SQLSTATE and detail; one raised in
-- a pg_call nested in another too (its exception crossing the outer pg_call must leave
-- PostgreSQL's error stack as it was: else the next ERROR jumps into a dead frame).
SELECT kind, ducache_test.error_of(format('SELECT ducache_test_fail(%L)', kind))
FROM unnest(ARRAY['pg_error', 'spi_error', 'interrupt', 'nested_pg_error']) AS kind;
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
-- The bound is 10 MB, or 32 MB in a backend run by valgrind's memcheck (scripts/valgrind_suite.sh;
-- /proc names the process after the tool): memcheck's allocator (its quarantine of freed blocks,
-- their shadow memory) grew RSS by 3-10 MB over these 20,000 calls with nothing leaked, where a
-- plain backend grew 0.3 MB over 90,000 (round 18). Either bound is far below the 20 GB a leaked
-- 1 MB object a call would add (or 32 MB: 1.6 KB a call).
SELECT ducache_test_live_objects() AS live_after_20000_failures,
       ducache_test.backend_rss_kb() - :rss_before
           < CASE WHEN (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'),
                                     'Name:\s+(\S+)'))[1] LIKE 'memcheck%' THEN 32768 ELSE 10240 END
           AS rss_grew_within_bound;
