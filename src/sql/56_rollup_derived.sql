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
