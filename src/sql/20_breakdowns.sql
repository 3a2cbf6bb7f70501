-- ducache install script, part 3: the breakdowns.
-- Each sums one JSONB breakdown column over the cached days of [start_date, end_date]
-- (inclusive) in C++, reading the JSONB in place; rows are ordered by total_cost DESC, then
-- key ASC (byte order). All read with the caller's rights: row-level security applies.

CREATE OR REPLACE FUNCTION @extschema@.ducache_user_breakdown(start_date date, end_date date)
RETURNS TABLE (user_id text, username text, email text, role text,
               total_requests bigint, total_tokens bigint, prompt_tokens bigint,
               completion_tokens bigint, total_cost numeric, successful_requests bigint,
               failed_requests bigint, active_days integer)
AS 'MODULE_PATHNAME', 'ducache_user_breakdown'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_user_breakdown(date, date) IS
    'Per-user usage summed over aggregated_by_user for the cached days in the range; identity from ducache.users_table.';

CREATE OR REPLACE FUNCTION @extschema@.ducache_model_breakdown(start_date date, end_date date)
RETURNS TABLE (model text, total_requests bigint, total_tokens bigint, prompt_tokens bigint,
               completion_tokens bigint, total_cost numeric, successful_requests bigint,
               failed_requests bigint, active_days integer)
AS 'MODULE_PATHNAME', 'ducache_model_breakdown'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_model_breakdown(date, date) IS
    'Per-model usage summed over aggregated_by_model for the cached days in the range.';

CREATE OR REPLACE FUNCTION @extschema@.ducache_provider_breakdown(start_date date, end_date date)
RETURNS TABLE (provider text, total_requests bigint, total_tokens bigint, prompt_tokens bigint,
               completion_tokens bigint, total_cost numeric, successful_requests bigint,
               failed_requests bigint, active_days integer)
AS 'MODULE_PATHNAME', 'ducache_provider_breakdown'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ducache_provider_breakdown(date, date) IS
    'Per-provider usage summed over aggregated_by_provider for the cached days in the range.';
