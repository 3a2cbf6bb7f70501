-- The plain-SQL way of every read function (correct jsonb_each + GROUP BY, aliases by COALESCE
-- in the contract's order), the detoast floor, and a timer that runs variants interleaved.
\set ON_ERROR_STOP 1
CREATE SCHEMA IF NOT EXISTS bench;
CREATE TABLE IF NOT EXISTS bench.users (id uuid PRIMARY KEY, username text, email text, roles text[]);

CREATE OR REPLACE FUNCTION bench.m(entry jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN jsonb_typeof(entry->'metrics') = 'object' THEN entry->'metrics' ELSE entry END
$$;

-- Per-key sums of one breakdown column: what dashboards run today.
CREATE OR REPLACE FUNCTION bench.sql_breakdown(col text, s date, e date)
RETURNS TABLE (key text, total_requests bigint, total_tokens bigint, prompt_tokens bigint,
               completion_tokens bigint, total_cost numeric, successful_requests bigint,
               failed_requests bigint, active_days integer)
LANGUAGE plpgsql STABLE AS $f$
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT x.key,
               COALESCE(sum(COALESCE(m->>'totalRequests', m->>'api_requests', m->>'requests')::numeric), 0)::bigint,
               COALESCE(sum(COALESCE(m->>'totalTokens', m->>'total_tokens', m->>'tokens')::numeric), 0)::bigint,
               COALESCE(sum(COALESCE(m->>'promptTokens', m->>'prompt_tokens')::numeric), 0)::bigint,
               COALESCE(sum(COALESCE(m->>'completionTokens', m->>'completion_tokens')::numeric), 0)::bigint,
               COALESCE(sum(COALESCE(m->>'totalCost', m->>'spend', m->>'cost')::numeric), 0),
               COALESCE(sum(COALESCE(m->>'successfulRequests', m->>'successful_requests')::numeric), 0)::bigint,
               COALESCE(sum(COALESCE(m->>'failedRequests', m->>'failed_requests')::numeric), 0)::bigint,
               count(*)::integer
        FROM public.daily_usage_cache AS c, jsonb_each(c.%I) AS x, LATERAL (SELECT bench.m(x.value) AS m) AS mm
        WHERE c.date BETWEEN $1 AND $2
        GROUP BY x.key ORDER BY 6 DESC, 1 $q$, col) USING s, e;
END $f$;

CREATE OR REPLACE FUNCTION bench.sql_user_breakdown(s date, e date) RETURNS SETOF record LANGUAGE sql STABLE AS $$
    SELECT b.key, u.username, u.email, u.roles[1], b.total_requests, b.total_tokens, b.prompt_tokens,
           b.completion_tokens, b.total_cost, b.successful_requests, b.failed_requests, b.active_days
    FROM bench.sql_breakdown('aggregated_by_user', s, e) AS b LEFT JOIN bench.users AS u ON u.id::text = b.key
    ORDER BY b.total_cost DESC, b.key
$$;

CREATE OR REPLACE FUNCTION bench.sql_daily_trend(s date, e date) RETURNS SETOF record LANGUAGE sql STABLE AS $$
    SELECT c.date, count(*)::int,
           sum(COALESCE(m->>'totalRequests', m->>'api_requests')::numeric)::bigint,
           sum(COALESCE(m->>'totalTokens', m->>'total_tokens')::numeric)::bigint,
           sum(COALESCE(m->>'promptTokens', m->>'prompt_tokens')::numeric)::bigint,
           sum(COALESCE(m->>'completionTokens', m->>'completion_tokens')::numeric)::bigint,
           sum(COALESCE(m->>'totalCost', m->>'spend')::numeric)
    FROM public.daily_usage_cache AS c, jsonb_each(c.aggregated_by_user) AS x, LATERAL (SELECT bench.m(x.value) AS m) AS mm
    WHERE c.date BETWEEN s AND e GROUP BY c.date ORDER BY c.date
$$;

-- Analytics the plain way: the period's user sums and top user, top model, and the previous period.
CREATE OR REPLACE FUNCTION bench.sql_analytics(s date, e date) RETURNS SETOF record LANGUAGE sql STABLE AS $$
    WITH cur AS (SELECT * FROM bench.sql_breakdown('aggregated_by_user', s, e)),
         prev AS (SELECT * FROM bench.sql_breakdown('aggregated_by_user', s - (e - s + 1), s - 1))
    SELECT (SELECT count(*) FROM cur), (SELECT sum(total_requests) FROM cur), (SELECT sum(total_cost) FROM cur),
           (SELECT key FROM cur ORDER BY total_cost DESC, key LIMIT 1),
           (SELECT key FROM bench.sql_breakdown('aggregated_by_model', s, e) ORDER BY total_cost DESC, key LIMIT 1),
           (SELECT sum(total_requests) FROM prev), (SELECT sum(total_cost) FROM prev), (SELECT count(*) FROM prev)
$$;

-- The detoast floor: decompress the same values and do nothing else (a key test on each row,
-- read through the date index; bitmap scans off so the GIN index cannot skip the detoasting).
CREATE OR REPLACE FUNCTION bench.floor(col text, s date, e date) RETURNS bigint LANGUAGE plpgsql STABLE
SET enable_bitmapscan = off AS $f$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM public.daily_usage_cache WHERE date BETWEEN $1 AND $2 AND %I ? %L',
                   col, 'no-such-key') INTO n USING s, e;
    RETURN n;
END $f$;

-- Runs each statement `runs` times, round-robin so noise hits all alike; returns one row per
-- statement with p50 and p90 in milliseconds (server-side clock_timestamp deltas).
CREATE OR REPLACE FUNCTION bench.time_all(labels text[], stmts text[], runs int)
RETURNS TABLE (label text, p50_ms numeric, p90_ms numeric) LANGUAGE plpgsql AS $f$
DECLARE
    t0 timestamptz;
    ms double precision[] := '{}';
    i int; r int; n int := cardinality(stmts);
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS bench_samples (label text, ms double precision);
    TRUNCATE bench_samples;
    FOR i IN 1..n LOOP EXECUTE stmts[i]; END LOOP;   -- warm the cache once
    FOR r IN 1..runs LOOP
        FOR i IN 1..n LOOP
            t0 := clock_timestamp();
            EXECUTE stmts[i];
            INSERT INTO bench_samples VALUES (labels[i], extract(epoch FROM clock_timestamp() - t0) * 1000);
        END LOOP;
    END LOOP;
    RETURN QUERY SELECT l, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY b.ms)::numeric, 1),
                           round(percentile_cont(0.9) WITHIN GROUP (ORDER BY b.ms)::numeric, 1)
                 FROM unnest(labels) WITH ORDINALITY AS q(l, o) JOIN bench_samples AS b ON b.label = q.l
                 GROUP BY l, o ORDER BY o;
END $f$;

-- Runs one statement with no parallel workers (issue 13's per-entry costs compare single
-- processes); the SET clause is undone when the function returns, so interleaved variants in
-- bench.time_all keep the session's default.
CREATE OR REPLACE FUNCTION bench.serial(stmt text) RETURNS void LANGUAGE plpgsql
SET max_parallel_workers_per_gather = 0 AS $f$
BEGIN
    EXECUTE stmt;
END $f$;

-- CPU time of this backend (user + system) in clock ticks, from /proc (Linux; superuser):
-- on a shared machine wall time also counts the waits for a core, CPU time does not.
CREATE OR REPLACE FUNCTION bench.cpu_ticks() RETURNS bigint LANGUAGE sql AS $$
    SELECT split_part(f, ' ', 12)::bigint + split_part(f, ' ', 13)::bigint   -- fields 14, 15 of stat
    FROM (SELECT substring(pg_read_file('/proc/' || pg_backend_pid() || '/stat') FROM '\) (.*)$') AS f) AS s
$$;

-- CPU time of this backend in nanoseconds, from /proc (Linux with scheduler statistics): the
-- first field of schedstat, the time it ran on a CPU. NULL where the file is missing. The
-- kernel adds a running task's time to it at each scheduler tick (4 ms at HZ=250) and when the
-- task stops running, so a short sleep first makes the value exact (a few µs of the sleep's own
-- CPU fall into each measured interval, alike for every statement).
CREATE OR REPLACE FUNCTION bench.cpu_ns() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_catalog.pg_sleep(0.0005);
    RETURN split_part(pg_read_file('/proc/' || pg_backend_pid() || '/schedstat', 0, 200, true), ' ', 1)::bigint;
END $$;

-- Like bench.time_all, but the backend's CPU milliseconds per run of each statement: the median
-- of the runs in nanoseconds (bench.cpu_ns) where the kernel gives them (one slow call among a
-- few moves a mean, not a median), else the mean of clock ticks of 1000/hz ms (a median of ticks
-- would be a tick; the mean over `runs` is good to about (1000/hz)/runs ms: on a sparse year's
-- ~35 ms of ducache's own work a 10 ms tick is ~14 ns an entry, more than issue 13's margins).
CREATE OR REPLACE FUNCTION bench.cpu_all(labels text[], stmts text[], runs int, hz int DEFAULT 100)
RETURNS TABLE (label text, cpu_ms numeric) LANGUAGE plpgsql AS $f$
DECLARE
    in_ns constant boolean := bench.cpu_ns() IS NOT NULL;
    t0 bigint; i int; r int;
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS bench_cpu_samples (label text, ms double precision);
    TRUNCATE bench_cpu_samples;
    FOR i IN 1..cardinality(stmts) LOOP EXECUTE stmts[i]; END LOOP;   -- warm the cache once
    FOR r IN 1..runs LOOP
        FOR i IN 1..cardinality(stmts) LOOP
            t0 := CASE WHEN in_ns THEN bench.cpu_ns() ELSE bench.cpu_ticks() END;
            EXECUTE stmts[i];
            INSERT INTO bench_cpu_samples
            VALUES (labels[i], CASE WHEN in_ns THEN (bench.cpu_ns() - t0) / 1e6
                                    ELSE (bench.cpu_ticks() - t0) * 1000.0 / hz END);
        END LOOP;
    END LOOP;
    RETURN QUERY SELECT l, round((CASE WHEN in_ns THEN percentile_cont(0.5) WITHIN GROUP (ORDER BY b.ms)
                                       ELSE avg(b.ms) END)::numeric, 2)
                 FROM unnest(labels) WITH ORDINALITY AS q(l, o) JOIN bench_cpu_samples AS b ON b.label = q.l
                 GROUP BY l, o ORDER BY o;
END $f$;
