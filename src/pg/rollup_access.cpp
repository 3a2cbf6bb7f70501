#include "core/error.hpp"  // before any PostgreSQL header (pg/rollup_retry.hpp needs it)
#include "pg/rollup_retry.hpp"
#include "pg/rollup_access.hpp"

#include "pg/boundary.hpp"
#include "pg/rollup_triggers.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/syscache.h"
}

namespace ducache::pg {

namespace {

// Rollups are read only by the library of the installed version. A newer library loaded before
// ALTER EXTENSION ducache UPDATE could otherwise read rollups an older one built, without the
// fields it needs (the update itself logs every older rollup as changed). PostgreSQL calls
// only: runs inside a pg_call body.
bool installed_version_is_ours()
{
    Relation rel = table_open(ExtensionRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum("ducache"));
    SysScanDesc scan = systable_beginscan(rel, ExtensionNameIndexId, true, nullptr, 1, &key);
    HeapTuple tuple = systable_getnext(scan);
    bool ours = false;
    if (HeapTupleIsValid(tuple)) {
        bool isnull;
        Datum v = heap_getattr(tuple, Anum_pg_extension_extversion, RelationGetDescr(rel), &isnull);
        ours = !isnull && strcmp(text_to_cstring(DatumGetTextPP(v)), DUCACHE_LIBRARY_VERSION) == 0;
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    return ours;
}

}  // namespace

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
        Oid blocks = get_relname_relid("ducache_rollup_blocks", nsp);
        if (!OidIsValid(table) || !OidIsValid(rollups) || !OidIsValid(changes) || !OidIsValid(blocks))
            return;  // a 0.2 install running this library: no rollups yet
        if (!installed_version_is_ours())
            return;
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
            pg_class_aclcheck(changes, owner, ACL_SELECT) != ACLCHECK_OK ||
            pg_class_aclcheck(blocks, owner, ACL_SELECT) != ACLCHECK_OK)
            return;
        const char *schema = quote_identifier(get_namespace_name(nsp));
        access.schema = schema;
        access.rollups = psprintf("%s.ducache_rollups", schema);
        access.changes = psprintf("%s.ducache_rollup_changes", schema);
        access.blocks = psprintf("%s.ducache_rollup_blocks", schema);
        access.owner = owner;
        Oid days = get_relname_relid("ducache_rollup_days", nsp);
        if (OidIsValid(days) && pg_class_aclcheck(days, owner, ACL_SELECT) == ACLCHECK_OK)
            access.days = psprintf("%s.ducache_rollup_days", schema);
    });
    return access;
}

}  // namespace ducache::pg
