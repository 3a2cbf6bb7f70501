// Finding daily_usage_cache: the table of the installed extension, in the schema of the
// calling SQL function (ducache is not relocatable, so they share it), its shape checked on
// every call (src/pg/table_shape.hpp), and which column holds its write timestamp.
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

// The cache table's oid; its shape is checked and it is locked AccessShare for the rest of
// the transaction.
Oid cache_table_oid(FunctionCallInfo fcinfo);

// "schema"."daily_usage_cache", quoted for SQL text (the shape checked first). palloc'd.
const char *cache_table_name(FunctionCallInfo fcinfo);

// "cached_at", or "updated_at" on an adopted LiteMaaS table.
const char *timestamp_column(Oid table_oid);

}  // namespace ducache::pg
