// Serializes ducache's writers (batch upsert, rebuild) per cache table for the rest of the
// transaction. Row locks alone cannot keep writers from deadlocking once one transaction
// makes several calls (each call sorts its own rows, but two transactions can still meet in
// opposite orders across calls). A transaction-level advisory lock taken before any row lock
// makes every ducache writer wait at the door instead: no cycle is possible. Readers never take it.
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

void lock_cache_writers(Oid table_oid);

}  // namespace ducache::pg
