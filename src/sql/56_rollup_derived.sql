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
