-- Fixture for the read-path tests (20-29): both entry shapes, numbers as strings, JSON nulls,
-- missing fields, negative costs, costs with 9+ decimals, unicode keys, keys absent from the
-- users table, alias priorities, days missing from the range and days outside it.
-- Also the independent plain-SQL reference functions the tests compare against.
SET client_min_messages = warning;  -- whether 10_install_empty ran before or not (subset runs)
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
TRUNCATE daily_usage_cache;

CREATE SCHEMA ref;
-- A LiteMaaS-style users table: uuid ids, roles text[]. Only even-numbered users are in it.
CREATE TABLE ref.users (id uuid PRIMARY KEY, username text, email text, roles text[]);
INSERT INTO ref.users
SELECT md5('u' || u)::uuid, 'table-user-' || u, CASE WHEN u % 4 = 0 THEN NULL ELSE 'u' || u || '@corp.example' END,
       ARRAY[CASE WHEN u = 2 THEN 'admin' ELSE 'user' END, 'viewer']
FROM generate_series(2, 30, 2) AS u;

INSERT INTO daily_usage_cache (date, aggregated_by_user, aggregated_by_model, aggregated_by_provider)
SELECT day,
       -- 30 nested (LiteMaaS) users keyed by uuid; some metrics missing or null; negative spend.
       (SELECT jsonb_object_agg(md5('u' || u)::uuid::text,
                 jsonb_build_object('userId', md5('u' || u)::uuid, 'username', 'entry-user-' || u,
                                    'email', 'entry' || u || '@mail.example', 'role', 'user',
                                    'metrics', jsonb_strip_nulls(jsonb_build_object(
                                        'api_requests', i * u % 97,
                                        'total_tokens', (i * u * 31) % 5000,
                                        'prompt_tokens', CASE WHEN u % 5 = 0 THEN NULL ELSE (i * u * 17) % 3000 END,
                                        'completion_tokens', (i * u * 13) % 2000,
                                        'spend', CASE WHEN u % 7 = 0 THEN -round((i * u) * 0.0000001234567, 13)
                                                      ELSE round((i * u) * 0.0012345678911, 13) END,
                                        'successful_requests', CASE WHEN u % 3 = 0 THEN NULL ELSE i * u % 90 END,
                                        'failed_requests', (i + u) % 7)),
                                    'models', jsonb_build_object('m' || (u % 3),
                                        jsonb_build_object('metrics', jsonb_build_object('api_requests', 1))))
                 -- top-level flat metrics next to "metrics" must be ignored in the nested shape
                 || CASE WHEN u % 6 = 0 THEN '{"totalRequests": 100000, "successful_requests": null}'::jsonb ELSE '{}' END)
        FROM generate_series(1, 30) AS u WHERE (u + i) % 4 <> 0)
       -- flat (seed) users, with the odd cases.
       || jsonb_build_object(
            'flat-1', jsonb_build_object('totalRequests', (i * 3)::text, 'totalTokens', i * 100,
                                         'promptTokens', i * 60, 'completionTokens', i * 40,
                                         'totalCost', '0.000000001234'),
            'flat-2', jsonb_build_object('totalRequests', '1e3', 'totalTokens', null,
                                         'totalCost', -0.5, 'failedRequests', 12.0),
            'ユーザー-ü', jsonb_build_object('requests', i, 'tokens', i * 7, 'cost', 1.10,
                                              'successfulRequests', i),
            -- alias priority: totalRequests beats api_requests; a null falls through to the next.
            'alias-both', jsonb_build_object('totalRequests', 5, 'api_requests', 900,
                                             'totalCost', null, 'spend', 0.25, 'cost', 99)),
       jsonb_build_object('granite-3.1-8b', jsonb_build_object('totalRequests', i * 10, 'totalCost', i * 0.0101010101),
                          'llama-3.1', jsonb_build_object('metrics', jsonb_build_object('api_requests', i, 'spend', '0.5')),
                          'модель', jsonb_build_object('requests', '7', 'cost', -0.125)),
       jsonb_build_object('vllm', jsonb_build_object('metrics', jsonb_build_object('api_requests', i * 11, 'total_tokens', i * 1000, 'spend', i * 0.33)),
                          'openai', jsonb_build_object('totalRequests', 2, 'totalCost', 0.000000000001))
FROM generate_series(date '2025-02-27', date '2025-03-20', interval '1 day') WITH ORDINALITY AS g(d, i),
     LATERAL (SELECT d::date AS day) AS x
WHERE d::date NOT IN (date '2025-03-04', date '2025-03-09');   -- days missing from the range

-- One day holds only a user absent from every other day, with identity only in the entry.
UPDATE daily_usage_cache
SET aggregated_by_user = aggregated_by_user || '{"solo": {"username": "solo-entry", "role": "guest", "totalRequests": 1}}'
WHERE date = '2025-03-07';
-- Columns that are NULL on a day count as nothing.
UPDATE daily_usage_cache SET aggregated_by_model = NULL, aggregated_by_provider = NULL WHERE date = '2025-03-05';

SELECT count(*) AS cached_days, min(date), max(date) FROM daily_usage_cache;

-- The metrics object of an entry: "metrics" when it is an object, else the entry itself.
CREATE FUNCTION ref.m(entry jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(entry->'metrics') = 'object' THEN entry->'metrics' ELSE entry END
$$;

-- Plain-SQL reference for a breakdown column: jsonb_each + GROUP BY, aliases by COALESCE in
-- the contract's priority order (a JSON null falls through, like a missing key).
CREATE FUNCTION ref.breakdown(col text, s date, e date)
RETURNS TABLE (key text, total_requests bigint, total_tokens bigint, prompt_tokens bigint,
               completion_tokens bigint, total_cost numeric, successful_requests bigint,
               failed_requests bigint, active_days integer,
               entry_username text, entry_email text, entry_role text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN QUERY EXECUTE format($q$
        SELECT x.key,
               COALESCE(sum(COALESCE(ref.m(x.value)->>'totalRequests', ref.m(x.value)->>'api_requests', ref.m(x.value)->>'requests')::numeric), 0)::bigint,
               COALESCE(sum(COALESCE(ref.m(x.value)->>'totalTokens', ref.m(x.value)->>'total_tokens', ref.m(x.value)->>'tokens')::numeric), 0)::bigint,
               COALESCE(sum(COALESCE(ref.m(x.value)->>'promptTokens', ref.m(x.value)->>'prompt_tokens')::numeric), 0)::bigint,
               COALESCE(sum(COALESCE(ref.m(x.value)->>'completionTokens', ref.m(x.value)->>'completion_tokens')::numeric), 0)::bigint,
               COALESCE(sum(COALESCE(ref.m(x.value)->>'totalCost', ref.m(x.value)->>'spend', ref.m(x.value)->>'cost')::numeric), 0),
               COALESCE(sum(COALESCE(ref.m(x.value)->>'successfulRequests', ref.m(x.value)->>'successful_requests')::numeric), 0)::bigint,
               COALESCE(sum(COALESCE(ref.m(x.value)->>'failedRequests', ref.m(x.value)->>'failed_requests')::numeric), 0)::bigint,
               count(DISTINCT c.date)::integer,
               (array_agg(x.value->>'username' ORDER BY c.date DESC) FILTER (WHERE jsonb_typeof(x.value->'username') = 'string'))[1],
               (array_agg(x.value->>'email' ORDER BY c.date DESC) FILTER (WHERE jsonb_typeof(x.value->'email') = 'string'))[1],
               (array_agg(x.value->>'role' ORDER BY c.date DESC) FILTER (WHERE jsonb_typeof(x.value->'role') = 'string'))[1]
        FROM public.daily_usage_cache AS c, jsonb_each(c.%I) AS x
        WHERE c.date BETWEEN $1 AND $2
        GROUP BY x.key $q$, col) USING s, e;
END $$;

-- The user breakdown's identity: the users table first, then the entry's own values.
CREATE FUNCTION ref.user_breakdown(s date, e date)
RETURNS TABLE (user_id text, username text, email text, role text, total_requests bigint,
               total_tokens bigint, prompt_tokens bigint, completion_tokens bigint,
               total_cost numeric, successful_requests bigint, failed_requests bigint,
               active_days integer)
LANGUAGE sql STABLE AS $$
    SELECT b.key, COALESCE(u.username, b.entry_username), COALESCE(u.email, b.entry_email),
           COALESCE(u.roles[1], b.entry_role), b.total_requests, b.total_tokens, b.prompt_tokens,
           b.completion_tokens, b.total_cost, b.successful_requests, b.failed_requests, b.active_days
    FROM ref.breakdown('aggregated_by_user', s, e) AS b
    LEFT JOIN ref.users AS u ON u.id::text = b.key
$$;
