-- ducache install script: scale-out, part 4: ducache_dashboard and ducache_filter_options on a
-- coordinator (docs/scale-out.md). Each shard builds the state one node builds before writing
-- the document and returns it as a binary partial (bytea; src/core/dashboard_partial.hpp); the
-- coordinator's C function adds the partials and writes the document (pg/coordinator_dashboard.cpp).

-- On a shard: the state of ducache_dashboard over its rows. providers: the coordinator's
-- {"model": "provider"} (a provider filter needs the whole range's), or NULL; providers_only:
-- only the range's own providers (the coordinator's first step under a provider filter).
CREATE OR REPLACE FUNCTION @extschema@.ducache_dashboard_partial(start_date date, end_date date, filters jsonb,
    providers jsonb, providers_only boolean)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ducache_dashboard_partial'
LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.ducache_dashboard_partial(date, date, jsonb, jsonb, boolean) IS
    'Scale-out: a shard''s partial of ducache_dashboard (binary; merged by the coordinator).';

CREATE OR REPLACE FUNCTION @extschema@.ducache_filter_options_partial(start_date date, end_date date)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ducache_filter_options_partial'
LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION @extschema@.ducache_filter_options_partial(date, date) IS
    'Scale-out: a shard''s partial of ducache_filter_options (binary; merged by the coordinator).';

-- The final function of ducache_shard_document_partial: the request's partial, run on the shard.
CREATE OR REPLACE FUNCTION @extschema@.ducache_shard_document_final(state jsonb)
RETURNS bytea
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kind text := state ->> 'kind';
    s date := (state ->> 'start')::date;
    e date := (state ->> 'end')::date;
BEGIN
    IF state IS NULL THEN
        RETURN NULL;
    END IF;
    -- Run here only on a shard: on a coordinator the reads below would ask the shards again.
    IF EXISTS (SELECT 1 FROM @extschema@.ducache_shard_list()) THEN
        RAISE EXCEPTION 'ducache_shard_document_partial ran on a coordinator, not on a shard' USING ERRCODE = '55000',
            HINT = 'postgres_fdw pushes it down only when the server''s extensions option lists ducache.';
    END IF;
    IF kind IN ('dashboard', 'dashboard_providers') THEN
        RETURN @extschema@.ducache_dashboard_partial(s, e, COALESCE(state -> 'filters', '{}'), state -> 'providers',
                                                     kind = 'dashboard_providers');
    ELSIF kind = 'filter_options' THEN
        RETURN @extschema@.ducache_filter_options_partial(s, e);
    END IF;
    RAISE EXCEPTION 'unknown ducache shard document kind %', kind USING ERRCODE = '22023';
END
$$;

-- ducache_shard_document_partial(date, request jsonb) -> bytea: like ducache_shard_partial
-- (60_scale_out.sql; the same step function, one jsonb request for postgres_fdw's pushdown),
-- its final function returning a binary partial. No row in range: NULL (nothing to add).
CREATE OR REPLACE AGGREGATE @extschema@.ducache_shard_document_partial(date, jsonb) (
    SFUNC = @extschema@.ducache_shard_partial_step,
    STYPE = jsonb,
    FINALFUNC = @extschema@.ducache_shard_document_final
);
COMMENT ON AGGREGATE @extschema@.ducache_shard_document_partial(date, jsonb) IS
    'Scale-out: a shard''s binary partial of a document read (pushed down whole by postgres_fdw; docs/scale-out.md).';

-- On the coordinator: every shard's partial of `request`, aggregated over its rows in
-- [start_date, end_date] (one pushed-down aggregate per shard, run concurrently). A shard that
-- fails ends the call with a class-08 ERROR naming it (as ducache_coord_partials): never a
-- partial answer.
CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_document_partials(request jsonb, start_date date, end_date date)
RETURNS SETOF bytea
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    q text;
    sh record;
    st text; msg text; det text;
BEGIN
    SELECT string_agg(format('SELECT @extschema@.ducache_shard_document_partial(date, $1) AS p FROM %s WHERE date BETWEEN $2 AND $3',
                             l.foreign_table), ' UNION ALL ' ORDER BY l.shard)
    INTO q FROM @extschema@.ducache_shard_list() l;
    IF q IS NULL THEN
        RAISE EXCEPTION 'this database has no shards' USING ERRCODE = '55000';
    END IF;
    -- The planner must see the shards' aggregates as whole pushed-down aggregates.
    PERFORM set_config('enable_partitionwise_aggregate', 'on', true);
    BEGIN
        RETURN QUERY EXECUTE 'SELECT p FROM (' || q || ') s WHERE p IS NOT NULL' USING request, start_date, end_date;
    EXCEPTION WHEN connection_exception OR sqlclient_unable_to_establish_sqlconnection
                   OR connection_failure OR connection_does_not_exist THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
        -- Which shard: the first that does not answer a trivial query now.
        FOR sh IN SELECT * FROM @extschema@.ducache_shard_list() LOOP
            BEGIN
                EXECUTE format('SELECT 1 FROM %s LIMIT 1', sh.foreign_table);
            EXCEPTION WHEN OTHERS THEN
                RAISE EXCEPTION 'ducache shard % (server "%") failed: %', sh.shard, sh.server, msg
                    USING ERRCODE = st, DETAIL = COALESCE(NULLIF(det, ''), 'The shard does not answer now.'),
                          HINT = 'No result was returned: a coordinator never answers from some of its shards.';
            END;
        END LOOP;
        RAISE EXCEPTION 'a ducache shard failed: %', msg USING ERRCODE = st,
            DETAIL = COALESCE(NULLIF(det, ''), 'Every shard answers now; the call may be retried.');
    END;
END
$$;
