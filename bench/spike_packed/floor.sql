-- Round 13 spike: the detoast floor of what a dashboard call with packed per-user columns would
-- read, in the shape of bench/rollup_bench.py's bench.period_floor (each column detoasted once,
-- through PL/pgSQL; jsonb by `?`, bytea by get_byte, which detoast the whole value).
--   range [s, e]: the packed users column (variant), model_totals, aggregated_by_provider,
--     models_unprovided, daily, and the top key's source: key_totals (keys = 'key_totals') or
--     the packed pairs column (keys = 'pairs');
--   comparison period: the packed users column.
CREATE OR REPLACE FUNCTION spike.packed_period_floor(s date, e date, variant text, jsonb_cols text[], keys text)
RETURNS bigint LANGUAGE plpgsql STABLE SET enable_bitmapscan = off AS $f$
DECLARE n bigint := 0; c bigint; col text; months date[]; blocks date[]; days date[];
BEGIN
    SELECT coalesce(array_agg(k) FILTER (WHERE kind = 'month'), '{}'), coalesce(array_agg(k) FILTER (WHERE kind = 'block'), '{}'),
           coalesce(array_agg(k) FILTER (WHERE kind = 'day'), '{}')
    INTO months, blocks, days FROM spike.period_rows(s, e);
    SELECT count(*) INTO c FROM (SELECT p FROM spike.packed WHERE packed.variant = $3 AND kind = 'month' AND k = ANY (months) OFFSET 0) x WHERE get_byte(x.p, 0) >= 0;
    n := n + c;
    SELECT count(*) INTO c FROM (SELECT p FROM spike.packed WHERE packed.variant = $3 AND kind = 'block' AND k = ANY (blocks) OFFSET 0) x WHERE get_byte(x.p, 0) >= 0;
    n := n + c;
    SELECT count(*) INTO c FROM (SELECT p FROM spike.packed WHERE packed.variant = $3 AND kind = 'day' AND k = ANY (days) OFFSET 0) x WHERE get_byte(x.p, 0) >= 0;
    n := n + c;
    IF keys = 'pairs' THEN
        SELECT count(*) INTO c FROM (SELECT p FROM spike.packed WHERE packed.variant = 'pairs' AND k = ANY (months || blocks || days) OFFSET 0) x WHERE get_byte(x.p, 0) >= 0;
        n := n + c;
    ELSIF keys = 'key_totals' THEN
        jsonb_cols := jsonb_cols || ARRAY['key_totals'];
    END IF;
    FOREACH col IN ARRAY jsonb_cols LOOP
        EXECUTE format('SELECT count(*) FROM (SELECT %I AS v FROM public.ducache_rollups WHERE month = ANY ($1) OFFSET 0) x WHERE x.v ? %L', col, 'no-such-key')
            INTO c USING months;
        n := n + c;
        EXECUTE format('SELECT count(*) FROM (SELECT %I AS v FROM public.ducache_rollup_blocks WHERE block = ANY ($1) OFFSET 0) x WHERE x.v ? %L', col, 'no-such-key')
            INTO c USING blocks;
        n := n + c;
        EXECUTE format('SELECT count(*) FROM (SELECT %I AS v FROM public.ducache_rollup_days WHERE day = ANY ($1) OFFSET 0) x WHERE x.v ? %L', col, 'no-such-key')
            INTO c USING days;
        n := n + c;
    END LOOP;
    RETURN n;
END $f$;
CREATE OR REPLACE FUNCTION spike.packed_floor(s date, e date, variant text, keys text) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT spike.packed_period_floor(s, e, variant, ARRAY['model_totals', 'aggregated_by_provider', 'models_unprovided', 'daily'], keys)
         + spike.packed_period_floor(s - (e - s + 1), s - 1, variant, '{}', 'none')
$$;
