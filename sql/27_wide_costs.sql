-- Costs of 10^38 and more written with few significant digits (numeric keeps them as a few
-- base-10000 digits and a weight): ducache_merge once summed them in 128 bits and overflowed
-- (issue 13's fuzzing). Each merge must equal plain SQL sum(numeric), digit for digit.
-- Own rows in a VALUES list; needs only the extension (in the database by now).
WITH v(c) AS (VALUES
    ('1234567890123456789012340000000000000000'), ('1'),
    ('12345678901234567890000000000000000000000000000000000'), ('-0.5'),
    ('100000000000000000000000000000000000000'), ('99999999999999999999999999999999999999'),
    ('-170141183460469231731687303715884105728'), ('0.000000000000000000000000000000000001'))
SELECT n,
       (SELECT (ducache_merge(jsonb_build_object('a', jsonb_build_object('totalCost', c::numeric))) -> 'a' ->> 'cost')
        FROM (SELECT c FROM v LIMIT n) t)
     = (SELECT sum(c::numeric)::text FROM (SELECT c FROM v LIMIT n) t) AS equal
FROM generate_series(1, 8) AS n
ORDER BY n;
-- Each value alone, and twice (the same scale: the inline add).
SELECT c,
       (SELECT ducache_merge(jsonb_build_object('a', jsonb_build_object('totalCost', c::numeric + 0 * g))) -> 'a' ->> 'cost'
        FROM generate_series(1, 2) AS g) = (2 * c::numeric)::text AS twice_equal
FROM (VALUES ('1234567890123456789012340000000000000000'), ('0.123456'), ('-12345678901234567890.1234567890'),
             ('9999999999999999.99'), ('1e-36'), ('1e-40')) AS v(c);
