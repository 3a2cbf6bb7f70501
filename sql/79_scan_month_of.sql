-- The rollup scans' text for ducache_month_of(d) and ducache_block_of(d) (pg/cache_scan.cpp:
-- the functions' bodies written into the statement, which PostgreSQL does not inline) against
-- the SQL functions, on every day of 16 months around two leap days and on the dates at the ends
-- of what date and timestamp hold. Needs the DUCACHE_TEST_HOOKS build.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS ducache;
RESET client_min_messages;
CREATE FUNCTION ducache_test_scan_month_of(date, boolean) RETURNS date
    AS 'ducache', 'ducache_test_scan_month_of' LANGUAGE C STRICT;

WITH dates AS (
    SELECT g::date AS d FROM generate_series('2023-12-01'::timestamp, '2025-03-31', '1 day') AS g
    UNION ALL
    SELECT g::date FROM generate_series('1899-12-20'::timestamp, '1900-03-10', '1 day') AS g
    UNION ALL
    SELECT unnest(ARRAY['4714-11-24 BC', '4714-11-25 BC', '4714-11-30 BC', '4714-12-01 BC', '4714-12-09 BC',
                        '4714-12-25 BC', '4714-12-31 BC', '0001-12-31 BC', '0001-01-01', '0001-01-25',
                        '294276-12-31', '294277-01-01', '294277-02-28', '5874897-12-01', '5874897-12-24',
                        '5874897-12-25', '5874897-12-31', 'infinity', '-infinity']::date[])
)
SELECT count(*) AS dates,
       count(*) FILTER (WHERE ducache_test_scan_month_of(d, false) IS DISTINCT FROM ducache_month_of(d)) AS months_differ,
       count(*) FILTER (WHERE ducache_test_scan_month_of(d, true) IS DISTINCT FROM ducache_block_of(d)) AS blocks_differ,
       count(*) FILTER (WHERE ducache_month_of(d) IS NULL) AS no_month,
       count(DISTINCT ducache_block_of(d)) AS blocks
FROM dates;

DROP FUNCTION ducache_test_scan_month_of(date, boolean);
