-- The users and api-keys tables are checked and read the same way by every function: a users
-- table whose roles column is not an array is 42703 from the breakdown AND from the rebuild
-- (the rebuild once failed later, with 42804); identity read from either table equals a
-- plain-SQL join over the same tables.
SET client_min_messages = warning;  -- self-contained: no NOTICE whether or not 20 ran before
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
TRUNCATE daily_usage_cache;
CREATE SCHEMA lk;
CREATE TABLE lk.users (id uuid PRIMARY KEY, username text, email text, roles text[]);
CREATE TABLE lk.users_role (id text, username text, email text, role text);
CREATE TABLE lk.users_text_roles (id uuid, username text, email text, roles text);
CREATE TABLE lk.users_no_email (id uuid, username text, roles text[]);
CREATE TABLE lk.api_keys (key_hash text, user_id uuid, name text);
CREATE TABLE lk.api_keys_no_user (key_hash text, name text);
INSERT INTO lk.users VALUES
    ('11111111-1111-4111-8111-111111111111', 'ada', 'ada@example.com', '{admin,user}'),
    ('22222222-2222-4222-8222-222222222222', 'grace', NULL, '{}');
INSERT INTO lk.users_role SELECT id::text, upper(username), email, roles[1] FROM lk.users;
INSERT INTO lk.users_text_roles SELECT id, username, email, array_to_string(roles, ',') FROM lk.users;
INSERT INTO lk.users_no_email SELECT id, username, roles FROM lk.users;
INSERT INTO lk.api_keys VALUES ('k-ada', '11111111-1111-4111-8111-111111111111', 'ada'),
                               ('k-grace', '22222222-2222-4222-8222-222222222222', 'grace'),
                               ('k-gone', '33333333-3333-4333-8333-333333333333', 'no users row');
INSERT INTO daily_usage_cache (date, raw_data)
SELECT date '2025-09-01' + i, jsonb_build_object('breakdown', jsonb_build_object('models', jsonb_build_object(
           'm1', jsonb_build_object('metrics', jsonb_build_object('api_requests', 9),
                 'api_keys', jsonb_build_object(
                     'k-ada', jsonb_build_object('metrics', jsonb_build_object('api_requests', 1 + i, 'spend', 0.5)),
                     'k-grace', jsonb_build_object('metrics', jsonb_build_object('api_requests', 2)),
                     'k-gone', jsonb_build_object('metrics', jsonb_build_object('api_requests', 3)),
                     'k-none', jsonb_build_object('metrics', jsonb_build_object('api_requests', 4)))))))
FROM generate_series(0, 1) AS i;
SET ducache.api_keys_table = 'lk.api_keys';

-- Identity the rebuild wrote vs a plain-SQL join of the same tables, for a users table with
-- roles text[] and one with a role column (text ids: the join is on text). CONTRACT §5.5: a key
-- whose users row is gone is unmapped (inner join), a NULL role reads 'user', the Unknown User
-- is {Unknown User, unknown@system.local, user}.
CREATE FUNCTION lk.rebuild_identity_mismatches(users_table regclass, role_expr text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format($q$
        WITH want AS (
            SELECT k.key AS key_hash, COALESCE(a.user_id::text, '00000000-0000-0000-0000-000000000000') AS uid,
                   CASE WHEN a.user_id IS NULL THEN 'Unknown User' ELSE a.username END AS username,
                   CASE WHEN a.user_id IS NULL THEN 'unknown@system.local' ELSE a.email END AS email,
                   COALESCE(a.role, 'user') AS role
            FROM daily_usage_cache AS c, jsonb_each(c.raw_data->'breakdown'->'models'->'m1'->'api_keys') AS k
            LEFT JOIN (SELECT a.key_hash, a.user_id, u.username, u.email, %s AS role
                       FROM lk.api_keys AS a JOIN %s AS u ON u.id::text = a.user_id::text) AS a
                   ON a.key_hash = k.key),
        got AS (
            SELECT u.key AS uid, u.value->>'username' AS username, u.value->>'email' AS email, u.value->>'role' AS role
            FROM daily_usage_cache AS c, jsonb_each(c.aggregated_by_user) AS u)
        SELECT count(*) FROM ((SELECT DISTINCT uid, username, email, role FROM want EXCEPT SELECT DISTINCT * FROM got)
                              UNION ALL (SELECT DISTINCT * FROM got EXCEPT SELECT DISTINCT uid, username, email, role FROM want)) d
    $q$, role_expr, users_table) INTO n;
    RETURN n;
END $$;

SET ducache.users_table = 'lk.users';
SELECT count(*) AS days FROM ducache_rebuild('2025-09-01', '2025-09-02');
SELECT lk.rebuild_identity_mismatches('lk.users', 'u.roles[1]') AS roles_array_mismatches;
-- The breakdown reads the same table the same way.
SELECT count(*) AS breakdown_mismatches FROM ducache_user_breakdown('2025-09-01', '2025-09-02') AS b
LEFT JOIN lk.users AS u ON u.id::text = b.user_id
WHERE b.username IS DISTINCT FROM COALESCE(u.username, b.username) OR b.role IS DISTINCT FROM COALESCE(u.roles[1], b.role)
   OR (u.id IS NOT NULL AND b.email IS DISTINCT FROM COALESCE(u.email, b.email));

SET ducache.users_table = 'lk.users_role';
SELECT count(*) AS days FROM ducache_rebuild('2025-09-01', '2025-09-02');
SELECT lk.rebuild_identity_mismatches('lk.users_role', 'u.role') AS role_column_mismatches;
SELECT user_id, username, role FROM ducache_user_breakdown('2025-09-01', '2025-09-02') ORDER BY user_id;

-- No users table: owners keep their ids, without names.
SET ducache.users_table = '';
SELECT count(*) AS days FROM ducache_rebuild('2025-09-01', '2025-09-02');
SELECT u.key AS user_id, u.value->>'username' AS username, u.value->>'role' AS role
FROM daily_usage_cache AS c, jsonb_each(c.aggregated_by_user) AS u WHERE c.date = '2025-09-01' ORDER BY 1;

-- roles as text: the same SQLSTATE (42703) and message from the breakdown and the rebuild,
-- and the rebuild wrote nothing.
SELECT md5(string_agg(aggregated_by_user::text, '#' ORDER BY date)) AS before FROM daily_usage_cache \gset
SET ducache.users_table = 'lk.users_text_roles';
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2025-09-01', '2025-09-02')$$) AS breakdown_error;
SELECT ducache_test.error_of($$SELECT * FROM ducache_rebuild('2025-09-01', '2025-09-02')$$) AS rebuild_error;
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2025-09-01', '2025-09-02')$$)
     = ducache_test.error_of($$SELECT * FROM ducache_rebuild('2025-09-01', '2025-09-02')$$) AS same_error;
SELECT md5(string_agg(aggregated_by_user::text, '#' ORDER BY date)) = :'before' AS nothing_rewritten FROM daily_usage_cache;

-- A missing column is the same error from both, too.
SET ducache.users_table = 'lk.users_no_email';
SELECT ducache_test.error_of($$SELECT * FROM ducache_user_breakdown('2025-09-01', '2025-09-02')$$)
     = ducache_test.error_of($$SELECT * FROM ducache_rebuild('2025-09-01', '2025-09-02')$$) AS same_error,
       split_part(ducache_test.error_of($$SELECT * FROM ducache_rebuild('2025-09-01', '2025-09-02')$$), ':', 1) AS sqlstate;

-- The api-keys table is checked before it is read.
SET ducache.users_table = 'lk.users';
SET ducache.api_keys_table = 'lk.api_keys_no_user';
SELECT ducache_test.error_of($$SELECT * FROM ducache_rebuild('2025-09-01', '2025-09-02')$$) AS api_keys_error;

RESET ducache.users_table;
RESET ducache.api_keys_table;
DROP SCHEMA lk CASCADE;
TRUNCATE daily_usage_cache;
