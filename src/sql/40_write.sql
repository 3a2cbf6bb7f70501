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
