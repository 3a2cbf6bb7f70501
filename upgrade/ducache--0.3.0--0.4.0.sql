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

-- 0.4.0 logs the day block of the month a change touched (ducache_rollup_blocks, part 13): a
-- write leaves the month's other blocks usable. Rows without one (NULL) make the whole month
-- stale, blocks included, as the rows above do.
ALTER TABLE @extschema@.ducache_rollup_changes ADD COLUMN block date;

-- 0.4.0's rollups keep three columns derived from their documents by a trigger on every write
-- of a rollup row (part 56): user_totals, model_totals, key_totals. The rows 0.3.0 built are
-- marked changed above, so their refresh fills them before any reader uses them.
ALTER TABLE @extschema@.ducache_rollups ADD COLUMN user_totals jsonb, ADD COLUMN model_totals jsonb,
    ADD COLUMN key_totals jsonb;
DO $compression$
BEGIN
    ALTER TABLE @extschema@.ducache_rollups ALTER COLUMN user_totals SET COMPRESSION lz4,
        ALTER COLUMN model_totals SET COMPRESSION lz4, ALTER COLUMN key_totals SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;   -- a server built without lz4: the default compression
END
$compression$;

-- 0.4.0's rollups also keep user_pack (part 56, core/user_pack.hpp): user_totals' users packed
-- for the dashboard, derived by the same trigger. NULL until the row is written again (the rows
-- 0.3.0 built are marked changed above: their refresh fills it); a call that meets a rollup
-- row without one reads user_totals, as before.
ALTER TABLE @extschema@.ducache_rollups ADD COLUMN user_pack bytea;
DO $compression$
BEGIN
    ALTER TABLE @extschema@.ducache_rollups ALTER COLUMN user_pack SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;   -- a server built without lz4: the default compression
END
$compression$;
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
-- ducache install script, part 3b: the day-block rollups nested in the months (CONTRACT §7;
-- docs/rollups.md, "Day blocks").
--
-- A month is cut into aligned blocks of days: 1-8, 9-16, 17-24 and 25 to its end. A block's
-- rollup is a month rollup of those days only (the same documents, the day masks still count
-- the month's days: bit d-1 = day d), built and freed by the month's refresh under the month's
-- lock, and read for the whole blocks of a range that no fresh month rollup covers. A change
-- to a day invalidates its month and its block (ducache_rollup_changes.block); the other
-- blocks of the month stay usable. Derived data, like ducache_rollups.

-- The first day of a date's block (NULL for ±infinity), computed on the date itself like
-- ducache_month_of(). The first month PostgreSQL has (from 4714-11-24 BC) is one block.
CREATE FUNCTION @extschema@.ducache_block_of(d date) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE WHEN NOT pg_catalog.isfinite(d) THEN NULL
                WHEN d OPERATOR(pg_catalog.<) '4714-12-01 BC'::pg_catalog.date THEN '4714-11-24 BC'::pg_catalog.date
                WHEN EXTRACT(day FROM d)::pg_catalog.int4 OPERATOR(pg_catalog.>=) 25
                    THEN d OPERATOR(pg_catalog.-) (EXTRACT(day FROM d)::pg_catalog.int4 OPERATOR(pg_catalog.-) 25)
                ELSE d OPERATOR(pg_catalog.-) ((EXTRACT(day FROM d)::pg_catalog.int4 OPERATOR(pg_catalog.-) 1)
                                               OPERATOR(pg_catalog.%) 8)
           END
$$;
COMMENT ON FUNCTION @extschema@.ducache_block_of(date) IS
    'First day of the day block (1-8, 9-16, 17-24, 25-end of the month) of a date (NULL for ±infinity).';

-- One row per block that a refresh built (or found incomplete). Rows live and die with their
-- month's ducache_rollups row, and are written only by the refresh that holds that row's lock,
-- which keeps one row per block. No index: a few rows a month, read by a scan (and the schema's
-- index set stays what the install tests know).
CREATE TABLE @extschema@.ducache_rollup_blocks (
    block                   date        NOT NULL
                                        CHECK (block OPERATOR(pg_catalog.=) @extschema@.ducache_block_of(block)),
    month                   date        NOT NULL REFERENCES @extschema@.ducache_rollups (month) ON DELETE CASCADE,
    last_day                date        NOT NULL,
    built                   boolean     NOT NULL DEFAULT false,
    -- bit d-1 set: day d of the month was cached (days of this block only)
    days                    integer     NOT NULL DEFAULT 0,
    -- as ducache_rollups, over the block's days
    aggregated_by_user      jsonb,
    aggregated_by_model     jsonb,
    aggregated_by_provider  jsonb,
    providers_derived       jsonb,
    models_unprovided       jsonb,
    daily                   jsonb,
    refreshed_at            timestamptz,
    user_totals             jsonb,
    model_totals            jsonb,
    key_totals              jsonb,
    user_pack               bytea,
    CHECK (month OPERATOR(pg_catalog.=) @extschema@.ducache_month_of(block)),
    CHECK (last_day OPERATOR(pg_catalog.>=) block)
);
DO $compression$
BEGIN
    ALTER TABLE @extschema@.ducache_rollup_blocks
        ALTER COLUMN aggregated_by_user SET COMPRESSION lz4, ALTER COLUMN aggregated_by_model SET COMPRESSION lz4,
        ALTER COLUMN aggregated_by_provider SET COMPRESSION lz4, ALTER COLUMN providers_derived SET COMPRESSION lz4,
        ALTER COLUMN models_unprovided SET COMPRESSION lz4, ALTER COLUMN daily SET COMPRESSION lz4,
        ALTER COLUMN user_totals SET COMPRESSION lz4, ALTER COLUMN model_totals SET COMPRESSION lz4,
        ALTER COLUMN key_totals SET COMPRESSION lz4, ALTER COLUMN user_pack SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;   -- a server built without lz4: the default compression
END
$compression$;
COMMENT ON TABLE @extschema@.ducache_rollup_blocks IS
    'ducache day-block rollups of daily_usage_cache (days 1-8, 9-16, 17-24, 25-end of a month; derived data).';

REVOKE ALL ON TABLE @extschema@.ducache_rollup_blocks FROM PUBLIC;
-- ducache install script, part 4: the shards of a coordinator (CONTRACT §8; docs/scale-out.md).
--
-- Empty in a plain ducache database. ducache_add_shards() fills it and so turns the database
-- into a coordinator: its read functions and ducache_batch_upsert then work on the shards
-- (shard k is the k-th postgres_fdw server given) instead of the local daily_usage_cache.
-- Configuration, not cache data: a member of the extension (DROP EXTENSION drops it and never
-- touches a shard), kept by pg_dump (pg_extension_config_dump). Only the extension's owner
-- reads or writes it directly.
CREATE TABLE @extschema@.ducache_shards (
    shard       integer     PRIMARY KEY CHECK (shard OPERATOR(pg_catalog.>=) 0),
    server      name        NOT NULL UNIQUE,   -- a postgres_fdw foreign server
    added_at    timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.ducache_shards IS
    'The shards of a ducache coordinator: shard k holds the users whose hash falls in slice k (docs/scale-out.md).';
REVOKE ALL ON @extschema@.ducache_shards FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ducache_shards', '');
-- ducache install script, part 4b: the decision rows of writes through a coordinator
-- (CONTRACT §8; docs/scale-out-writes.md).
--
-- A write through the coordinator prepares a transaction on every shard ('<gid>_<shard>') and
-- inserts one row here in the coordinator's own transaction: the row is visible exactly when
-- the coordinator committed, so it is the decision ducache_resolve_shards() follows for
-- prepared transactions left in doubt by a crash (row visible: COMMIT PREPARED; no row and the
-- coordinator's transaction over: ROLLBACK PREPARED). The resolver deletes rows no shard needs.
-- Empty in a plain database; only ducache's own code (as the owner) reads or writes it.
CREATE TABLE @extschema@.ducache_shard_xacts (
    gid         text        PRIMARY KEY,   -- ducache_<system id>_<database oid>_<full xid>
    servers     name[]      NOT NULL,      -- the shards written, in shard order
    decided_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.ducache_shard_xacts IS
    'Commit decisions of writes through a ducache coordinator (two-phase commit over the shards; docs/scale-out-writes.md).';
REVOKE ALL ON @extschema@.ducache_shard_xacts FROM PUBLIC;
-- ducache install script, part 3c: the day projections (docs/rollups.md, "Day projections").
--
-- A range that does not start and end on block boundaries leaves up to 7 days at each end
-- that no month or block rollup covers. For ducache_dashboard (unfiltered) those days are read
-- from the small projections of a one-day rollup instead of the day row's whole documents:
-- user_totals, model_totals, key_totals (as the month and block rows' derived columns) and the
-- small documents (aggregated_by_provider, models_unprovided, daily). No aggregated_by_user or
-- aggregated_by_model: the day row holds those. Built and freed by the month's refresh under
-- the month's lock; a day is fresh for a snapshot when built and no change row of its month
-- names it, names its block without a day, or names no block. Derived data, like ducache_rollups.

-- 0.4.0: the one day a change row's statement touched in its block (NULL: several days, or a
-- row that names no block: the whole block, or month, is stale). Added here, after the table's
-- part, so a new install and the update from 0.3.0 both get it (the column comes last in both).
ALTER TABLE @extschema@.ducache_rollup_changes ADD COLUMN day date;

-- One row per day that a refresh built (or found incomplete), written only by the refresh that
-- holds the lock of its month's ducache_rollups row. No foreign key to that row (a TRUNCATE of
-- ducache_rollups alone must keep working): a reader uses a projection only while its month's
-- row exists, and a refresh deletes the projections of days that have no day row (of a month
-- with no days left: all of them). No index (a scan of small rows; the schema's index set stays
-- what the install tests know).
CREATE TABLE @extschema@.ducache_rollup_days (
    day                     date        NOT NULL,
    month                   date        NOT NULL,
    built                   boolean     NOT NULL DEFAULT false,
    -- bit d-1 set: day d of the month (this day) was cached
    days                    integer     NOT NULL DEFAULT 0,
    -- as ducache_rollups' columns of the same names, over this one day
    aggregated_by_provider  jsonb,
    models_unprovided       jsonb,
    daily                   jsonb,
    user_totals             jsonb,
    model_totals            jsonb,
    key_totals              jsonb,
    user_pack               bytea,
    refreshed_at            timestamptz,
    CHECK (month OPERATOR(pg_catalog.=) @extschema@.ducache_month_of(day))
);
DO $compression$
BEGIN
    ALTER TABLE @extschema@.ducache_rollup_days
        ALTER COLUMN aggregated_by_provider SET COMPRESSION lz4, ALTER COLUMN models_unprovided SET COMPRESSION lz4,
        ALTER COLUMN daily SET COMPRESSION lz4, ALTER COLUMN user_totals SET COMPRESSION lz4,
        ALTER COLUMN model_totals SET COMPRESSION lz4, ALTER COLUMN key_totals SET COMPRESSION lz4,
        ALTER COLUMN user_pack SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;   -- a server built without lz4: the default compression
END
$compression$;
COMMENT ON TABLE @extschema@.ducache_rollup_days IS
    'ducache day projections of daily_usage_cache (the dashboard''s small columns of one day; derived data).';

REVOKE ALL ON TABLE @extschema@.ducache_rollup_days FROM PUBLIC;
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
-- ducache install script: the ducache_user_partial aggregate, what the unfiltered user
-- breakdown runs underneath over long ranges so PostgreSQL's parallel workers share the days
-- (src/pg/parallel_breakdown.hpp). ducache_user_partial(aggregated_by_user, date, start)
-- returns the combined per-user state serialized (an internal format, read back by the
-- breakdown); rows may come in any order. The transition function's COST tells the planner a
-- row is expensive (a day of entries), so it plans the workers the row count alone would not.

CREATE OR REPLACE FUNCTION @extschema@.ducache_user_partial_trans(internal, jsonb, date, date) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_user_partial_trans' LANGUAGE C IMMUTABLE PARALLEL SAFE COST 100000;
COMMENT ON FUNCTION @extschema@.ducache_user_partial_trans(internal, jsonb, date, date) IS 'ducache_user_partial transition function.';

CREATE OR REPLACE FUNCTION @extschema@.ducache_user_partial_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_user_partial_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_user_partial_combine(internal, internal) IS 'ducache_user_partial combine function (parallel aggregation).';

CREATE OR REPLACE FUNCTION @extschema@.ducache_user_partial_serialize(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'ducache_user_partial_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_user_partial_serialize(internal) IS 'ducache_user_partial state serialization (parallel aggregation).';

CREATE OR REPLACE FUNCTION @extschema@.ducache_user_partial_deserialize(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'ducache_user_partial_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_user_partial_deserialize(bytea, internal) IS 'ducache_user_partial state deserialization (parallel aggregation).';

CREATE OR REPLACE FUNCTION @extschema@.ducache_user_partial_final(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'ducache_user_partial_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_user_partial_final(internal) IS 'ducache_user_partial final function: the state serialized.';

CREATE OR REPLACE AGGREGATE @extschema@.ducache_user_partial(jsonb, date, date) (
    SFUNC = @extschema@.ducache_user_partial_trans,
    STYPE = internal,
    FINALFUNC = @extschema@.ducache_user_partial_final,
    COMBINEFUNC = @extschema@.ducache_user_partial_combine,
    SERIALFUNC = @extschema@.ducache_user_partial_serialize,
    DESERIALFUNC = @extschema@.ducache_user_partial_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.ducache_user_partial(jsonb, date, date) IS
    'Internal: the per-user partial sums behind ducache_user_breakdown''s parallel path (serialized state).';
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
-- ducache install script, part 6b: finishing writes through a coordinator (CONTRACT §8;
-- docs/scale-out-writes.md). ducache_batch_upsert itself (part 6) writes on the shards when
-- ducache_shards is filled.

CREATE OR REPLACE FUNCTION @extschema@.ducache_resolve_shards()
RETURNS TABLE (shard integer, server name, gid text, action text)
AS 'MODULE_PATHNAME', 'ducache_resolve_shards'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.ducache_resolve_shards() IS
    'Finishes the prepared transactions a crashed or disconnected coordinator left on its shards: COMMIT PREPARED where the coordinator committed (its decision row is visible), ROLLBACK PREPARED where it did not; leaves those of running transactions. One row per transaction found (action committed|rolled back|in progress|failed).';
REVOKE ALL ON FUNCTION @extschema@.ducache_resolve_shards() FROM PUBLIC;
-- ducache install script, part 8: the triggers that keep rollups honest (CONTRACT §7).
--
-- Any INSERT, UPDATE, DELETE, COPY or TRUNCATE on daily_usage_cache, by any role, logs the
-- months it touched, and their day blocks (TRUNCATE: every month, no block = all of them), in
-- ducache_rollup_changes in the same transaction, one row per block; the row names the day too
-- when the statement touched one day of the block (LiteMaaS rewriting "today": the other days'
-- projections, part 16, stay usable). A reader uses a
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
        INSERT INTO @extschema@.ducache_rollup_changes (month, block, day)
        SELECT @extschema@.ducache_month_of(n.date), @extschema@.ducache_block_of(n.date),
               CASE WHEN pg_catalog.min(n.date) OPERATOR(pg_catalog.=) pg_catalog.max(n.date) THEN pg_catalog.min(n.date) END
        FROM ducache_new_rows AS n WHERE pg_catalog.isfinite(n.date) GROUP BY 1, 2;
    ELSIF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
        INSERT INTO @extschema@.ducache_rollup_changes (month, block, day)
        SELECT @extschema@.ducache_month_of(o.date), @extschema@.ducache_block_of(o.date),
               CASE WHEN pg_catalog.min(o.date) OPERATOR(pg_catalog.=) pg_catalog.max(o.date) THEN pg_catalog.min(o.date) END
        FROM ducache_old_rows AS o WHERE pg_catalog.isfinite(o.date) GROUP BY 1, 2;
    ELSE
        INSERT INTO @extschema@.ducache_rollup_changes (month, block, day)
        SELECT @extschema@.ducache_month_of(c.date), @extschema@.ducache_block_of(c.date),
               CASE WHEN pg_catalog.min(c.date) OPERATOR(pg_catalog.=) pg_catalog.max(c.date) THEN pg_catalog.min(c.date) END
        FROM (SELECT n.date FROM ducache_new_rows AS n UNION ALL SELECT o.date FROM ducache_old_rows AS o) AS c
        WHERE pg_catalog.isfinite(c.date) GROUP BY 1, 2;
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
-- ducache install script: the derived columns of the rollup rows (src/pg/rollup_derived.cpp).
--
-- Every INSERT or UPDATE of a row of ducache_rollups or ducache_rollup_blocks sets, from the
-- row's own documents and whoever writes it: user_totals (aggregated_by_user without the users'
-- "models"), model_totals (aggregated_by_model without the models' "users" and "~named") and key_totals
-- (each user's key cells summed per key alias; NULL when they cannot be summed). They can never
-- disagree with the documents; ducache_dashboard reads them instead of the whole documents.
CREATE OR REPLACE FUNCTION @extschema@.ducache_rollups_derived() RETURNS trigger
AS 'MODULE_PATHNAME', 'ducache_rollups_derived'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.ducache_rollups_derived() IS
    'Trigger function: sets a rollup row''s user_totals, model_totals and key_totals from its documents.';
REVOKE ALL ON FUNCTION @extschema@.ducache_rollups_derived() FROM PUBLIC;

CREATE OR REPLACE TRIGGER ducache_rollups_derived BEFORE INSERT OR UPDATE ON @extschema@.ducache_rollups
    FOR EACH ROW EXECUTE FUNCTION @extschema@.ducache_rollups_derived();
CREATE OR REPLACE TRIGGER ducache_rollup_blocks_derived BEFORE INSERT OR UPDATE ON @extschema@.ducache_rollup_blocks
    FOR EACH ROW EXECUTE FUNCTION @extschema@.ducache_rollups_derived();
-- In every session_replication_role, like the change triggers.
ALTER TABLE @extschema@.ducache_rollups ENABLE ALWAYS TRIGGER ducache_rollups_derived;
ALTER TABLE @extschema@.ducache_rollup_blocks ENABLE ALWAYS TRIGGER ducache_rollup_blocks_derived;

-- The packed users column (user_pack, core/user_pack.hpp) for tests and operators: the pack the
-- trigger derives from a user_totals value, and a pack's users as rows.
CREATE OR REPLACE FUNCTION @extschema@.ducache_user_pack(user_totals jsonb) RETURNS bytea
AS 'MODULE_PATHNAME', 'ducache_user_pack'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_user_pack(jsonb) IS
    'The user_pack a rollup row with this user_totals gets (NULL when a value does not fit exactly).';
REVOKE ALL ON FUNCTION @extschema@.ducache_user_pack(jsonb) FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.ducache_user_pack_rows(pack bytea)
RETURNS TABLE (ord integer, user_id text, requests bigint, total_tokens bigint, prompt_tokens bigint,
               completion_tokens bigint, successful_requests bigint, failed_requests bigint, cost numeric,
               keycost numeric, keymag bigint, username text, email text, role text)
AS 'MODULE_PATHNAME', 'ducache_user_pack_rows'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE ROWS 10000;
COMMENT ON FUNCTION @extschema@.ducache_user_pack_rows(bytea) IS
    'The users of a rollup row''s user_pack as rows, in user_totals order (ops and tests).';
REVOKE ALL ON FUNCTION @extschema@.ducache_user_pack_rows(bytea) FROM PUBLIC;
-- ducache install script: scale-out over user-hash shards (CONTRACT §8; docs/scale-out.md).
-- Part 1, on every database (a shard answers with it): the request of the per-shard aggregate
-- the coordinator pushes down whole through postgres_fdw (61_shard_partial_bin.sql).

-- The step function of ducache_shard_partial_bin(date, request jsonb): keeps the request (one
-- jsonb, not text arguments: postgres_fdw does not push down an aggregate whose input has a
-- collation, and text and text[] constants do). The aggregate runs over a shard's
-- daily_usage_cache rows in the request's range only to give postgres_fdw an aggregate to push
-- down (one round trip per shard); its final function does the work. In C: it runs once per
-- cached day of the range.
CREATE OR REPLACE FUNCTION @extschema@.ducache_shard_request_step(state jsonb, day date, request jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'ducache_shard_request_step'
LANGUAGE C IMMUTABLE PARALLEL SAFE;

-- Is any of the three filters given (a non-empty array)?
CREATE OR REPLACE FUNCTION @extschema@.ducache_shard_filtered(u text[], m text[], k text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT COALESCE(cardinality(u), 0) + COALESCE(cardinality(m), 0) + COALESCE(cardinality(k), 0) > 0 $$;
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
-- ducache install script: scale-out, the binary partials of the model, provider and period
-- summary reads (docs/scale-out.md). A shard builds its partial in C++ (src/pg/shard_partial_read.cpp: per
-- key the exact sums, day bits, the own provider field with its day, user and model sets; the
-- format is src/core/shard_partial.hpp's) and returns it as bytea, a built-in type postgres_fdw
-- ships; the coordinator merges the partials in C++ (src/pg/shard_partial_merge.cpp).

CREATE OR REPLACE FUNCTION @extschema@.ducache_shard_read_partial(kind text, start_date date, end_date date,
    user_ids text[] DEFAULT NULL, model_ids text[] DEFAULT NULL, api_key_aliases text[] DEFAULT NULL)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ducache_shard_read_partial'
LANGUAGE C STABLE PARALLEL RESTRICTED;

-- The rows of a user-keyed read or of the daily trend, typed (src/core/shard_rows.hpp).
CREATE OR REPLACE FUNCTION @extschema@.ducache_shard_read_rows(kind text, start_date date, end_date date,
    user_ids text[] DEFAULT NULL, model_ids text[] DEFAULT NULL, api_key_aliases text[] DEFAULT NULL)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ducache_shard_read_rows'
LANGUAGE C STABLE PARALLEL RESTRICTED;

-- The final function of ducache_shard_partial_bin: the request's read, on the shard. Kinds:
-- model, provider, summary, summary_top (binary partials, ducache_shard_read_partial); user,
-- user_model, api_key, trend (typed rows, ducache_shard_read_rows); dashboard,
-- dashboard_providers, filter_options (the documents' partials, 63_coordinator_documents.sql).
-- The filters are the request's arrays as text[] (JSON null elements as NULL). Refuses to run
-- on a coordinator (55000). In C (src/pg/shard_request.cpp): it runs once per shard and call.
CREATE OR REPLACE FUNCTION @extschema@.ducache_shard_partial_bin_final(state jsonb)
RETURNS bytea
AS 'MODULE_PATHNAME', 'ducache_shard_partial_bin_final'
LANGUAGE C STABLE PARALLEL RESTRICTED;

-- ducache_shard_partial_bin(date, request jsonb) -> bytea: a shard's answer to one request
-- (pushed down whole by postgres_fdw; its final function does the read). No row in range: NULL
-- (every shard holds every day, so it has nothing to add).
CREATE OR REPLACE AGGREGATE @extschema@.ducache_shard_partial_bin(date, jsonb) (
    SFUNC = @extschema@.ducache_shard_request_step,
    STYPE = jsonb,
    FINALFUNC = @extschema@.ducache_shard_partial_bin_final
);
COMMENT ON AGGREGATE @extschema@.ducache_shard_partial_bin(date, jsonb) IS
    'Scale-out: a shard''s binary answer to a coordinator''s read (pushed down whole by postgres_fdw; docs/scale-out.md).';

-- Every shard's answer to `request` (empty ones left out), aggregated over its rows in
-- [start_date, end_date], in one statement: one pushed-down aggregate per shard, run
-- concurrently. In C (src/pg/coordinator_gather.cpp): no subtransaction around the statement
-- (it would cost a remote SAVEPOINT and RELEASE per shard); a connection-class error is
-- re-raised naming the first shard that does not answer a new connection now (class 08,
-- same SQLSTATE), never a partial answer.
CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_gather(request jsonb, start_date date, end_date date)
RETURNS SETOF bytea
AS 'MODULE_PATHNAME', 'ducache_coord_gather'
LANGUAGE C STABLE;

-- The request of a read function (kind, range, the three filters) to every shard: the
-- jsonb_build_object of them, gathered (C, src/pg/coordinator_gather.cpp: one SQL layer less).
CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_partials_bin(kind text, start_date date, end_date date,
    user_ids text[], model_ids text[], api_key_aliases text[])
RETURNS SETOF bytea
AS 'MODULE_PATHNAME', 'ducache_coord_partials_bin'
LANGUAGE C STABLE;

-- The merges (C++): models (sums added, day sets and user sets united, the latest own provider
-- field); providers, from provider partials, or grouped from filtered model partials.
CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_merge_models(parts bytea[])
RETURNS TABLE (model text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint,
               total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer,
               provider text, users integer)
AS 'MODULE_PATHNAME', 'ducache_coord_merge_models'
LANGUAGE C STABLE;

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_merge_providers(parts bytea[], grouped boolean)
RETURNS TABLE (provider text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint,
               total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer,
               models integer, users integer)
AS 'MODULE_PATHNAME', 'ducache_coord_merge_providers'
LANGUAGE C STABLE;

-- One period's totals (ducache_period_summary's row) from summary partials; period false (a
-- NULL date): a row of NULLs.
CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_merge_summary(parts bytea[], with_top boolean, period boolean,
    OUT days_cached integer, OUT active_users integer, OUT total_requests bigint,
    OUT total_tokens bigint, OUT prompt_tokens bigint, OUT completion_tokens bigint,
    OUT total_cost numeric, OUT successful_requests bigint, OUT failed_requests bigint,
    OUT top_user text, OUT top_model text)
AS 'MODULE_PATHNAME', 'ducache_coord_merge_summary'
LANGUAGE C STABLE;

-- The shards' rows (ducache_shard_read_rows) as rows of the caller's column list.
CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_merge_rows(parts bytea[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'ducache_coord_merge_rows'
LANGUAGE C STABLE;
-- ducache install script: scale-out, part 3: the read functions on a coordinator. The C read
-- functions hand their arguments to these when ducache_shards has rows
-- (src/pg/coordinator_forward.cpp). Each asks every shard ONE aggregate query, pushed down
-- whole by postgres_fdw and run concurrently (an Append of Async Foreign Scans), then merges:
-- users are disjoint across shards (their rows just add), models, providers and dates are not
-- (sums add, day sets are united). docs/scale-out.md.
--
-- The others are PL/pgSQL, not SQL: a SQL function with SET search_path is parsed and planned
-- again at every call, a PL/pgSQL one keeps its plan for the session (most of a one-day call's
-- fixed cost on the coordinator; docs/scale-out-speed.md, round 6). `#variable_conflict
-- use_column`: the result columns are also variables, and the merge functions' columns carry
-- the same names.

-- The range checks of the local reads (pg/cache_scan.cpp), same SQLSTATEs and messages.
CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_check_range(start_date date, end_date date) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT isfinite(start_date) OR NOT isfinite(end_date) THEN
        RAISE EXCEPTION 'date range bounds must be finite' USING ERRCODE = '22008',
            DETAIL = format('%s is %s.', CASE WHEN NOT isfinite(start_date) THEN 'start_date' ELSE 'end_date' END,
                            CASE WHEN NOT isfinite(start_date) THEN start_date ELSE end_date END);
    END IF;
    IF start_date > end_date THEN
        RAISE EXCEPTION 'start_date must not be after end_date' USING ERRCODE = '22023',
            DETAIL = format('start_date is %s, end_date is %s.', start_date, end_date);
    END IF;
END
$$;

-- Users are disjoint across shards: rows keyed by a user come whole from one shard. These
-- three and the daily trend are C (src/pg/shard_rows.cpp): the shards' typed rows decoded, put
-- in the one-node order by one sort in C++ (core/shard_rows_merge.hpp), the trend's rows of a
-- date added, and written once into the result (docs/scale-out-speed.md, round 6).

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_user_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (user_id text, username text, email text, role text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, last_active date)
AS 'MODULE_PATHNAME', 'ducache_coord_user_breakdown'
LANGUAGE C STABLE;

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_user_model_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (user_id text, model text, provider text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer)
AS 'MODULE_PATHNAME', 'ducache_coord_user_model_breakdown'
LANGUAGE C STABLE;

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_api_key_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (key_alias text, key_name text, user_id text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, last_used date)
AS 'MODULE_PATHNAME', 'ducache_coord_api_key_breakdown'
LANGUAGE C STABLE;

-- Models and providers repeat across shards: sums add, day sets are united, user sets are
-- united (a user may sit in a home day's entry on shard 0 and in a split day's entry on its
-- own shard), a provider's models are united. The shards send binary partials (bytea, built
-- and merged by ducache's C++: src/sql/61_shard_partial_bin.sql). A model's provider is its
-- own field (the latest in the range, whichever shard saw it), else the name rule.

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_model_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (model text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, provider text, users integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY SELECT m.* FROM @extschema@.ducache_coord_merge_models(ARRAY(
               SELECT p FROM @extschema@.ducache_coord_partials_bin('model', start_date, end_date, user_ids, model_ids, api_key_aliases) p
               WHERE start_date IS NOT NULL AND end_date IS NOT NULL)) m
    WHERE start_date IS NOT NULL AND end_date IS NOT NULL
    ORDER BY m.total_cost DESC, m.model COLLATE "C";
END
$$;

-- Providers. Unfiltered, the shards' provider partials (a day's providers are its own: stored,
-- or derived from its models). Filtered, the passing models (filtered model partials) summed
-- by their merged provider.
CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_provider_breakdown(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (provider text, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric, successful_requests bigint, failed_requests bigint, active_days integer, models integer, users integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY SELECT m.* FROM @extschema@.ducache_coord_merge_providers(ARRAY(
               SELECT p FROM @extschema@.ducache_coord_partials_bin('provider', start_date, end_date, user_ids, model_ids, api_key_aliases) p
               WHERE start_date IS NOT NULL AND end_date IS NOT NULL),
           @extschema@.ducache_shard_filtered(user_ids, model_ids, api_key_aliases)) m
    WHERE start_date IS NOT NULL AND end_date IS NOT NULL
    ORDER BY m.total_cost DESC, m.provider COLLATE "C";
END
$$;

-- Dates repeat across shards: a day's figures add (its users are disjoint across shards), as
-- sum(...)::integer / ::bigint / sum(numeric) did.

CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_daily_trend(start_date date, end_date date, user_ids text[],
    model_ids text[], api_key_aliases text[])
RETURNS TABLE (date date, active_users integer, total_requests bigint, total_tokens bigint, prompt_tokens bigint, completion_tokens bigint, total_cost numeric)
AS 'MODULE_PATHNAME', 'ducache_coord_daily_trend'
LANGUAGE C STABLE;

-- One period's totals (ducache_analytics calls it twice): days_cached = the union of the
-- shards' cached days; users add; the top user is the best of the shards' top users; the top
-- model has the largest summed cost (ties: smallest key, byte order). Binary partials, merged
-- in C++ (src/sql/61_shard_partial_bin.sql).
CREATE OR REPLACE FUNCTION @extschema@.ducache_coord_period_summary(start_date date, end_date date, with_top boolean,
    user_ids text[], model_ids text[], api_key_aliases text[],
    OUT days_cached integer, OUT active_users integer, OUT total_requests bigint,
    OUT total_tokens bigint, OUT prompt_tokens bigint, OUT completion_tokens bigint,
    OUT total_cost numeric, OUT successful_requests bigint, OUT failed_requests bigint,
    OUT top_user text, OUT top_model text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    SELECT s.* INTO days_cached, active_users, total_requests, total_tokens, prompt_tokens, completion_tokens,
                    total_cost, successful_requests, failed_requests, top_user, top_model
    FROM @extschema@.ducache_coord_merge_summary(ARRAY(
               SELECT p FROM @extschema@.ducache_coord_partials_bin(CASE WHEN with_top THEN 'summary_top' ELSE 'summary' END,
                                                                    start_date, end_date, user_ids, model_ids, api_key_aliases) p
               WHERE start_date IS NOT NULL AND end_date IS NOT NULL),
           COALESCE(with_top, false), start_date IS NOT NULL AND end_date IS NOT NULL) s;
END
$$;
-- ducache install script: scale-out, part 4: ducache_dashboard and ducache_filter_options on a
-- coordinator (docs/scale-out.md). Each shard builds the state one node builds before writing
-- the document and returns it as a binary partial (bytea; src/core/dashboard_partial.hpp); the
-- coordinator's C function asks every shard through ducache_coord_gather (kinds dashboard,
-- dashboard_providers, filter_options of ducache_shard_partial_bin, 61_shard_partial_bin.sql),
-- adds the partials and writes the document (pg/coordinator_dashboard.cpp).

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
