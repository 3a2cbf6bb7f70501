-- The documents' costs as numerics made from the sums' digits (round 10): the JSONB sink lays a
-- DecimalSum's value out as numeric's on-disk bytes (core DecimalSum::numeric_digits,
-- pg/numeric_decode.hpp encode_numeric) instead of printing it and calling numeric_in. The bytes
-- must be numeric_in's of the sum's text (the path before) for every value: scales, trailing
-- zeros, zero and -0, negatives, values below 10^-4, 64-bit and 128-bit magnitudes, sums of mixed
-- scales, display scales past the short format's 63; a sum past 128 bits takes the text path
-- (NULL here). The sums themselves against SQL's sum(numeric). Needs a DUCACHE_TEST_HOOKS build.
CREATE FUNCTION ducache_test_sum_direct(numeric[]) RETURNS numeric
    AS 'ducache', 'ducache_test_sum_direct' LANGUAGE C STRICT;
CREATE FUNCTION ducache_test_sum_text(numeric[]) RETURNS text
    AS 'ducache', 'ducache_test_sum_text' LANGUAGE C STRICT;
-- A numeric's bytes (byteasend returns its argument's varlena): equal bytes, not numeric equality.
CREATE FUNCTION pg_temp.bytes(numeric) RETURNS bytea LANGUAGE internal IMMUTABLE STRICT AS 'byteasend';

CREATE TEMP TABLE sums AS
WITH v AS (
    SELECT i, j, ('x' || substr(md5(i || '/' || j), 1, 15))::bit(60)::bigint AS h,
           ('x' || substr(md5(j || '\' || i), 1, 15))::bit(60)::bigint AS g
    FROM generate_series(1, 20000) AS i, generate_series(1, 4) AS j
    WHERE j <= 1 + i % 4)
SELECT i, array_agg((CASE WHEN g % 3 = 0 THEN '-' ELSE '' END
                     || (CASE g % 4 WHEN 0 THEN 0 WHEN 1 THEN g % 100 ELSE h % 1000000000000 END)::text
                     || CASE WHEN h % 19 > 0
                             THEN '.' || lpad((g % (10::bigint ^ (h % 19))::bigint)::text, (h % 19)::int, '0')
                                  || repeat('0', (g % 3)::int)
                             ELSE '' END)::numeric ORDER BY j) AS a
FROM v GROUP BY i
UNION ALL
SELECT 100000 + row_number() OVER (), a::numeric[] FROM (VALUES
    ('{0}'), ('{0.00}'), ('{-0.00}'), ('{1}'), ('{-1}'), ('{12.3400}'), ('{0.0001}'), ('{0.00001234}'),
    ('{10000}'), ('{99999999}'), ('{100000000}'), ('{0.1,-0.1}'), ('{1.50,2}'), ('{0.0246,0.45}'),
    ('{2.4976888017}'), ('{-2.4976888017,0.0000000001}'), ('{123456789012345678.9012345678}'),
    ('{170141183460469231731687303715884105727}'), ('{-170141183460469231731687303715884105727}'),
    ('{17014118346046923173168730371588410572.7}'), ('{0.000000000000000000000000000000000001}'),
    ('{99999999999999999999999999999999999999,99999999999999999999999999999999999999}'),
    ('{1.0000000000000000000000000000000000000000000000000001}'),
    (format('{5.%s}', repeat('0', 100))), (format('{-5.%s1}', repeat('0', 40))),
    (format('{7,0.%s}', repeat('0', 70))), ('{-0.5,0.25,0.125}'), ('{1e20,-1e20}'), ('{1e-30}'),
    ('{123456789012345678901.5}'), ('{-98765432109876543210.123456789}'), ('{18446744073709551615}'),
    ('{18446744073709551616}'), ('{9999999999999999999.99999999,0.00000001}'), ('{1234567890123456789012345678}'),
    ('{12345678901234567890.1234567890123456}'), ('{-12345678901234567890.1234567890123456,-1}')) AS t(a);

SELECT count(*) AS sums,
       count(*) FILTER (WHERE d IS NULL) AS text_path,
       count(*) FILTER (WHERE d IS NOT NULL AND pg_temp.bytes(d) IS DISTINCT FROM pg_temp.bytes(t::numeric)) AS differing,
       count(*) FILTER (WHERE t::numeric IS DISTINCT FROM s OR t IS DISTINCT FROM s::text) AS wrong_sums,
       count(*) FILTER (WHERE pg_temp.bytes(d) = pg_temp.bytes(t::numeric) AND t LIKE '-%') > 0 AS has_negatives,
       count(*) FILTER (WHERE octet_length(pg_temp.bytes(d)) > 2 + 2 * 5) > 0 AS has_wide_values,  -- past 64 bits
       count(*) FILTER (WHERE d IS NOT NULL AND scale(d) > 63) > 0 AS has_long_format
FROM (SELECT ducache_test_sum_direct(a) AS d, ducache_test_sum_text(a) AS t,
             (SELECT sum(x) FROM unnest(a) AS x) AS s
      FROM sums) AS q;

DROP TABLE sums;
DROP FUNCTION ducache_test_sum_direct(numeric[]);
DROP FUNCTION ducache_test_sum_text(numeric[]);
