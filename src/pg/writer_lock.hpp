// Serializes ducache's writers (batch upsert, rebuild) per cache table for the rest of the
// transaction. Row locks alone cannot keep writers from deadlocking once one transaction
// makes several calls (each call sorts its own rows, but two transactions can still meet in
// opposite orders across calls). A transaction-level advisory lock taken before any row lock
// makes every ducache writer wait at the door instead: no cycle is possible. Readers never take it.
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

// The cache table's oid, found through the calling function's schema; its shape is checked
// (src/pg/table_shape.hpp) and it is locked AccessShare for the rest of the transaction.
Oid cache_table_oid(FunctionCallInfo fcinfo);

void lock_cache_writers(Oid table_oid);

// "cached_at", or "updated_at" on an adopted LiteMaaS table.
const char *timestamp_column(Oid table_oid);

}  // namespace ducache::pg
