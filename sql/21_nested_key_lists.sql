-- The serial user breakdown's nested (LiteMaaS) loop over day rows whose key lists repeat,
-- change and take turns, against ref.user_breakdown (20_read_fixture) on own rows (2033, removed
-- at the end): days with the same 40 users, a day with as many users but one other, the first
-- list again, an entry of another layout (read by the other ways) and one whose error must name
-- its key, a second kind of list (users 41-80: another position 0, its own hint set) taking turns
-- with the first, and a rename (the latest day's name wins). Round 15 of issue 13 wrote it for
-- slots by known key lists (core::KeyAggregator::known_keys) in this loop; measured, that was
-- dropped for nested rows (docs/benchmarks.md), the cases stay: the position hints' paths.
SET ducache.parallel_min_days = -1;  -- the serial loop
SET ducache.use_rollups = off;
INSERT INTO daily_usage_cache (date, aggregated_by_user)
SELECT date '2033-01-01' + d,
       (SELECT jsonb_object_agg(md5('nk' || uu)::uuid::text, jsonb_build_object(
                   'userId', md5('nk' || uu)::uuid,
                   'username', 'nk-user-' || uu || CASE WHEN d >= 2 AND uu = 3 THEN '-renamed' ELSE '' END,
                   'email', 'nk' || uu || '@example.com', 'role', 'user',
                   'metrics', jsonb_build_object('api_requests', d * 7 + uu, 'total_tokens', (d + 1) * uu * 13,
                                                 'prompt_tokens', (d + 1) * uu * 9, 'completion_tokens', (d + 1) * uu * 4,
                                                 'spend', round((d * 31 + uu) * 0.000137, 6)),
                   'models', jsonb_build_object('m-' || (uu % 3), jsonb_build_object('modelName', 'm-' || (uu % 3),
                                 'metrics', jsonb_build_object('api_requests', 1, 'total_tokens', uu, 'spend', 0.5)))))
        FROM (SELECT CASE WHEN d = 3 AND u = 17 THEN 1017   -- day 3: one user other, same count
                          WHEN d IN (7, 8, 10) THEN u + 40     -- days 7, 8, 10: the second kind
                          ELSE u END AS uu
              FROM generate_series(1, 40) AS u) AS s)
FROM generate_series(0, 11) AS d;
-- Day 6 (a known list): one entry with a member more (another layout).
UPDATE daily_usage_cache
SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[md5('nk5')::uuid::text, 'note'], '"x"')
WHERE date = '2033-01-07';
SELECT count(*) AS entries, count(DISTINCT k) AS users
FROM daily_usage_cache AS c, jsonb_object_keys(c.aggregated_by_user) AS k WHERE c.date >= '2033-01-01';
-- Every range starting where the lists take their turns: no row missing, none extra.
SELECT s, e,
       (SELECT count(*) FROM (SELECT * FROM ref.user_breakdown(s, e) EXCEPT ALL
                              SELECT user_id, username, email, role, total_requests, total_tokens, prompt_tokens,
                                     completion_tokens, total_cost, successful_requests, failed_requests, active_days
                              FROM ducache_user_breakdown(s, e)) AS a) AS missing,
       (SELECT count(*) FROM (SELECT user_id, username, email, role, total_requests, total_tokens, prompt_tokens,
                                     completion_tokens, total_cost, successful_requests, failed_requests, active_days
                              FROM ducache_user_breakdown(s, e) EXCEPT ALL
                              SELECT * FROM ref.user_breakdown(s, e)) AS b) AS extra,
       (SELECT count(*) FROM ducache_user_breakdown(s, e)) AS rows
FROM (VALUES (date '2033-01-01', date '2033-01-12'), ('2033-01-02', '2033-01-12'), ('2033-01-04', '2033-01-09'),
             ('2033-01-07', '2033-01-07')) AS r(s, e);
SELECT username, total_requests, active_days FROM ducache_user_breakdown('2033-01-01', '2033-01-12')
WHERE user_id IN (md5('nk3')::uuid::text, md5('nk17')::uuid::text, md5('nk1017')::uuid::text, md5('nk41')::uuid::text)
ORDER BY username;
-- An entry of a known list whose "metrics" is no object: the error names its key (found for it).
UPDATE daily_usage_cache
SET aggregated_by_user = jsonb_set(aggregated_by_user, ARRAY[md5('nk9')::uuid::text, 'metrics'], '7')
WHERE date = '2033-01-07';
SELECT position(md5('nk9')::uuid::text IN ducache_test.error_of(
           $$SELECT count(*) FROM ducache_user_breakdown('2033-01-01', '2033-01-12')$$)) > 0 AS error_names_the_key;
DELETE FROM daily_usage_cache WHERE date >= '2033-01-01';
RESET ALL;
