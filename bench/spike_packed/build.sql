-- Round 13 spike (docs/rollups.md "Round 13 (spike): a packed per-user column"): builds, into a
-- scratch schema `spike`, the packed per-user column the spike measured, for the rollup rows
-- (months, blocks, day projections) the two 90-day bench dashboards and their comparison periods
-- read. Not part of the extension; nothing of ducache's is written. Run on the L data set:
--   psql -d ducache_bench -f bench/spike_packed/build.sql
CREATE SCHEMA IF NOT EXISTS spike;
-- The rollup rows one dashboard period [s, e] reads (pg/dashboard.cpp via pg/cache_scan.cpp: fresh
-- months, then fresh blocks of the other months, then built day projections of the other days).
CREATE OR REPLACE FUNCTION spike.period_rows(s date, e date) RETURNS TABLE(kind text, k date) LANGUAGE plpgsql STABLE AS $f$
DECLARE months date[]; block_list date[];
BEGIN
    SELECT coalesce(array_agg(r.month), '{}') INTO months FROM public.ducache_rollups r
    WHERE r.built AND r.month >= s AND (r.month + interval '1 month' - interval '1 day')::date <= e;
    SELECT coalesce(array_agg(b.block), '{}') INTO block_list FROM public.ducache_rollup_blocks b
    WHERE b.built AND b.block >= s AND b.last_day <= e AND NOT (b.month = ANY (months));
    RETURN QUERY SELECT 'month', m FROM unnest(months) m;
    RETURN QUERY SELECT 'block', m FROM unnest(block_list) m;
    RETURN QUERY SELECT 'day', p.day FROM public.ducache_rollup_days p
    WHERE p.built AND p.day BETWEEN s AND e AND NOT (p.month = ANY (months))
      AND NOT (public.ducache_block_of(p.day) = ANY (block_list));
END $f$;
DROP VIEW IF EXISTS spike.all_rows CASCADE;
CREATE VIEW spike.all_rows AS
SELECT 'month' kind, month k, user_totals, key_totals FROM public.ducache_rollups
UNION ALL SELECT 'block', block, user_totals, key_totals FROM public.ducache_rollup_blocks
UNION ALL SELECT 'day', day, user_totals, key_totals FROM public.ducache_rollup_days;
-- The rows of the two bench ranges and their comparison periods.
DROP TABLE IF EXISTS spike.rows CASCADE;
CREATE TABLE spike.rows AS
SELECT DISTINCT kind, k FROM (
    SELECT * FROM spike.period_rows('2025-04-01', '2025-06-29')
    UNION ALL SELECT * FROM spike.period_rows('2025-01-01', '2025-03-31')
    UNION ALL SELECT * FROM spike.period_rows('2025-05-18', '2025-08-15')
    UNION ALL SELECT * FROM spike.period_rows('2025-02-17', '2025-05-17')) x;
-- The user dictionary: user_id -> int4, in an arbitrary (not sorted) order, as appends would give.
DROP TABLE IF EXISTS spike.user_dict;
CREATE TABLE spike.user_dict AS
SELECT (row_number() OVER (ORDER BY md5(u)))::int4 - 1 AS id, u AS user_id
FROM (SELECT DISTINCT jsonb_object_keys(user_totals) u FROM spike.all_rows JOIN spike.rows USING (kind, k)) x;
-- The identity dictionary: distinct (username, email, role) of "~identity" -> int4 (0: none).
DROP TABLE IF EXISTS spike.ident_dict;
CREATE TABLE spike.ident_dict AS
SELECT (row_number() OVER (ORDER BY i::text))::int4 AS id, i AS identity
FROM (SELECT DISTINCT v->'~identity' i FROM spike.all_rows JOIN spike.rows USING (kind, k), jsonb_each(user_totals) e(u, v)
      WHERE v ? '~identity') x;
-- The key pair dictionary: (user_id, alias) -> int4.
DROP TABLE IF EXISTS spike.pair_dict;
CREATE TABLE spike.pair_dict AS
SELECT (row_number() OVER (ORDER BY md5(u || a)))::int4 - 1 AS id, u AS user_id, a AS alias
FROM (SELECT DISTINCT e.u, a.a FROM spike.all_rows JOIN spike.rows USING (kind, k), jsonb_each(key_totals) e(u, v), jsonb_object_keys(e.v) a(a)) x;
-- One array: little-endian values of one width (2, 4 or 8 bytes: the narrowest holding every
-- value of the row), ordered by dictionary id, 0 for ids the row lacks.
CREATE OR REPLACE FUNCTION spike.le(v int8, w int) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE w WHEN 2 THEN substr(int8send(v), 7, 2) WHEN 4 THEN substr(int8send(v), 5, 4) ELSE int8send(v) END
$$;
-- (Big-endian, as int8send gives; the width is what matters for the size and the floor.)
CREATE OR REPLACE FUNCTION spike.width(mx int8, mn int8) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN mx < 32768 AND mn >= -32768 THEN 2 WHEN mx < 2147483648 AND mn >= -2147483648 THEN 4 ELSE 8 END
$$;
-- The per-user values of every row, one line per (row, dictionary id).
DROP TABLE IF EXISTS spike.vals;
CREATE TABLE spike.vals AS
WITH e AS MATERIALIZED (
    SELECT r.kind, r.k, e.u, e.v FROM spike.rows r JOIN spike.all_rows x USING (kind, k), jsonb_each(x.user_totals) e(u, v))
SELECT r.kind, r.k, d.id, e.v->'metrics'->>'totalCost' AS cost_text,
       ARRAY[coalesce((v->'metrics'->>'totalRequests')::int8, 0), coalesce((v->'metrics'->>'successfulRequests')::int8, 0),
             coalesce((v->'metrics'->>'failedRequests')::int8, 0), coalesce((v->'metrics'->>'promptTokens')::int8, 0),
             coalesce((v->'metrics'->>'completionTokens')::int8, 0), coalesce((v->'metrics'->>'totalTokens')::int8, 0),
             coalesce(((v->'metrics'->>'totalCost')::numeric * 1e10)::int8, 0), coalesce(((v->>'~keycost')::numeric * 1e10)::int8, 0),
             coalesce((v->>'~keymag')::int8, 0), coalesce(i.id, 0), coalesce((v->>'~days')::int8, 0)] AS a
FROM spike.rows r CROSS JOIN spike.user_dict d
LEFT JOIN e ON e.kind = r.kind AND e.k = r.k AND e.u = d.user_id
LEFT JOIN spike.ident_dict i ON i.identity = e.v->'~identity';
CREATE INDEX ON spike.vals (kind, k);
-- Exactness of the scaled costs (10 decimals at L): every cost is an integer number of 1e-10.
SELECT 'costs not exact at scale 1e10' AS problem, count(*) FROM spike.vals WHERE cost_text::numeric * 1e10 <> a[7];
-- The packed column, two layouts: "full" every array 8 bytes; "narrow" each array in the row's
-- narrowest width; both with the day mask ("~days") and without it (the dashboard does not read
-- it). Header: per array its code and width (the real one would add each array's max for the
-- overflow test; 8 bytes more an array).
DROP TABLE IF EXISTS spike.packed;
CREATE TABLE spike.packed (kind text, k date, variant text, p bytea, PRIMARY KEY (variant, kind, k));
ALTER TABLE spike.packed ALTER COLUMN p SET COMPRESSION lz4;
CREATE OR REPLACE FUNCTION spike.pack(kind_ text, k_ date, narrow boolean, n int) RETURNS bytea LANGUAGE plpgsql AS $f$
DECLARE head bytea := int4send(n); body bytea := ''; mx int8; mn int8; w int; arr bytea;
BEGIN
    FOR j IN 1..n LOOP
        SELECT max(a[j]), min(a[j]) INTO mx, mn FROM spike.vals WHERE kind = kind_ AND k = k_;
        w := CASE WHEN narrow THEN spike.width(mx, mn) ELSE 8 END;
        SELECT string_agg(spike.le(a[j], w), ''::bytea ORDER BY id) INTO arr FROM spike.vals WHERE kind = kind_ AND k = k_;
        head := head || int2send(j::int2) || int2send(w::int2) || int8send(mx);
        body := body || arr;
    END LOOP;
    RETURN head || body;
END $f$;
INSERT INTO spike.packed
SELECT kind, k, var.name, spike.pack(kind, k, var.narrow, var.n)
FROM spike.rows r, (VALUES ('full', false, 10), ('narrow', true, 10), ('full+days', false, 11), ('narrow+days', true, 11)) var(name, narrow, n);
-- The key pairs' column for the top API key without key_totals: per pair requests, totalTokens,
-- scaled cost (narrow widths), ordered by the pair dictionary.
DROP TABLE IF EXISTS spike.pair_vals;
CREATE TABLE spike.pair_vals AS
WITH e AS MATERIALIZED (
    SELECT r.kind, r.k, e.u, a.a, a.v FROM spike.rows r JOIN spike.all_rows x USING (kind, k), jsonb_each(x.key_totals) e(u, v),
    jsonb_each(e.v) a(a, v))
SELECT r.kind, r.k, d.id,
       ARRAY[coalesce((e.v->'metrics'->>'totalRequests')::int8, 0), coalesce((e.v->'metrics'->>'totalTokens')::int8, 0),
             coalesce(((e.v->'metrics'->>'totalCost')::numeric * 1e10)::int8, 0)] AS a
FROM spike.rows r CROSS JOIN spike.pair_dict d
LEFT JOIN e ON e.kind = r.kind AND e.k = r.k AND e.u = d.user_id AND e.a = d.alias;
CREATE INDEX ON spike.pair_vals (kind, k);
CREATE OR REPLACE FUNCTION spike.pack_pairs(kind_ text, k_ date) RETURNS bytea LANGUAGE plpgsql AS $f$
DECLARE head bytea := int4send(3); body bytea := ''; mx int8; mn int8; w int; arr bytea;
BEGIN
    FOR j IN 1..3 LOOP
        SELECT max(a[j]), min(a[j]) INTO mx, mn FROM spike.pair_vals WHERE kind = kind_ AND k = k_;
        w := spike.width(mx, mn);
        SELECT string_agg(spike.le(a[j], w), ''::bytea ORDER BY id) INTO arr FROM spike.pair_vals WHERE kind = kind_ AND k = k_;
        head := head || int2send(j::int2) || int2send(w::int2) || int8send(mx);
        body := body || arr;
    END LOOP;
    RETURN head || body;
END $f$;
INSERT INTO spike.packed SELECT kind, k, 'pairs', spike.pack_pairs(kind, k) FROM spike.rows;
