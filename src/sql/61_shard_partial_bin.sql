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
