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
