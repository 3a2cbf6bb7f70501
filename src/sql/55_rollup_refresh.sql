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
