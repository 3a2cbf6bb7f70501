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
