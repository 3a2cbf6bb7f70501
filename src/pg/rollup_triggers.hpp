// Whether daily_usage_cache still carries ducache's four change triggers, enabled ALWAYS and
// calling ducache's trigger function (CONTRACT §7). Rollups are only as honest as those
// triggers: a table re-created or swapped in after CREATE EXTENSION, or one whose triggers an
// owner disabled, logs no changes, so its rollups are neither built nor read.
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

// Call inside a pg_call body. nsp: ducache's schema; table: the cache table there.
bool rollup_triggers_in_place(Oid table, Oid nsp);

}  // namespace ducache::pg
