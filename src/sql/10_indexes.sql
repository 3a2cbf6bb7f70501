-- ducache install script, part 2: the five indexes.
--
-- An index that already exists under one of these names with the same definition is kept
-- (so scripts/indexes_concurrently.sql can build them on a live table beforehand, without
-- blocking writes). One with another definition stops CREATE EXTENSION with an ERROR that
-- shows both definitions; the whole CREATE EXTENSION then rolls back and nothing is created.
-- Indexes are not extension members: DROP EXTENSION leaves them (and the rows) in place.
--
-- Note: the table's primary key already is a btree on (date); idx_daily_usage_cache_date
-- duplicates it because callers and the original plan name it. docs/indexes.md measures
-- what the duplicate costs on writes.

DO $install_indexes$
DECLARE
    tbl    pg_catalog.regclass := '@extschema@.daily_usage_cache'::pg_catalog.regclass;
    ts_col pg_catalog.name := @extschema@.ducache_timestamp_column();
    -- The schema's name as a value: @extschema@ is already quoted where it needs to be (a
    -- schema "Usage Data"), so it cannot go through %I or be compared with nspname.
    nsp_oid pg_catalog.oid := (SELECT c.relnamespace FROM pg_catalog.pg_class AS c
                               WHERE c.oid OPERATOR(pg_catalog.=) tbl);
    nsp    pg_catalog.name := (SELECT n.nspname FROM pg_catalog.pg_namespace AS n
                               WHERE n.oid OPERATOR(pg_catalog.=) nsp_oid);
    want   record;
    existing  record;
    wanted text;
BEGIN
    FOR want IN
        SELECT * FROM (VALUES
            ('idx_daily_usage_cache_date',           'btree', pg_catalog.quote_ident('date')),
            ('idx_daily_usage_cache_user_jsonb',     'gin',   'aggregated_by_user'),
            ('idx_daily_usage_cache_model_jsonb',    'gin',   'aggregated_by_model'),
            ('idx_daily_usage_cache_provider_jsonb', 'gin',   'aggregated_by_provider'),
            ('idx_daily_usage_cache_date_cached_at', 'btree',
                 pg_catalog.quote_ident('date') OPERATOR(pg_catalog.||) ', '
                 OPERATOR(pg_catalog.||) pg_catalog.quote_ident(ts_col))
        ) AS v(name, method, columns)
    LOOP
        -- Spelled exactly as pg_get_indexdef() prints it, so existing indexes compare as text.
        wanted := pg_catalog.format('CREATE INDEX %I ON %I.%I USING %s (%s)',
                                    want.name, nsp, 'daily_usage_cache',
                                    want.method, want.columns);
        SELECT c.oid, c.relkind, i.indisvalid, pg_catalog.pg_get_indexdef(c.oid) AS def INTO existing
        FROM pg_catalog.pg_class AS c
        LEFT JOIN pg_catalog.pg_index AS i ON i.indexrelid OPERATOR(pg_catalog.=) c.oid
        WHERE c.relname OPERATOR(pg_catalog.=) want.name::pg_catalog.name
          AND c.relnamespace OPERATOR(pg_catalog.=) nsp_oid;
        IF NOT FOUND THEN
            EXECUTE wanted;
        ELSIF existing.relkind = 'i' AND existing.def = wanted AND NOT existing.indisvalid THEN
            -- Left INVALID by an interrupted CREATE INDEX CONCURRENTLY: build it properly now.
            EXECUTE pg_catalog.format('REINDEX INDEX %I.%I', nsp, want.name);
        ELSIF existing.relkind NOT IN ('i') OR existing.def IS DISTINCT FROM wanted THEN
            RAISE EXCEPTION USING
                ERRCODE = 'duplicate_object',
                MESSAGE = pg_catalog.format('index "%s" already exists with a different definition', want.name),
                DETAIL  = pg_catalog.format('Existing: %s; ducache needs: %s.',
                              COALESCE(existing.def,
                                  pg_catalog.format('a relation of kind %L', existing.relkind)),
                              wanted),
                HINT    = 'Drop or rename that index (scripts/indexes_rollback.sql drops the ducache ones), then CREATE EXTENSION ducache again.';
        END IF;
    END LOOP;
END
$install_indexes$;
