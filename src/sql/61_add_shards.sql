-- ducache install script: scale-out, part 2: ducache_add_shards turns a database into a
-- coordinator (CONTRACT §8; docs/scale-out.md "Setup").

-- The foreign table onto shard k's daily_usage_cache (its date column only: the coordinator
-- never reads a shard's JSON; it pushes ducache_shard_partial_bin down over these dates).
CREATE OR REPLACE FUNCTION @extschema@.ducache_shard_table(shard integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT pg_catalog.format('%I.%I', '@extschema@', 'ducache_shard_' OPERATOR(pg_catalog.||) shard) $$;

-- The shards, in order (SECURITY DEFINER: ducache_shards is the owner's; callers read only this).
CREATE OR REPLACE FUNCTION @extschema@.ducache_shard_list(OUT shard integer, OUT server name, OUT foreign_table text)
RETURNS SETOF record
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.shard, s.server, @extschema@.ducache_shard_table(s.shard)
    FROM @extschema@.ducache_shards AS s ORDER BY s.shard
$$;

CREATE OR REPLACE FUNCTION @extschema@.ducache_add_shards(servers name[])
RETURNS SETOF @extschema@.ducache_shards
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    i integer;
    srv name;
    opts text[];
    version text;
    mine text;
    current name[];
    probe text;
BEGIN
    IF servers IS NULL OR pg_catalog.cardinality(servers) = 0 OR pg_catalog.array_position(servers, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'ducache_add_shards needs a non-empty array of server names without NULLs'
            USING ERRCODE = '22023';
    END IF;
    IF (SELECT count(DISTINCT x) FROM unnest(servers) x) <> cardinality(servers) THEN
        RAISE EXCEPTION 'a server appears twice in the shard list' USING ERRCODE = '22023',
            DETAIL = format('servers: %s', servers);
    END IF;
    SELECT array_agg(s.server ORDER BY s.shard) INTO current FROM @extschema@.ducache_shards s;
    IF current IS NOT NULL AND current IS DISTINCT FROM servers THEN
        RAISE EXCEPTION 'this coordinator already has shards %, not %', current, servers
            USING ERRCODE = '55000',
            DETAIL = 'A user''s shard is hashtext(user_id) modulo the number of shards: other shards would misplace every user.',
            HINT = 'Moving to other shards is a reload: a new coordinator, and every day written again through it.';
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@.daily_usage_cache) THEN
        RAISE EXCEPTION 'a coordinator''s own daily_usage_cache must be empty' USING ERRCODE = '55000',
            DETAIL = 'Its read functions answer from the shards and would hide these rows.',
            HINT = 'Load the rows into the shards (test/reference/shard_split.sql splits them) and delete them here.';
    END IF;
    SELECT extversion INTO mine FROM pg_extension WHERE extname = 'ducache';
    FOR i IN 1 .. cardinality(servers) LOOP
        srv := servers[i];
        SELECT s.srvoptions INTO opts FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw
        WHERE s.srvname = srv AND w.fdwname = 'postgres_fdw';
        IF NOT FOUND THEN
            RAISE EXCEPTION 'server "%" is not a postgres_fdw foreign server', srv USING ERRCODE = '42704',
                HINT = 'CREATE EXTENSION postgres_fdw; CREATE SERVER ... FOREIGN DATA WRAPPER postgres_fdw; CREATE USER MAPPING ...';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM unnest(opts) o WHERE o LIKE 'extensions=%'
                       AND 'ducache' = ANY (string_to_array(replace(substr(o, 12), ' ', ''), ','))) THEN
            RAISE EXCEPTION 'server "%" does not list ducache in its extensions option', srv USING ERRCODE = '55000',
                DETAIL = 'postgres_fdw ships an aggregate to a shard only when its extension is listed there.',
                HINT = format('ALTER SERVER %I OPTIONS (ADD extensions ''ducache'') (or SET, keeping the others).', srv);
        END IF;
        -- The shard's foreign table (date only), then its ducache version through a throwaway
        -- foreign table onto its pg_extension: also the "does it answer" check (postgres_fdw's
        -- class-08 error names the server).
        EXECUTE format('DROP FOREIGN TABLE IF EXISTS %s', @extschema@.ducache_shard_table(i - 1));
        EXECUTE format('CREATE FOREIGN TABLE %s (date date) SERVER %I OPTIONS (schema_name %L, table_name %L)',
                       @extschema@.ducache_shard_table(i - 1), srv, '@extschema@', 'daily_usage_cache');
        EXECUTE format('GRANT SELECT ON %s TO PUBLIC', @extschema@.ducache_shard_table(i - 1));
        probe := format('%I.%I', '@extschema@', 'ducache_shard_probe');
        EXECUTE format('DROP FOREIGN TABLE IF EXISTS %s', probe);
        EXECUTE format('CREATE FOREIGN TABLE %s (extname name, extversion text) SERVER %I OPTIONS (schema_name %L, table_name %L)',
                       probe, srv, 'pg_catalog', 'pg_extension');
        EXECUTE format('SELECT extversion FROM %s WHERE extname = %L', probe, 'ducache') INTO version;
        EXECUTE format('DROP FOREIGN TABLE %s', probe);
        IF version IS NULL OR version <> mine THEN
            RAISE EXCEPTION 'shard % (server "%") runs ducache %, the coordinator %', i - 1, srv,
                COALESCE(version, 'not at all'), mine USING ERRCODE = '08004',
                HINT = 'Install or update ducache on the shard (in the same schema) to the coordinator''s version.';
        END IF;
        -- The remote table must answer too (same schema, readable through the user mapping).
        EXECUTE format('SELECT 1 FROM %s LIMIT 1', @extschema@.ducache_shard_table(i - 1));
    END LOOP;
    IF current IS NULL THEN
        INSERT INTO @extschema@.ducache_shards (shard, server)
        SELECT o - 1, x FROM unnest(servers) WITH ORDINALITY AS t(x, o);
    END IF;
    RETURN QUERY SELECT * FROM @extschema@.ducache_shards ORDER BY shard;
END
$$;
COMMENT ON FUNCTION @extschema@.ducache_add_shards(name[]) IS
    'Makes this database a coordinator over the given postgres_fdw servers (shard k = k-th server); re-running with the same list re-checks them (docs/scale-out.md).';
REVOKE ALL ON FUNCTION @extschema@.ducache_add_shards(name[]) FROM PUBLIC;
