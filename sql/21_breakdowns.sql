-- The three breakdowns equal the plain-SQL reference (as multisets, both ways) and come in
-- the contract's order, over several ranges of the fixture.
SET ducache.users_table = 'ref.users';

CREATE FUNCTION pg_temp.check_users(s date, e date) RETURNS TABLE (missing bigint, extra bigint, rows bigint, order_ok boolean)
LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM (SELECT * FROM ref.user_breakdown(s, e) EXCEPT ALL SELECT user_id, username, email, role, total_requests, total_tokens, prompt_tokens, completion_tokens, total_cost, successful_requests, failed_requests, active_days FROM ducache_user_breakdown(s, e)) a),
           (SELECT count(*) FROM (SELECT user_id, username, email, role, total_requests, total_tokens, prompt_tokens, completion_tokens, total_cost, successful_requests, failed_requests, active_days FROM ducache_user_breakdown(s, e) EXCEPT ALL SELECT * FROM ref.user_breakdown(s, e)) b),
           (SELECT count(*) FROM ducache_user_breakdown(s, e)),
           (SELECT bool_and(d.user_id = r.user_id)
            FROM (SELECT user_id, row_number() OVER () AS n FROM ducache_user_breakdown(s, e)) AS d
            JOIN (SELECT user_id, row_number() OVER (ORDER BY total_cost DESC, user_id COLLATE "C") AS n
                  FROM ref.user_breakdown(s, e)) AS r USING (n))
$$;
CREATE FUNCTION pg_temp.check_col(col text, s date, e date) RETURNS TABLE (missing bigint, extra bigint, rows bigint, order_ok boolean)
LANGUAGE plpgsql AS $$
DECLARE fn text := CASE col WHEN 'aggregated_by_model' THEN 'ducache_model_breakdown' ELSE 'ducache_provider_breakdown' END;
        refq text := format('SELECT key, total_requests, total_tokens, prompt_tokens, completion_tokens, total_cost,
                                    successful_requests, failed_requests, active_days FROM ref.breakdown(%L, %L, %L)', col, s, e);
        ducq text := format('SELECT key, total_requests, total_tokens, prompt_tokens, completion_tokens, total_cost, successful_requests, failed_requests, active_days FROM %I(%L, %L) AS t(key)', fn, s, e);
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT (SELECT count(*) FROM (%1$s EXCEPT ALL %2$s) a), (SELECT count(*) FROM (%2$s EXCEPT ALL %1$s) b),
               (SELECT count(*) FROM (%2$s) c),
               (SELECT bool_and(d.k = r.k)
                FROM (SELECT t AS k, row_number() OVER () AS n FROM (%2$s) AS t0(t)) AS d
                JOIN (SELECT key AS k, row_number() OVER (ORDER BY total_cost DESC, key COLLATE "C") AS n
                      FROM (%1$s) AS t1) AS r USING (n)) $q$, refq, ducq);
END $$;

-- Whole fixture, the main range (with two missing days), one day, a range with no cached day.
SELECT 'users' AS what, s, e, c.* FROM (VALUES (date '2025-02-01', date '2025-04-01'),
        (date '2025-03-01', date '2025-03-10'), (date '2025-03-07', date '2025-03-07'),
        (date '2025-03-04', date '2025-03-04')) AS r(s, e), pg_temp.check_users(s, e) AS c;
SELECT col, s, e, c.* FROM (VALUES ('aggregated_by_model'), ('aggregated_by_provider')) AS k(col),
       (VALUES (date '2025-02-01', date '2025-04-01'), (date '2025-03-01', date '2025-03-10'),
               (date '2025-03-05', date '2025-03-05')) AS r(s, e),
       pg_temp.check_col(col, s, e) AS c;

-- A readable sample of the output: identity from the users table (uuid ids, roles[1]), from the
-- entry when the key is not in the table, exact costs, alias priorities, unicode keys.
SELECT user_id, username, email, role, total_requests, total_tokens, total_cost, failed_requests, active_days
FROM ducache_user_breakdown('2025-03-01', '2025-03-10')
WHERE user_id IN ('flat-1', 'flat-2', 'ユーザー-ü', 'alias-both', 'solo', md5('u2')::uuid::text, md5('u3')::uuid::text,
                  md5('u4')::uuid::text, md5('u7')::uuid::text)
ORDER BY user_id COLLATE "C";
SELECT model, total_requests, total_tokens, prompt_tokens, completion_tokens, total_cost, successful_requests, failed_requests, active_days FROM ducache_model_breakdown('2025-03-01', '2025-03-10');
SELECT provider, total_requests, total_tokens, prompt_tokens, completion_tokens, total_cost, successful_requests, failed_requests, active_days FROM ducache_provider_breakdown('2025-03-01', '2025-03-10');

-- Without a users table the identity comes from the entries; the default 'users' being absent
-- simply means no table.
RESET ducache.users_table;
SELECT user_id, username, email, role FROM ducache_user_breakdown('2025-03-01', '2025-03-10')
WHERE user_id IN (md5('u2')::uuid::text, 'solo', 'flat-1') ORDER BY 1;
SET ducache.users_table = '';
SELECT count(*) FILTER (WHERE username LIKE 'table-user-%') AS from_table FROM ducache_user_breakdown('2025-03-01', '2025-03-10');

-- A users table with text ids and a text role column works too.
CREATE TABLE ref.users_text (id text, username text, email text, role text);
INSERT INTO ref.users_text VALUES ('flat-1', 'Flat One', 'one@flat.example', 'owner');
SET ducache.users_table = 'ref.users_text';
SELECT user_id, username, email, role FROM ducache_user_breakdown('2025-03-01', '2025-03-10')
WHERE user_id IN ('flat-1', 'solo') ORDER BY 1;
RESET ducache.users_table;

-- The key-layout cache must tell apart key sets whose bytes run together the same way:
-- "spend" + "totalCost" and "spendt" + "otalCost" are both "spendtotalCost". For "b" neither
-- key is a metric, so its cost is 0; for "a" totalCost outranks spend.
INSERT INTO daily_usage_cache (date, aggregated_by_user) VALUES
    ('2032-01-01', '{"a": {"spend": 1, "totalCost": 2}, "b": {"spendt": 1, "otalCost": 2}}');
SELECT user_id, total_cost FROM ducache_user_breakdown('2032-01-01', '2032-01-01');
DELETE FROM daily_usage_cache WHERE date = '2032-01-01';
