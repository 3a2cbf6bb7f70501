-- ducache 0.1.0, the install script exactly as released (src/sql/*.sql at commit cfc6a49).
-- Kept so that CREATE EXTENSION ducache VERSION '0.1.0' still works: the upgrade tests start
-- from it. Never edit: a database at 0.1.0 was created by these statements.

-- ducache install script, part 1: the cache table.
--
-- What CREATE EXTENSION ducache does to your database:
--   * If @extschema@.daily_usage_cache does not exist, it creates it (part 1) and then hands
--     it over to you: the table is NOT a member of the extension, so DROP EXTENSION ducache
--     never drops it or its rows.
--   * If the table exists (e.g. the LiteMaaS application made it, with updated_at instead of
--     cached_at), it is adopted as it is: no column is added, no row is touched.
--   * It creates the five ducache indexes that are missing (part 2) and the functions.
-- Every object is schema-qualified, and functions are called through pg_catalog, so a hostile
-- search_path cannot redirect anything this script does.

\echo Use "CREATE EXTENSION ducache" to load this file. \quit

DO $install_table$
DECLARE
    -- lz4 decompresses these multi-megabyte JSONB values ~3x faster than pglz (the default),
    -- for ~8 % more space: docs/benchmarks.md measures it. Servers built without lz4 fall
    -- back to the default.
    columns text := $columns$
            date                   date        PRIMARY KEY,
            raw_data               jsonb       COMPRESSION_CLAUSE NOT NULL DEFAULT '{}'::jsonb,
            aggregated_by_user     jsonb       COMPRESSION_CLAUSE,
            aggregated_by_model    jsonb       COMPRESSION_CLAUSE,
            aggregated_by_provider jsonb       COMPRESSION_CLAUSE,
            total_metrics          jsonb,
            cached_at              timestamptz NOT NULL DEFAULT pg_catalog.now(),
            is_complete            boolean     NOT NULL DEFAULT true $columns$;
BEGIN
    IF pg_catalog.to_regclass('@extschema@.daily_usage_cache') IS NULL THEN
        BEGIN
            EXECUTE pg_catalog.format('CREATE TABLE @extschema@.daily_usage_cache (%s)',
                                      pg_catalog.replace(columns, 'COMPRESSION_CLAUSE', 'COMPRESSION lz4'));
        EXCEPTION WHEN feature_not_supported THEN
            EXECUTE pg_catalog.format('CREATE TABLE @extschema@.daily_usage_cache (%s)',
                                      pg_catalog.replace(columns, 'COMPRESSION_CLAUSE', ''));
        END;
        COMMENT ON TABLE @extschema@.daily_usage_cache IS
            'One row per day of LLM-gateway usage; JSONB breakdowns keyed by user, model and provider.';
        -- Release the table from the extension: cache rows outlive DROP EXTENSION.
        ALTER EXTENSION ducache DROP TABLE @extschema@.daily_usage_cache;
    END IF;
END
$install_table$;

-- Which column holds the write timestamp: cached_at (ducache's table) or updated_at (LiteMaaS).
-- Writers and the freshness index use it; anything else cannot be adopted.
CREATE FUNCTION @extschema@.ducache_timestamp_column() RETURNS name
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.attname
    FROM pg_catalog.pg_attribute AS a
    WHERE a.attrelid = '@extschema@.daily_usage_cache'::pg_catalog.regclass
      AND a.attname OPERATOR(pg_catalog.=) ANY (ARRAY['cached_at', 'updated_at']::pg_catalog.name[])
      AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped
    ORDER BY a.attname OPERATOR(pg_catalog.<>) 'cached_at'   -- cached_at first
    LIMIT 1
$$;
COMMENT ON FUNCTION @extschema@.ducache_timestamp_column() IS
    'The write-timestamp column of daily_usage_cache: cached_at, or updated_at on an adopted LiteMaaS table.';

-- An adopted table must have the columns ducache reads and writes.
DO $check_columns$
DECLARE
    missing text;
BEGIN
    SELECT pg_catalog.string_agg(want.col, ', ' ORDER BY want.ord) INTO missing
    FROM pg_catalog.unnest(ARRAY['date', 'raw_data', 'aggregated_by_user', 'aggregated_by_model',
                                 'aggregated_by_provider', 'total_metrics', 'is_complete'])
         WITH ORDINALITY AS want(col, ord)
    WHERE NOT EXISTS (
        SELECT FROM pg_catalog.pg_attribute AS a
        WHERE a.attrelid = '@extschema@.daily_usage_cache'::pg_catalog.regclass
          AND a.attname OPERATOR(pg_catalog.=) want.col::pg_catalog.name
          AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped);
    IF missing IS NOT NULL OR @extschema@.ducache_timestamp_column() IS NULL THEN
        RAISE EXCEPTION USING
            ERRCODE = 'invalid_table_definition',
            MESSAGE = 'daily_usage_cache cannot be adopted by ducache',
            DETAIL  = pg_catalog.format('Missing column(s): %s.',
                          pg_catalog.concat_ws(', ', missing,
                              CASE WHEN @extschema@.ducache_timestamp_column() IS NULL
                                   THEN 'cached_at or updated_at' END));
    END IF;
END
$check_columns$;
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
                                    want.name, '@extschema@', 'daily_usage_cache',
                                    want.method, want.columns);
        SELECT c.oid, c.relkind, i.indisvalid, pg_catalog.pg_get_indexdef(c.oid) AS def INTO existing
        FROM pg_catalog.pg_class AS c
        LEFT JOIN pg_catalog.pg_index AS i ON i.indexrelid OPERATOR(pg_catalog.=) c.oid
        WHERE c.relname OPERATOR(pg_catalog.=) want.name::pg_catalog.name
          AND c.relnamespace OPERATOR(pg_catalog.=)
              (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname OPERATOR(pg_catalog.=) '@extschema@');
        IF NOT FOUND THEN
            EXECUTE wanted;
        ELSIF existing.relkind = 'i' AND existing.def = wanted AND NOT existing.indisvalid THEN
            -- Left INVALID by an interrupted CREATE INDEX CONCURRENTLY: build it properly now.
            EXECUTE pg_catalog.format('REINDEX INDEX %I.%I', '@extschema@', want.name);
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
-- ducache install script, part 3: the breakdowns.
-- Each sums one JSONB breakdown column over the cached days of [start_date, end_date]
-- (inclusive) in C++, reading the JSONB in place; rows are ordered by total_cost DESC, then
-- key ASC (byte order). All read with the caller's rights: row-level security applies.

CREATE FUNCTION @extschema@.ducache_user_breakdown(start_date date, end_date date)
RETURNS TABLE (user_id text, username text, email text, role text,
               total_requests bigint, total_tokens bigint, prompt_tokens bigint,
               completion_tokens bigint, total_cost numeric, successful_requests bigint,
               failed_requests bigint, active_days integer)
AS 'MODULE_PATHNAME', 'ducache_user_breakdown'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_user_breakdown(date, date) IS
    'Per-user usage summed over aggregated_by_user for the cached days in the range; identity from ducache.users_table.';

CREATE FUNCTION @extschema@.ducache_model_breakdown(start_date date, end_date date)
RETURNS TABLE (model text, total_requests bigint, total_tokens bigint, prompt_tokens bigint,
               completion_tokens bigint, total_cost numeric, successful_requests bigint,
               failed_requests bigint, active_days integer)
AS 'MODULE_PATHNAME', 'ducache_model_breakdown'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_model_breakdown(date, date) IS
    'Per-model usage summed over aggregated_by_model for the cached days in the range.';

CREATE FUNCTION @extschema@.ducache_provider_breakdown(start_date date, end_date date)
RETURNS TABLE (provider text, total_requests bigint, total_tokens bigint, prompt_tokens bigint,
               completion_tokens bigint, total_cost numeric, successful_requests bigint,
               failed_requests bigint, active_days integer)
AS 'MODULE_PATHNAME', 'ducache_provider_breakdown'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_provider_breakdown(date, date) IS
    'Per-provider usage summed over aggregated_by_provider for the cached days in the range.';
-- ducache install script, part 4: analytics and the daily trend.

-- One period's totals (internal: ducache_analytics calls it for the period and the one before).
CREATE FUNCTION @extschema@.ducache_period_summary(start_date date, end_date date, with_top boolean,
    OUT days_cached integer, OUT active_users integer, OUT total_requests bigint,
    OUT total_tokens bigint, OUT prompt_tokens bigint, OUT completion_tokens bigint,
    OUT total_cost numeric, OUT successful_requests bigint, OUT failed_requests bigint,
    OUT top_user text, OUT top_model text)
AS 'MODULE_PATHNAME', 'ducache_period_summary'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_period_summary(date, date, boolean) IS
    'Internal to ducache_analytics: totals over aggregated_by_user for one period, and optionally its top user and model by cost.';

CREATE FUNCTION @extschema@.ducache_analytics(start_date date, end_date date)
RETURNS TABLE (days_cached integer, active_users integer, total_requests bigint,
               total_tokens bigint, prompt_tokens bigint, completion_tokens bigint,
               total_cost numeric, successful_requests bigint, failed_requests bigint,
               top_user text, top_model text, requests_change_pct numeric,
               cost_change_pct numeric, tokens_change_pct numeric, users_change_pct numeric)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    -- The previous period has the same length and ends the day before start_date.
    -- A change is 100 * (current - previous) / previous, rounded to 2 places; NULL when the
    -- previous value is 0.
    SELECT cur.days_cached, cur.active_users, cur.total_requests, cur.total_tokens,
           cur.prompt_tokens, cur.completion_tokens, cur.total_cost, cur.successful_requests,
           cur.failed_requests, cur.top_user, cur.top_model,
           CASE WHEN prev.total_requests OPERATOR(pg_catalog.<>) 0 THEN pg_catalog.round(
               100 OPERATOR(pg_catalog.*) (cur.total_requests OPERATOR(pg_catalog.-) prev.total_requests)::numeric
               OPERATOR(pg_catalog./) prev.total_requests, 2) END,
           CASE WHEN prev.total_cost OPERATOR(pg_catalog.<>) 0 THEN pg_catalog.round(
               100 OPERATOR(pg_catalog.*) (cur.total_cost OPERATOR(pg_catalog.-) prev.total_cost)
               OPERATOR(pg_catalog./) prev.total_cost, 2) END,
           CASE WHEN prev.total_tokens OPERATOR(pg_catalog.<>) 0 THEN pg_catalog.round(
               100 OPERATOR(pg_catalog.*) (cur.total_tokens OPERATOR(pg_catalog.-) prev.total_tokens)::numeric
               OPERATOR(pg_catalog./) prev.total_tokens, 2) END,
           CASE WHEN prev.active_users OPERATOR(pg_catalog.<>) 0 THEN pg_catalog.round(
               100 OPERATOR(pg_catalog.*) (cur.active_users OPERATOR(pg_catalog.-) prev.active_users)::numeric
               OPERATOR(pg_catalog./) prev.active_users, 2) END
    FROM @extschema@.ducache_period_summary(start_date, end_date, true) AS cur,
         @extschema@.ducache_period_summary(
             start_date OPERATOR(pg_catalog.-) (end_date OPERATOR(pg_catalog.-) start_date OPERATOR(pg_catalog.+) 1),
             start_date OPERATOR(pg_catalog.-) 1, false) AS prev
$$;
COMMENT ON FUNCTION @extschema@.ducache_analytics(date, date) IS
    'Totals, active users, top user and model by cost, and changes against the previous period of equal length.';

CREATE FUNCTION @extschema@.ducache_daily_trend(start_date date, end_date date)
RETURNS TABLE (date date, active_users integer, total_requests bigint, total_tokens bigint,
               prompt_tokens bigint, completion_tokens bigint, total_cost numeric)
AS 'MODULE_PATHNAME', 'ducache_daily_trend'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_daily_trend(date, date) IS
    'One row per cached day in the range: users active that day and their summed usage, ordered by date.';
-- ducache install script, part 5: the ducache_merge aggregate.
-- Sums breakdown objects key by key: {key: {requests, total_tokens, prompt_tokens,
-- completion_tokens, successful_requests, failed_requests, cost, days}}. NULL rows are skipped;
-- no rows (or only NULLs) give NULL, like sum(). Parallel safe: workers build partial states,
-- which travel serialized (a version byte, then the keys) and are combined in the leader.

CREATE FUNCTION @extschema@.ducache_merge_trans(internal, jsonb) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_trans(internal, jsonb) IS 'ducache_merge transition function.';

-- The same transition function behind ducache_merge(jsonb, date): the date only names the row
-- in error messages.
CREATE FUNCTION @extschema@.ducache_merge_trans(internal, jsonb, date) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_trans(internal, jsonb, date) IS 'ducache_merge(jsonb, date) transition function.';

CREATE FUNCTION @extschema@.ducache_merge_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_merge_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_combine(internal, internal) IS 'ducache_merge combine function (parallel aggregation).';

CREATE FUNCTION @extschema@.ducache_merge_serialize(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'ducache_merge_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_serialize(internal) IS 'ducache_merge state serialization (parallel aggregation).';

CREATE FUNCTION @extschema@.ducache_merge_deserialize(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_merge_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_deserialize(bytea, internal) IS 'ducache_merge state deserialization (parallel aggregation).';

CREATE FUNCTION @extschema@.ducache_merge_final(internal) RETURNS jsonb
AS 'MODULE_PATHNAME', 'ducache_merge_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_final(internal) IS 'ducache_merge final function: builds the result object.';

CREATE AGGREGATE @extschema@.ducache_merge(jsonb) (
    SFUNC = @extschema@.ducache_merge_trans,
    STYPE = internal,
    FINALFUNC = @extschema@.ducache_merge_final,
    COMBINEFUNC = @extschema@.ducache_merge_combine,
    SERIALFUNC = @extschema@.ducache_merge_serialize,
    DESERIALFUNC = @extschema@.ducache_merge_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.ducache_merge(jsonb) IS
    'Sums breakdown objects key by key (requests, tokens, exact cost, days present); parallel safe.';

-- ducache_merge(aggregated_by_model, date): the same sums; a bad value's ERROR names the date of
-- its row instead of its position in the aggregate's input.
CREATE AGGREGATE @extschema@.ducache_merge(jsonb, date) (
    SFUNC = @extschema@.ducache_merge_trans,
    STYPE = internal,
    FINALFUNC = @extschema@.ducache_merge_final,
    COMBINEFUNC = @extschema@.ducache_merge_combine,
    SERIALFUNC = @extschema@.ducache_merge_serialize,
    DESERIALFUNC = @extschema@.ducache_merge_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.ducache_merge(jsonb, date) IS
    'ducache_merge(jsonb) whose errors name the date passed with each row.';
-- ducache install script, part 6: the write path.
-- Both writers take one transaction-level advisory lock per cache table before touching a row
-- (see src/pg/writer_lock.hpp): ducache writers queue instead of deadlocking, also when a
-- transaction makes several calls. Readers never wait for it.

CREATE FUNCTION @extschema@.ducache_batch_upsert(
    dates date[], raw_data jsonb[], aggregated_by_user jsonb[], aggregated_by_model jsonb[],
    aggregated_by_provider jsonb[], total_metrics jsonb[] DEFAULT NULL, is_complete boolean[] DEFAULT NULL)
RETURNS TABLE (date date, action text)
AS 'MODULE_PATHNAME', 'ducache_batch_upsert'
LANGUAGE C VOLATILE PARALLEL UNSAFE;   -- not STRICT: NULL arrays have meanings of their own
COMMENT ON FUNCTION @extschema@.ducache_batch_upsert(date[], jsonb[], jsonb[], jsonb[], jsonb[], jsonb[], boolean[]) IS
    'Inserts or updates many days in one statement; all or nothing; returns (date, inserted|updated) in date order.';

CREATE FUNCTION @extschema@.ducache_rebuild(start_date date, end_date date)
RETURNS TABLE (date date, users integer, models integer, providers integer)
AS 'MODULE_PATHNAME', 'ducache_rebuild'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ducache_rebuild(date, date) IS
    'Recomputes aggregated_by_user/model/provider and total_metrics of every cached day in the range from raw_data.';
