-- ducache upgrade 0.3.0 -> 0.4.0, part 0 (the Makefile appends, after this file, every install
-- part but the once parts 0.3.0 already ran: src/sql/00_table.sql, 10_indexes.sql and
-- 12_rollup_tables.sql; see the Makefile, "Upgrades").
--
-- What changes its arguments or result columns in 0.4.0 is dropped here first: CREATE OR
-- REPLACE cannot change either, and an old overload left beside a new one with defaults would
-- make the old calls ambiguous. A view or function of yours that depends on a dropped function
-- stops the upgrade with an ERROR and nothing changes (the update is one transaction).
-- A change to a table 0.3.0 created (ducache_rollups, ducache_rollup_changes) is an ALTER TABLE
-- here. daily_usage_cache, its rows and its indexes are never touched.
\echo Use "ALTER EXTENSION ducache UPDATE TO '0.4.0'" to load this file. \quit

-- (Add `DROP FUNCTION IF EXISTS @extschema@.name(old argument types);` lines here when a 0.3.0
-- function changes its arguments or result columns.)

-- 0.4.0's rollups keep more than 0.3.0's (the identity facts ducache_dashboard and
-- ducache_filter_options read, core/rollup_identity.hpp): every rollup 0.3.0 built is marked
-- changed, so no reader uses it until ducache_refresh_rollups() (or a writer) rebuilds it.
-- Rollups are derived data; daily_usage_cache is not touched.
INSERT INTO @extschema@.ducache_rollup_changes (month) SELECT month FROM @extschema@.ducache_rollups;
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
