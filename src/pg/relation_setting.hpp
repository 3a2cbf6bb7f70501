// Resolves a GUC whose value names a table (ducache.users_table, ducache.api_keys_table) as a
// relation: never pasted into SQL text. Callers build SQL from the resolved, quoted names.
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

struct ResolvedTable {
    Oid relid = InvalidOid;        // InvalidOid: no table configured (or the default is absent)
    const char *qualified = nullptr;  // "schema"."name", quoted
};

// value "" → none. value == absent_ok_default and no such relation → none. Otherwise the
// relation must exist (42P01) and be readable by the current user (42501). Resolved once,
// to an oid and a schema-qualified name, never through the caller's search_path: an
// unqualified value names a relation in ducache's own schema, a qualified one the schema
// it names.
ResolvedTable resolve_table_setting(const char *guc_name, const char *value, const char *absent_ok_default);

// The type of column `name` of relid, or InvalidOid if it has none.
Oid column_type(Oid relid, const char *name);

// ERROR 42703 naming the setting, the table and the missing column.
[[noreturn]] void missing_column(const char *guc_name, const ResolvedTable &t, const char *column);

}  // namespace ducache::pg
