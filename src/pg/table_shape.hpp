// The shape ducache needs of daily_usage_cache, checked where the table is adopted (the
// install script calls ducache_table_check()) and on every call that reads or writes it: a
// table owner can change a column's type at any time, and ducache reads the columns' binary
// values in place, so a column of another type would be read as garbage (or crash the
// backend). The check's verdict is cached per relation and dropped on any relcache
// invalidation of it (ALTER TABLE, index created or dropped, ...).
//
// SQLSTATEs (docs/hardening.md):
//   42703 undefined_column     a column ducache reads or writes is missing
//   42804 datatype_mismatch    a column has another type (message: column, its type, expected)
//   42P10 invalid_column_reference  no valid, immediate, non-partial unique index on exactly
//                              (date): what INSERT .. ON CONFLICT (date) itself reports
//   0A000 feature_not_supported the table is partitioned (ON CONFLICT .. RETURNING xmax, which
//                              the upsert relies on, is not supported there)
//   42809 wrong_object_type    daily_usage_cache is a view, foreign table, ...
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

// Takes AccessShareLock on relid (held to the end of the transaction, as the read that
// follows would take it anyway: no ALTER can slip in between the check and the use), then
// checks its shape (cached). Returns the write-timestamp column: "cached_at", or
// "updated_at" on an adopted LiteMaaS table. ERRORs as above, through pg_call.
const char *check_cache_table_shape(Oid relid);

// Reader-side guard: the type each column of a scan's result must have.
// ERROR 42804 naming the column when a result column is not of the expected type.
void check_result_column(TupleDesc desc, int attno, Oid expected);

}  // namespace ducache::pg
