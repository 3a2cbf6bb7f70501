-- 1,000 random mutations of valid entries in both shapes (fixed seed): each gives either the
-- plain-SQL reference's answer or an allowed SQLSTATE (22P02, 22023, 22003), and the session
-- stays up throughout.
TRUNCATE daily_usage_cache;
SELECT setseed(0.4242);
CREATE TEMP TABLE got (k text, r bigint, t bigint, c numeric, f bigint, n int);
CREATE FUNCTION pg_temp.reference(d date) RETURNS TABLE (ref_key text, ref_requests numeric, ref_tokens numeric, ref_cost numeric, ref_failed numeric, ref_days bigint)
LANGUAGE sql AS $$
    SELECT x.key,
           COALESCE(sum(COALESCE(m->>'totalRequests', m->>'api_requests', m->>'requests')::numeric), 0),
           COALESCE(sum(COALESCE(m->>'totalTokens', m->>'total_tokens', m->>'tokens')::numeric), 0),
           COALESCE(sum(COALESCE(m->>'totalCost', m->>'spend', m->>'cost')::numeric), 0),
           COALESCE(sum(COALESCE(m->>'failedRequests', m->>'failed_requests')::numeric), 0),
           count(*)
    FROM daily_usage_cache AS dc, jsonb_each(dc.aggregated_by_user) AS x,
         LATERAL (SELECT CASE WHEN jsonb_typeof(x.value->'metrics') = 'object' THEN x.value->'metrics' ELSE x.value END AS m) AS mm
    WHERE dc.date = d GROUP BY x.key
$$;
CREATE FUNCTION pg_temp.mutate(n int) RETURNS TABLE (outcome text, cases bigint) LANGUAGE plpgsql AS $$
DECLARE
    flat jsonb := '{"totalRequests": 12, "totalTokens": 1800, "promptTokens": 1200, "completionTokens": 600, "totalCost": 0.0246}';
    nested jsonb := '{"userId": "u", "username": "ada", "metrics": {"api_requests": 12, "total_tokens": 1800, "spend": 0.0246, "failed_requests": 1}}';
    vals text[] := ARRAY['"12"', '"lots"', '""', 'null', 'true', '[1]', '{"a": 1}', '12.5', '-3', '1e3', '"1e3"',
                         '9223372036854775807', '"NaN"', '0.000000001', '-0.5', '"-0.5"', '12.0', '"12.0"', '" 12"',
                         '"Infinity"', '1e-7', '"0x10"', '123456789012345678901234567890'];
    keys text[] := ARRAY['totalRequests', 'api_requests', 'requests', 'totalTokens', 'total_tokens', 'tokens',
                         'totalCost', 'spend', 'cost', 'failedRequests', 'failed_requests', 'metrics'];
    entry jsonb; path text[]; st text; ok_equal int := 0; allowed int := 0; mismatch int := 0; bad int := 0;
    got_ok boolean; ref_ok boolean;
BEGIN
    FOR i IN 1..n LOOP
        entry := CASE WHEN random() < 0.5 THEN flat ELSE nested END;
        path := CASE WHEN entry ? 'metrics' AND random() < 0.8
                     THEN ARRAY['metrics', keys[1 + floor(random() * 11)::int]]
                     ELSE ARRAY[keys[1 + floor(random() * 12)::int]] END;
        IF random() < 0.1 THEN
            entry := entry #- path;                                    -- a missing field
        ELSE
            entry := jsonb_set(entry, path, vals[1 + floor(random() * cardinality(vals))::int]::jsonb, true);
        END IF;
        IF random() < 0.03 THEN entry := to_jsonb(i); END IF;          -- an entry that is not an object
        DELETE FROM daily_usage_cache;
        INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES ('2025-01-01', jsonb_build_object('k', entry, 'other', flat));
        BEGIN
            TRUNCATE got;
            INSERT INTO got SELECT user_id, total_requests, total_tokens, total_cost, failed_requests, active_days
                            FROM ducache_user_breakdown('2025-01-01', '2025-01-01');
            PERFORM 1 FROM ((SELECT * FROM got EXCEPT ALL
                             SELECT ref_key, ref_requests::bigint, ref_tokens::bigint, ref_cost, ref_failed::bigint, ref_days::int
                             FROM pg_temp.reference('2025-01-01'))
                            UNION ALL
                            (SELECT ref_key, ref_requests::bigint, ref_tokens::bigint, ref_cost, ref_failed::bigint, ref_days::int
                             FROM pg_temp.reference('2025-01-01') EXCEPT ALL SELECT * FROM got)) AS diff;
            got_ok := NOT FOUND;
            IF got_ok THEN ok_equal := ok_equal + 1; ELSE mismatch := mismatch + 1;
                RAISE NOTICE 'mismatch for entry %', entry; END IF;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
            -- Was it ducache refusing, or only the reference failing to cast?
            BEGIN
                PERFORM count(*) FROM ducache_user_breakdown('2025-01-01', '2025-01-01');
                st := 'reference: ' || st;   -- ducache answered; only the SQL reference could not
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
            END;
            IF st IN ('22P02', '22023', '22003') THEN allowed := allowed + 1;
            ELSIF st LIKE 'reference: %' THEN ok_equal := ok_equal + 0; allowed := allowed + 0; mismatch := mismatch + 1;
                RAISE NOTICE 'reference failed (%), ducache answered, for %', st, entry;
            ELSE bad := bad + 1; RAISE NOTICE 'unexpected SQLSTATE % for %', st, entry; END IF;
        END;
    END LOOP;
    RETURN QUERY VALUES ('equal to the reference', ok_equal::bigint), ('allowed error', allowed::bigint),
                        ('mismatch', mismatch::bigint), ('other SQLSTATE', bad::bigint);
END $$;
SELECT * FROM pg_temp.mutate(1000);
SELECT 'still up' AS session;
TRUNCATE daily_usage_cache;
