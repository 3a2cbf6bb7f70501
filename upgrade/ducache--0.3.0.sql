-- ducache 0.3.0, the install script exactly as released (src/sql/*.sql at commit ce29e82).
-- Kept so that CREATE EXTENSION ducache VERSION '0.3.0' still works: the upgrade tests start
-- from it. Never edit: a database at 0.3.0 was created by these statements.

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
-- ducache install script, part 1b: the table's shape, checked (the upgrade runs this part too).
-- The column types and the unique date, checked by the same rule the functions check on
-- every call (src/pg/table_shape.cpp): a json raw_data, a text date, a table without a unique
-- (date) or a partitioned one stops CREATE EXTENSION here, with an ERROR naming the column,
-- its type and the one ducache needs.
CREATE OR REPLACE FUNCTION @extschema@.ducache_table_check() RETURNS void
AS 'MODULE_PATHNAME', 'ducache_table_check'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_table_check() IS
    'Checks that daily_usage_cache has the shape ducache reads and writes (column types, unique date, plain table); ERROR otherwise.';
SELECT @extschema@.ducache_table_check();
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
-- ducache install script, part 3: the month rollups' tables (CONTRACT §7; docs/rollups.md).
--
-- Rollups are derived data: members of the extension (DROP EXTENSION drops them, and
-- daily_usage_cache is never touched), rebuilt by ducache_refresh_rollups(). Nobody but the
-- extension's owner reads or writes them directly: the read functions read them on the
-- caller's behalf only when the caller may read every row of daily_usage_cache (table-level
-- SELECT, no row-level security in force), and the change triggers write through a
-- SECURITY DEFINER function.

-- The first day of a date's month, computed on the date itself: date_trunc() goes through
-- timestamp, whose range is narrower than date's (a valid day row in year 294277 would make
-- every write fail). The first month PostgreSQL has starts on 4714-11-24 BC; ±infinity has none.
CREATE FUNCTION @extschema@.ducache_month_of(d date) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE WHEN NOT pg_catalog.isfinite(d) THEN NULL
                WHEN d OPERATOR(pg_catalog.<) '4714-12-01 BC'::pg_catalog.date THEN '4714-11-24 BC'::pg_catalog.date
                ELSE d OPERATOR(pg_catalog.-) (EXTRACT(day FROM d)::pg_catalog.int4 OPERATOR(pg_catalog.-) 1)
           END
$$;
COMMENT ON FUNCTION @extschema@.ducache_month_of(date) IS
    'First day of the month of a date (NULL for ±infinity), without going through timestamp.';

-- One row per month that ducache has built (or is building) a rollup for. A row with
-- built = false holds no rollup: it exists so refreshes of a month can lock it.
CREATE TABLE @extschema@.ducache_rollups (
    month                   date        PRIMARY KEY
                                        CHECK (month OPERATOR(pg_catalog.=) @extschema@.ducache_month_of(month)),
    built                   boolean     NOT NULL DEFAULT false,
    -- bit d-1 set: day d of the month was cached (and is summed below)
    days                    integer     NOT NULL DEFAULT 0,
    -- the month's sums in daily_usage_cache's own shape, every entry with its day mask
    aggregated_by_user      jsonb,
    aggregated_by_model     jsonb,
    aggregated_by_provider  jsonb,
    -- what readers derive per day from aggregated_by_model where a day's
    -- aggregated_by_provider is {} or NULL (CONTRACT §5.3), summed over those days
    providers_derived       jsonb,
    models_unprovided       jsonb,
    -- per-day summaries for the daily series (trend, dashboard)
    daily                   jsonb,
    refreshed_at            timestamptz
);
-- lz4 like the cache table's documents (a refresh spent 12 % of its time in pglz).
DO $compression$
BEGIN
    ALTER TABLE @extschema@.ducache_rollups
        ALTER COLUMN aggregated_by_user SET COMPRESSION lz4, ALTER COLUMN aggregated_by_model SET COMPRESSION lz4,
        ALTER COLUMN aggregated_by_provider SET COMPRESSION lz4, ALTER COLUMN providers_derived SET COMPRESSION lz4,
        ALTER COLUMN models_unprovided SET COMPRESSION lz4, ALTER COLUMN daily SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;   -- a server built without lz4: the default compression
END
$compression$;
COMMENT ON TABLE @extschema@.ducache_rollups IS
    'ducache month rollups of daily_usage_cache (derived data; used only while no change to the month is logged).';

-- Every change to a day row logs its month here (statement triggers on daily_usage_cache).
-- A rollup is used only while no row for its month is visible: writers never wait for or
-- lock anything here (they only append), and a refresh deletes exactly the rows it saw.
CREATE TABLE @extschema@.ducache_rollup_changes (
    month       date        NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX ducache_rollup_changes_month ON @extschema@.ducache_rollup_changes (month);
COMMENT ON TABLE @extschema@.ducache_rollup_changes IS
    'Months of daily_usage_cache changed since their rollup was built (appended by triggers, cleared by refreshes).';

REVOKE ALL ON TABLE @extschema@.ducache_rollups, @extschema@.ducache_rollup_changes FROM PUBLIC;
-- ducache install script, part 3: the breakdowns.
-- Each sums one JSONB breakdown column over the cached days of [start_date, end_date]
-- (inclusive) in C++, reading the JSONB in place; rows are ordered by total_cost DESC, then
-- key ASC (byte order). All read with the caller's rights: row-level security applies.
-- Version 0.2 (CONTRACT §5.2-5.4): three optional filters (NULL or '{}' = none; a NULL
-- element is 22004); under a filter the figures come from the passing usage cells of
-- aggregated_by_user. Not STRICT (a NULL filter is no filter); a NULL date gives no rows.

CREATE OR REPLACE FUNCTION @extschema@.ducache_user_breakdown(start_date date, end_date date, user_ids text[] DEFAULT NULL,
    model_ids text[] DEFAULT NULL, api_key_aliases text[] DEFAULT NULL)
RETURNS TABLE (user_id text, username text, email text, role text,
               total_requests bigint, total_tokens bigint, prompt_tokens bigint,
               completion_tokens bigint, total_cost numeric, successful_requests bigint,
               failed_requests bigint, active_days integer, last_active date)
AS 'MODULE_PATHNAME', 'ducache_user_breakdown'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_user_breakdown(date, date, text[], text[], text[]) IS
    'Per-user usage summed over aggregated_by_user for the cached days in the range; identity from ducache.users_table.';

CREATE OR REPLACE FUNCTION @extschema@.ducache_model_breakdown(start_date date, end_date date, user_ids text[] DEFAULT NULL,
    model_ids text[] DEFAULT NULL, api_key_aliases text[] DEFAULT NULL)
RETURNS TABLE (model text, total_requests bigint, total_tokens bigint, prompt_tokens bigint,
               completion_tokens bigint, total_cost numeric, successful_requests bigint,
               failed_requests bigint, active_days integer, provider text, users integer)
AS 'MODULE_PATHNAME', 'ducache_model_breakdown'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_model_breakdown(date, date, text[], text[], text[]) IS
    'Per-model usage summed over aggregated_by_model for the cached days in the range.';

CREATE OR REPLACE FUNCTION @extschema@.ducache_provider_breakdown(start_date date, end_date date, user_ids text[] DEFAULT NULL,
    model_ids text[] DEFAULT NULL, api_key_aliases text[] DEFAULT NULL)
RETURNS TABLE (provider text, total_requests bigint, total_tokens bigint, prompt_tokens bigint,
               completion_tokens bigint, total_cost numeric, successful_requests bigint,
               failed_requests bigint, active_days integer, models integer, users integer)
AS 'MODULE_PATHNAME', 'ducache_provider_breakdown'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_provider_breakdown(date, date, text[], text[], text[]) IS
    'Per-provider usage summed over aggregated_by_provider for the cached days in the range.';

CREATE OR REPLACE FUNCTION @extschema@.ducache_user_model_breakdown(start_date date, end_date date, user_ids text[] DEFAULT NULL,
    model_ids text[] DEFAULT NULL, api_key_aliases text[] DEFAULT NULL)
RETURNS TABLE (user_id text, model text, provider text, total_requests bigint, total_tokens bigint,
               prompt_tokens bigint, completion_tokens bigint, total_cost numeric,
               successful_requests bigint, failed_requests bigint, active_days integer)
AS 'MODULE_PATHNAME', 'ducache_user_model_breakdown'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_user_model_breakdown(date, date, text[], text[], text[]) IS
    'Per user and model: usage of aggregated_by_user[U].models[M] (or its passing api_keys) in the range, ordered by user_id, total_cost DESC, model.';

CREATE OR REPLACE FUNCTION @extschema@.ducache_api_key_breakdown(start_date date, end_date date, user_ids text[] DEFAULT NULL,
    model_ids text[] DEFAULT NULL, api_key_aliases text[] DEFAULT NULL)
RETURNS TABLE (key_alias text, key_name text, user_id text, total_requests bigint, total_tokens bigint,
               prompt_tokens bigint, completion_tokens bigint, total_cost numeric,
               successful_requests bigint, failed_requests bigint, active_days integer, last_used date)
AS 'MODULE_PATHNAME', 'ducache_api_key_breakdown'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_api_key_breakdown(date, date, text[], text[], text[]) IS
    'Per API key alias and user: usage of aggregated_by_user[U].models[M].api_keys[A] in the range, ordered by total_cost DESC, key_alias, user_id.';
-- ducache install script, part 4: analytics and the daily trend.

-- One period's totals (internal: ducache_analytics calls it for the period and the one before).
CREATE OR REPLACE FUNCTION @extschema@.ducache_period_summary(start_date date, end_date date, with_top boolean,
    user_ids text[], model_ids text[], api_key_aliases text[],
    OUT days_cached integer, OUT active_users integer, OUT total_requests bigint,
    OUT total_tokens bigint, OUT prompt_tokens bigint, OUT completion_tokens bigint,
    OUT total_cost numeric, OUT successful_requests bigint, OUT failed_requests bigint,
    OUT top_user text, OUT top_model text)
AS 'MODULE_PATHNAME', 'ducache_period_summary'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_period_summary(date, date, boolean, text[], text[], text[]) IS
    'Internal to ducache_analytics: totals over aggregated_by_user for one period, and optionally its top user and model by cost.';

CREATE OR REPLACE FUNCTION @extschema@.ducache_analytics(start_date date, end_date date, user_ids text[] DEFAULT NULL,
    model_ids text[] DEFAULT NULL, api_key_aliases text[] DEFAULT NULL)
RETURNS TABLE (days_cached integer, active_users integer, total_requests bigint,
               total_tokens bigint, prompt_tokens bigint, completion_tokens bigint,
               total_cost numeric, successful_requests bigint, failed_requests bigint,
               top_user text, top_model text, requests_change_pct numeric,
               cost_change_pct numeric, tokens_change_pct numeric, users_change_pct numeric)
LANGUAGE sql STABLE PARALLEL SAFE
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
    FROM @extschema@.ducache_period_summary(start_date, end_date, true, user_ids, model_ids, api_key_aliases) AS cur,
         -- A previous period that would start before the first date PostgreSQL has
         -- (4714-11-24 BC) is no period: NULL arguments, so the STRICT summary gives a row
         -- of NULLs and every change is NULL (CASE, so the date arithmetic never runs).
         @extschema@.ducache_period_summary(
             CASE WHEN (start_date OPERATOR(pg_catalog.-) '4714-11-24 BC'::date)
                       OPERATOR(pg_catalog.>=) (end_date OPERATOR(pg_catalog.-) start_date OPERATOR(pg_catalog.+) 1)
                  THEN start_date OPERATOR(pg_catalog.-) (end_date OPERATOR(pg_catalog.-) start_date OPERATOR(pg_catalog.+) 1) END,
             CASE WHEN start_date OPERATOR(pg_catalog.>) '4714-11-24 BC'::date
                  THEN start_date OPERATOR(pg_catalog.-) 1 END, false, user_ids, model_ids, api_key_aliases) AS prev
    -- A NULL date gives no row (as the STRICT function of 0.1 did).
    WHERE start_date IS NOT NULL AND end_date IS NOT NULL
$$;
COMMENT ON FUNCTION @extschema@.ducache_analytics(date, date, text[], text[], text[]) IS
    'Totals, active users, top user and model by cost, and changes against the previous period of equal length.';

CREATE OR REPLACE FUNCTION @extschema@.ducache_daily_trend(start_date date, end_date date, user_ids text[] DEFAULT NULL,
    model_ids text[] DEFAULT NULL, api_key_aliases text[] DEFAULT NULL)
RETURNS TABLE (date date, active_users integer, total_requests bigint, total_tokens bigint,
               prompt_tokens bigint, completion_tokens bigint, total_cost numeric)
AS 'MODULE_PATHNAME', 'ducache_daily_trend'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_daily_trend(date, date, text[], text[], text[]) IS
    'One row per cached day in the range: users active that day and their summed usage, ordered by date.';
-- ducache install script, part 5: the ducache_merge aggregate.
-- Sums breakdown objects key by key: {key: {requests, total_tokens, prompt_tokens,
-- completion_tokens, successful_requests, failed_requests, cost, days}}. NULL rows are skipped;
-- no rows (or only NULLs) give NULL, like sum(). Parallel safe: workers build partial states,
-- which travel serialized (a version byte, then the keys) and are combined in the leader.

CREATE OR REPLACE FUNCTION @extschema@.ducache_merge_trans(internal, jsonb) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_trans(internal, jsonb) IS 'ducache_merge transition function.';

-- The same transition function behind ducache_merge(jsonb, date): the date only names the row
-- in error messages.
CREATE OR REPLACE FUNCTION @extschema@.ducache_merge_trans(internal, jsonb, date) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_merge_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_trans(internal, jsonb, date) IS 'ducache_merge(jsonb, date) transition function.';

CREATE OR REPLACE FUNCTION @extschema@.ducache_merge_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_merge_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_combine(internal, internal) IS 'ducache_merge combine function (parallel aggregation).';

CREATE OR REPLACE FUNCTION @extschema@.ducache_merge_serialize(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'ducache_merge_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_serialize(internal) IS 'ducache_merge state serialization (parallel aggregation).';

CREATE OR REPLACE FUNCTION @extschema@.ducache_merge_deserialize(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_merge_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_deserialize(bytea, internal) IS 'ducache_merge state deserialization (parallel aggregation).';

CREATE OR REPLACE FUNCTION @extschema@.ducache_merge_final(internal) RETURNS jsonb
AS 'MODULE_PATHNAME', 'ducache_merge_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_merge_final(internal) IS 'ducache_merge final function: builds the result object.';

CREATE OR REPLACE AGGREGATE @extschema@.ducache_merge(jsonb) (
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
CREATE OR REPLACE AGGREGATE @extschema@.ducache_merge(jsonb, date) (
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
-- ducache install script: LiteMaaS's admin usage dashboard in one call (CONTRACT §5.4).

CREATE OR REPLACE FUNCTION @extschema@.ducache_dashboard(start_date date, end_date date,
    filters jsonb DEFAULT '{}')
RETURNS jsonb
AS 'MODULE_PATHNAME', 'ducache_dashboard'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_dashboard(date, date, jsonb) IS
    'LiteMaaS''s POST /api/v1/admin/usage/analytics document for the range and filters {userIds, modelIds, apiKeyIds, providerIds}, with the previous period''s trends; exact costs.';

CREATE OR REPLACE FUNCTION @extschema@.ducache_filter_options(start_date date, end_date date)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'ducache_filter_options'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_filter_options(date, date) IS
    'LiteMaaS''s GET /filter-options document: the models and the users (with a username) of the range, in byte order.';
-- ducache install script, part 6: the write path.
-- Both writers take one transaction-level advisory lock per cache table before touching a row
-- (see src/pg/writer_lock.hpp): ducache writers queue instead of deadlocking, also when a
-- transaction makes several calls. Readers never wait for it.

CREATE OR REPLACE FUNCTION @extschema@.ducache_batch_upsert(
    dates date[], raw_data jsonb[], aggregated_by_user jsonb[], aggregated_by_model jsonb[],
    aggregated_by_provider jsonb[], total_metrics jsonb[] DEFAULT NULL, is_complete boolean[] DEFAULT NULL,
    touch_unchanged boolean DEFAULT false)
RETURNS TABLE (date date, action text)
AS 'MODULE_PATHNAME', 'ducache_batch_upsert'
LANGUAGE C VOLATILE PARALLEL UNSAFE;   -- not STRICT: NULL arrays have meanings of their own
COMMENT ON FUNCTION @extschema@.ducache_batch_upsert(date[], jsonb[], jsonb[], jsonb[], jsonb[], jsonb[], boolean[], boolean) IS
    'Inserts or updates many days in one statement; all or nothing; returns (date, inserted|updated|unchanged) in date order. A day already holding exactly the given values is not written (touch_unchanged => true: only its timestamp is bumped).';

-- 0.2.0: `action` appended (CONTRACT §9); the upgrade prelude drops the 0.1.0 declaration.
CREATE OR REPLACE FUNCTION @extschema@.ducache_rebuild(start_date date, end_date date)
RETURNS TABLE (date date, users integer, models integer, providers integer, action text)
AS 'MODULE_PATHNAME', 'ducache_rebuild'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ducache_rebuild(date, date) IS
    'Recomputes aggregated_by_user/model/provider and total_metrics of every cached day in the range from raw_data, as LiteMaaS''s enrichment writes them (per-key level included); writes only the days that change (action updated|unchanged).';
-- ducache install script, part 8: the triggers that keep rollups honest (CONTRACT §7).
--
-- Any INSERT, UPDATE, DELETE, COPY or TRUNCATE on daily_usage_cache, by any role, logs the
-- months it touched in ducache_rollup_changes in the same transaction; a reader uses a
-- month's rollup only when its own snapshot shows no such row. The triggers fire in every
-- session_replication_role (ENABLE ALWAYS) and depend on the extension, so DROP EXTENSION
-- removes them and nothing else from the table. Days at ±infinity belong to no month (no
-- range of a read function reaches them).

CREATE OR REPLACE FUNCTION @extschema@.ducache_rollups_log_changes() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP OPERATOR(pg_catalog.=) 'TRUNCATE' THEN
        INSERT INTO @extschema@.ducache_rollup_changes (month)
        SELECT r.month FROM @extschema@.ducache_rollups AS r;
    ELSIF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
        INSERT INTO @extschema@.ducache_rollup_changes (month)
        SELECT DISTINCT @extschema@.ducache_month_of(n.date) FROM ducache_new_rows AS n
        WHERE pg_catalog.isfinite(n.date);
    ELSIF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
        INSERT INTO @extschema@.ducache_rollup_changes (month)
        SELECT DISTINCT @extschema@.ducache_month_of(o.date) FROM ducache_old_rows AS o
        WHERE pg_catalog.isfinite(o.date);
    ELSE
        INSERT INTO @extschema@.ducache_rollup_changes (month)
        SELECT DISTINCT @extschema@.ducache_month_of(c.date)
        FROM (SELECT n.date FROM ducache_new_rows AS n UNION ALL SELECT o.date FROM ducache_old_rows AS o) AS c
        WHERE pg_catalog.isfinite(c.date);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.ducache_rollups_log_changes() IS
    'Trigger function: logs the months a statement changed in daily_usage_cache, so their rollups stop being used until refreshed.';
REVOKE ALL ON FUNCTION @extschema@.ducache_rollups_log_changes() FROM PUBLIC;

CREATE OR REPLACE TRIGGER ducache_rollups_insert AFTER INSERT ON @extschema@.daily_usage_cache
    REFERENCING NEW TABLE AS ducache_new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ducache_rollups_log_changes();
CREATE OR REPLACE TRIGGER ducache_rollups_update AFTER UPDATE ON @extschema@.daily_usage_cache
    REFERENCING OLD TABLE AS ducache_old_rows NEW TABLE AS ducache_new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ducache_rollups_log_changes();
CREATE OR REPLACE TRIGGER ducache_rollups_delete AFTER DELETE ON @extschema@.daily_usage_cache
    REFERENCING OLD TABLE AS ducache_old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ducache_rollups_log_changes();
CREATE OR REPLACE TRIGGER ducache_rollups_truncate AFTER TRUNCATE ON @extschema@.daily_usage_cache
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.ducache_rollups_log_changes();

ALTER TABLE @extschema@.daily_usage_cache ENABLE ALWAYS TRIGGER ducache_rollups_insert;
ALTER TABLE @extschema@.daily_usage_cache ENABLE ALWAYS TRIGGER ducache_rollups_update;
ALTER TABLE @extschema@.daily_usage_cache ENABLE ALWAYS TRIGGER ducache_rollups_delete;
ALTER TABLE @extschema@.daily_usage_cache ENABLE ALWAYS TRIGGER ducache_rollups_truncate;

ALTER TRIGGER ducache_rollups_insert ON @extschema@.daily_usage_cache DEPENDS ON EXTENSION ducache;
ALTER TRIGGER ducache_rollups_update ON @extschema@.daily_usage_cache DEPENDS ON EXTENSION ducache;
ALTER TRIGGER ducache_rollups_delete ON @extschema@.daily_usage_cache DEPENDS ON EXTENSION ducache;
ALTER TRIGGER ducache_rollups_truncate ON @extschema@.daily_usage_cache DEPENDS ON EXTENSION ducache;
-- ducache install script, part 7: refreshing the month rollups (CONTRACT §7).
--
-- ducache_batch_upsert and ducache_rebuild refresh the months they write in their own
-- transaction; this function refreshes the months other writers changed (run it from cron:
-- it is safe while the application writes). For each month meeting [start_date, end_date]
-- (NULL: unbounded) that has day rows, a rollup or logged changes, in order, it returns what
-- it did: 'fresh' (nothing to do), 'refreshed', 'removed' (the month has no days any more),
-- 'incomplete' (a day has is_complete = false: no rollup), 'skipped' (a bad value or an
-- overflow in the month: no rollup, a WARNING names it; the read functions then read the
-- days and raise the error themselves).
--
-- Who may run it: any role with SELECT on the whole of daily_usage_cache (table-level, no
-- row-level security in force for it), else 42501. The work runs as the owner of
-- ducache_rollups (like a SECURITY DEFINER function, but only after that check), which reads
-- every day row and writes ducache's own tables. 55000 when ducache's four change triggers are
-- not in place on daily_usage_cache (no rollup could be trusted then).
CREATE OR REPLACE FUNCTION @extschema@.ducache_refresh_rollups(start_date date DEFAULT NULL, end_date date DEFAULT NULL)
RETURNS TABLE (month date, action text)
AS 'MODULE_PATHNAME', 'ducache_refresh_rollups'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ducache_refresh_rollups(date, date) IS
    'Refreshes the month rollups of daily_usage_cache that changes made stale; one row per month: fresh, refreshed, removed, incomplete or skipped.';
