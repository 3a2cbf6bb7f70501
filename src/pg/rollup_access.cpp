#include "core/error.hpp"  // before any PostgreSQL header (pg/rollup_retry.hpp needs it)
#include "pg/rollup_retry.hpp"
#include "pg/rollup_access.hpp"

#include "pg/boundary.hpp"
#include "pg/rollup_triggers.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/syscache.h"
}

namespace ducache::pg {

RollupAccess rollup_access(FunctionCallInfo fcinfo)
{
    RollupAccess access;
    if (!use_rollups_setting() || DaysOnly::active())
        return access;
    pg_call([&] {
        Oid nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
        Oid table = get_relname_relid("daily_usage_cache", nsp);
        Oid rollups = get_relname_relid("ducache_rollups", nsp);
        Oid changes = get_relname_relid("ducache_rollup_changes", nsp);
        if (!OidIsValid(table) || !OidIsValid(rollups) || !OidIsValid(changes))
            return;  // a 0.2 install running this library: no rollups yet
        // The caller reads every row: table-level SELECT (not just some columns) and no
        // row-level security that applies to them (RLS_NONE_ENV, e.g. the owner of a table
        // with RLS enabled, is refused too: a rollup holds every row).
        if (pg_class_aclcheck(table, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
            return;
        // A table without ducache's change triggers logs no change: its rollups (if any were
        // built before the table was re-created, swapped or its triggers disabled) are not used.
        if (!rollup_triggers_in_place(table, nsp))
            return;
        if (check_enable_rls(table, InvalidOid, true) != RLS_NONE)
            return;
        HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(rollups));
        if (!HeapTupleIsValid(tuple))
            return;
        Oid owner = ((Form_pg_class)GETSTRUCT(tuple))->relowner;
        ReleaseSysCache(tuple);
        if (pg_class_aclcheck(table, owner, ACL_SELECT) != ACLCHECK_OK ||
            pg_class_aclcheck(rollups, owner, ACL_SELECT) != ACLCHECK_OK ||
            pg_class_aclcheck(changes, owner, ACL_SELECT) != ACLCHECK_OK)
            return;
        const char *schema = quote_identifier(get_namespace_name(nsp));
        access.schema = schema;
        access.rollups = psprintf("%s.ducache_rollups", schema);
        access.changes = psprintf("%s.ducache_rollup_changes", schema);
        access.owner = owner;
    });
    return access;
}

}  // namespace ducache::pg
