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
