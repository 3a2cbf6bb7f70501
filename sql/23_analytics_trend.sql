-- ducache_analytics and ducache_daily_trend against plain SQL on the fixture.
CREATE FUNCTION ref.day_totals(s date, e date)
RETURNS TABLE (date date, active_users integer, total_requests bigint, total_tokens bigint,
               prompt_tokens bigint, completion_tokens bigint, total_cost numeric)
LANGUAGE sql STABLE AS $$
    SELECT c.date, count(x.key)::integer,
           COALESCE(sum(COALESCE(ref.m(x.value)->>'totalRequests', ref.m(x.value)->>'api_requests', ref.m(x.value)->>'requests')::numeric), 0)::bigint,
           COALESCE(sum(COALESCE(ref.m(x.value)->>'totalTokens', ref.m(x.value)->>'total_tokens', ref.m(x.value)->>'tokens')::numeric), 0)::bigint,
           COALESCE(sum(COALESCE(ref.m(x.value)->>'promptTokens', ref.m(x.value)->>'prompt_tokens')::numeric), 0)::bigint,
           COALESCE(sum(COALESCE(ref.m(x.value)->>'completionTokens', ref.m(x.value)->>'completion_tokens')::numeric), 0)::bigint,
           COALESCE(sum(COALESCE(ref.m(x.value)->>'totalCost', ref.m(x.value)->>'spend', ref.m(x.value)->>'cost')::numeric), 0)
    FROM public.daily_usage_cache AS c LEFT JOIN LATERAL jsonb_each(c.aggregated_by_user) AS x ON true
    WHERE c.date BETWEEN s AND e
    GROUP BY c.date
$$;

-- Daily trend: same rows, in date order; days missing from the cache are simply absent.
SELECT (SELECT count(*) FROM (SELECT * FROM ref.day_totals('2025-03-01', '2025-03-12') EXCEPT ALL
                              SELECT * FROM ducache_daily_trend('2025-03-01', '2025-03-12')) a) AS missing,
       (SELECT count(*) FROM (SELECT * FROM ducache_daily_trend('2025-03-01', '2025-03-12') EXCEPT ALL
                              SELECT * FROM ref.day_totals('2025-03-01', '2025-03-12')) b) AS extra,
       (SELECT array_agg(date ORDER BY n) = array_agg(date ORDER BY date)
        FROM (SELECT date, row_number() OVER () AS n FROM ducache_daily_trend('2025-03-01', '2025-03-12')) t) AS in_date_order;
SELECT * FROM ducache_daily_trend('2025-03-03', '2025-03-06');

-- Analytics: totals equal the sums of the user breakdown; top user/model by cost (ties: the
-- smallest key); changes against the previous period computed here in SQL.
CREATE FUNCTION ref.period(s date, e date)
RETURNS TABLE (days integer, users integer, requests bigint, tokens bigint, prompt bigint, completion bigint,
               cost numeric, ok bigint, failed bigint)
LANGUAGE sql STABLE AS $$
    SELECT (SELECT count(*)::integer FROM public.daily_usage_cache WHERE date BETWEEN s AND e),
           count(*)::integer, COALESCE(sum(total_requests), 0)::bigint, COALESCE(sum(total_tokens), 0)::bigint,
           COALESCE(sum(prompt_tokens), 0)::bigint, COALESCE(sum(completion_tokens), 0)::bigint,
           COALESCE(sum(total_cost), 0), COALESCE(sum(successful_requests), 0)::bigint,
           COALESCE(sum(failed_requests), 0)::bigint
    FROM ref.breakdown('aggregated_by_user', s, e)
$$;
CREATE FUNCTION ref.pct(cur numeric, prev numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN prev <> 0 THEN round(100 * (cur - prev) / prev, 2) END
$$;
CREATE FUNCTION ref.analytics(s date, e date) RETURNS TABLE (
    days_cached integer, active_users integer, total_requests bigint, total_tokens bigint,
    prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint,
    failed_requests bigint, top_user text, top_model text, requests_change_pct numeric,
    cost_change_pct numeric, tokens_change_pct numeric, users_change_pct numeric)
LANGUAGE sql STABLE AS $$
    SELECT c.days, c.users, c.requests, c.tokens, c.prompt, c.completion, c.cost, c.ok, c.failed,
           (SELECT key FROM ref.breakdown('aggregated_by_user', s, e) ORDER BY total_cost DESC, key COLLATE "C" LIMIT 1),
           (SELECT key FROM ref.breakdown('aggregated_by_model', s, e) ORDER BY total_cost DESC, key COLLATE "C" LIMIT 1),
           ref.pct(c.requests, p.requests), ref.pct(c.cost, p.cost), ref.pct(c.tokens, p.tokens), ref.pct(c.users, p.users)
    FROM ref.period(s, e) AS c, ref.period(s - (e - s + 1), s - 1) AS p
$$;
SELECT s, e, (SELECT count(*) FROM (SELECT * FROM ref.analytics(s, e) EXCEPT ALL SELECT * FROM ducache_analytics(s, e)) x) AS differs
FROM (VALUES (date '2025-03-01', date '2025-03-10'), (date '2025-03-08', date '2025-03-14'),
             (date '2025-02-27', date '2025-02-27'), (date '2025-03-04', date '2025-03-04'),
             (date '2024-01-01', date '2024-12-31'), (date '2025-03-11', date '2025-03-20')) AS r(s, e);
SELECT * FROM ducache_analytics('2025-03-08', '2025-03-14');
-- Totals equal the sums of the user breakdown.
SELECT a.total_requests = b.r AND a.total_cost = b.c AND a.active_users = b.n AS equals_user_breakdown_sums
FROM ducache_analytics('2025-03-01', '2025-03-10') AS a,
     (SELECT sum(total_requests) AS r, sum(total_cost) AS c, count(*) AS n FROM ducache_user_breakdown('2025-03-01', '2025-03-10')) AS b;
-- A range with no cached day: one row of zeros (the changes compare with the period before).
SELECT * FROM ducache_analytics('2024-06-01', '2024-06-30');
-- Ties on cost go to the smallest key.
INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model) VALUES
    ('2031-01-01', '{"b": {"totalCost": 1.5}, "a": {"totalCost": 1.50}, "c": {"totalCost": 1}}',
                   '{"m2": {"totalCost": 2}, "m1": {"totalCost": 2.0}}');
SELECT top_user, top_model, total_cost FROM ducache_analytics('2031-01-01', '2031-01-01');
DELETE FROM daily_usage_cache WHERE date = '2031-01-01';
