-- The user breakdown's identity lookup reads the users table whole when it holds at most four
-- rows a key by its row estimate, else only the rows of the keys (core/lookup_rule.hpp): either
-- way each row's username, email and role equal a plain-SQL join over the same tables, for
-- NULL and empty values, ids of no key, an id in another case, and long values kept compressed
-- or out of line (read through their TOAST pointers).
SET client_min_messages = warning;  -- self-contained: no NOTICE whether or not 20 ran before
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
TRUNCATE daily_usage_cache;
CREATE SCHEMA il;
-- 40 keys u01..u40 on two days; each entry carries its own name (the fallback).
INSERT INTO daily_usage_cache (date, aggregated_by_user)
SELECT date '2025-09-01' + d, jsonb_object_agg(format('u%s', to_char(k, 'FM00')),
           jsonb_build_object('metrics', jsonb_build_object('api_requests', k + d, 'spend', k * 0.25),
                              'username', format('entry-%s', k), 'role', 'entry-role'))
FROM generate_series(0, 1) AS d, generate_series(1, 40) AS k GROUP BY d;
-- Users: most keys, some not, NULL and empty values, 'U07' (no key: ids compare by bytes),
-- u09's username compressed inline, u10's email out of line uncompressed, and rows of no key.
CREATE TABLE il.users (id text, username text, email text, role text);
ALTER TABLE il.users ALTER COLUMN email SET STORAGE EXTERNAL;
INSERT INTO il.users
SELECT format('u%s', to_char(k, 'FM00')),
       CASE WHEN k % 5 = 0 THEN NULL WHEN k % 7 = 0 THEN '' ELSE format('name-%s', k) END,
       CASE WHEN k = 10 THEN (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 200) AS g)
            WHEN k % 3 = 0 THEN NULL ELSE format('u%s@example.com', k) END,
       CASE WHEN k % 4 = 0 THEN NULL ELSE 'member' END
FROM generate_series(1, 36) AS k WHERE k <> 7;
UPDATE il.users SET username = repeat('long-name-', 1000) WHERE id = 'u09';
INSERT INTO il.users VALUES ('U07', 'upper', 'upper@example.com', 'admin');
SELECT id, pg_column_size(username) < octet_length(username) AS username_compressed,
       pg_column_size(email) AS email_stored_bytes FROM il.users WHERE id IN ('u09', 'u10') ORDER BY id;
CREATE FUNCTION il.mismatches() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM ducache_user_breakdown('2025-09-01', '2025-09-02') AS b
    LEFT JOIN il.users AS u ON u.id = b.user_id
    LEFT JOIN (SELECT key, value FROM daily_usage_cache AS c, jsonb_each(c.aggregated_by_user)
               WHERE c.date = '2025-09-02') AS e ON e.key = b.user_id
    WHERE b.username IS DISTINCT FROM NULLIF(COALESCE(u.username, e.value->>'username'), '')
       OR b.email IS DISTINCT FROM NULLIF(u.email, '')
       OR b.role IS DISTINCT FROM NULLIF(COALESCE(u.role, e.value->>'role'), '')
$$;
SET ducache.users_table = 'il.users';
-- Never analyzed (an estimate of -1): the keys' rows.
SELECT reltuples < 0 AS no_estimate FROM pg_class WHERE oid = 'il.users'::regclass;
SELECT il.mismatches() AS filtered_unknown_size;
-- 36 rows for 40 keys: the whole table.
ANALYZE il.users;
SELECT reltuples::int AS rows_estimated FROM pg_class WHERE oid = 'il.users'::regclass;
SELECT il.mismatches() AS whole_table;
SELECT user_id, username IS NULL AS no_name, length(username) AS name_length, length(email) AS email_length, role
FROM ducache_user_breakdown('2025-09-01', '2025-09-02') WHERE user_id IN ('u05', 'u07', 'u09', 'u10', 'u14', 'u39')
ORDER BY user_id;
-- 200 rows more than four a key: the keys' rows only.
INSERT INTO il.users SELECT format('x%s', g), 'other', NULL, 'other' FROM generate_series(1, 200) AS g;
ANALYZE il.users;
SELECT reltuples::int AS rows_estimated FROM pg_class WHERE oid = 'il.users'::regclass;
SELECT il.mismatches() AS filtered_large_table;
-- Both give the same rows, in the same order.
SELECT md5(string_agg(b::text, E'\n')) AS filtered FROM ducache_user_breakdown('2025-09-01', '2025-09-02') AS b \gset
DELETE FROM il.users WHERE id LIKE 'x%';
ANALYZE il.users;
SELECT md5(string_agg(b::text, E'\n')) = :'filtered' AS same_rows FROM ducache_user_breakdown('2025-09-01', '2025-09-02') AS b;
-- Grown tenfold since its ANALYZE (statistics of 36 rows): the estimate scales by the pages now
-- (core::users_table_rows_now), the keys' rows only; the same rows either way.
INSERT INTO il.users SELECT format('y%s', g), repeat('other', 20), NULL, 'other' FROM generate_series(1, 2000) AS g;
SELECT reltuples::int AS rows_estimated FROM pg_class WHERE oid = 'il.users'::regclass;
SELECT md5(string_agg(b::text, E'\n')) = :'filtered' AS same_rows_grown FROM ducache_user_breakdown('2025-09-01', '2025-09-02') AS b;
RESET ducache.users_table;
DROP SCHEMA il CASCADE;
TRUNCATE daily_usage_cache;
