-- ducache install script, part 8: the triggers that keep rollups honest (CONTRACT §7).
--
-- Any INSERT, UPDATE, DELETE, COPY or TRUNCATE on daily_usage_cache, by any role, logs the
-- months it touched, and their day blocks (TRUNCATE: every month, no block = all of them), in
-- ducache_rollup_changes in the same transaction; a reader uses a
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
        INSERT INTO @extschema@.ducache_rollup_changes (month, block)
        SELECT DISTINCT @extschema@.ducache_month_of(n.date), @extschema@.ducache_block_of(n.date)
        FROM ducache_new_rows AS n WHERE pg_catalog.isfinite(n.date);
    ELSIF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
        INSERT INTO @extschema@.ducache_rollup_changes (month, block)
        SELECT DISTINCT @extschema@.ducache_month_of(o.date), @extschema@.ducache_block_of(o.date)
        FROM ducache_old_rows AS o WHERE pg_catalog.isfinite(o.date);
    ELSE
        INSERT INTO @extschema@.ducache_rollup_changes (month, block)
        SELECT DISTINCT @extschema@.ducache_month_of(c.date), @extschema@.ducache_block_of(c.date)
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
