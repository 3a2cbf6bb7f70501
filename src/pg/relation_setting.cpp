#include "pg/relation_setting.hpp"

#include "pg/boundary.hpp"

extern "C" {
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "access/genam.h"
#include "access/parallel.h"
#include "access/stratnum.h"
#include "catalog/pg_extension.h"
#include "utils/fmgroids.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/varlena.h"
}

namespace ducache::pg {

namespace {
// ducache's own schema (where the install script put daily_usage_cache and the functions).
// PostgreSQL 15 does not export get_extension_schema(): read pg_extension by name.
Oid extension_schema()
{
    Relation rel = table_open(ExtensionRelationId, AccessShareLock);
    ScanKeyData key;
    ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum("ducache"));
    SysScanDesc scan = systable_beginscan(rel, ExtensionNameIndexId, true, nullptr, 1, &key);
    HeapTuple tup = systable_getnext(scan);
    Oid nsp = HeapTupleIsValid(tup) ? ((Form_pg_extension)GETSTRUCT(tup))->extnamespace : InvalidOid;
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    return nsp;
}
}  // namespace

ResolvedTable resolve_table_setting(const char *guc_name, const char *value, const char *absent_ok_default)
{
    ResolvedTable out;
    if (value == nullptr || value[0] == '\0')
        return out;
    pg_call([&] {
        List *names = stringToQualifiedNameList(value);  // 42602 on bad syntax
        RangeVar *rv = makeRangeVarFromNameList(names);
        // Never the caller's search_path: an unqualified name is looked up in ducache's own
        // schema, the way the install script found daily_usage_cache; a qualified one
        // (pg_temp.x included) in the schema it names. A "users" view or table that comes
        // earlier on the caller's search_path is never used instead.
        Oid nsp = InvalidOid;
        if (rv->schemaname == nullptr) {
            nsp = extension_schema();
            rv->schemaname = OidIsValid(nsp) ? get_namespace_name(nsp) : nullptr;
        }
        Oid relid = rv->schemaname ? RangeVarGetRelid(rv, AccessShareLock, true) : InvalidOid;
        if (!OidIsValid(relid)) {
            if (absent_ok_default && strcmp(value, absent_ok_default) == 0)
                return;
            if (OidIsValid(nsp))
                ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                                errmsg("table \"%s\" named by %s does not exist", value, guc_name),
                                errdetail("An unqualified name is looked up in ducache's schema %s only, never on "
                                          "the search_path.", quote_identifier(rv->schemaname)),
                                errhint("Set %s to an existing table (schema-qualified if it is in another "
                                        "schema), or to '' for none.", guc_name)));
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                            errmsg("table \"%s\" named by %s does not exist", value, guc_name),
                            errdetail("%s = '%s' does not resolve to a table on the current search_path.",
                                      guc_name, value),
                            errhint("Set %s to an existing table, or to '' for none.", guc_name)));
        }
        char kind = get_rel_relkind(relid);
        if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE && kind != RELKIND_VIEW &&
            kind != RELKIND_MATVIEW && kind != RELKIND_FOREIGN_TABLE)
            ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE),
                            errmsg("\"%s\" named by %s is not a table", value, guc_name)));
        if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                            errmsg("permission denied for table %s named by %s", get_rel_name(relid), guc_name),
                            errdetail("ducache reads it with the caller's rights and needs SELECT on it.")));
        // ducache's functions are PARALLEL SAFE; a parallel worker cannot read the leader's
        // temporary tables (PostgreSQL's own 25000 would name neither the setting nor a way out).
        if (IsParallelWorker() && get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
            ereport(ERROR, (errcode(ERRCODE_INVALID_TRANSACTION_STATE),
                            errmsg("%s names the temporary table %s, which a parallel worker cannot read",
                                   guc_name, get_rel_name(relid)),
                            errdetail("ducache's functions are PARALLEL SAFE, so this query ran one in a "
                                      "parallel worker; PostgreSQL gives parallel workers no access to "
                                      "temporary tables."),
                            errhint("Name a permanent table in %s, or keep this query serial "
                                    "(SET max_parallel_workers_per_gather = 0).", guc_name)));
        out.relid = relid;
        out.qualified = psprintf("%s.%s", quote_identifier(get_namespace_name(get_rel_namespace(relid))),
                                 quote_identifier(get_rel_name(relid)));
    });
    return out;
}

Oid column_type(Oid relid, const char *name)
{
    return pg_call([&] {
        AttrNumber att = get_attnum(relid, name);
        return att == InvalidAttrNumber ? InvalidOid : get_atttype(relid, att);
    });
}

void missing_column(const char *guc_name, const ResolvedTable &t, const char *column)
{
    pg_call([&] {
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("table %s named by %s has no column \"%s\"", t.qualified, guc_name, column),
                        errdetail("%s must name a table with the columns ducache reads (see the README).", guc_name)));
    });
    pg_unreachable();
}

}  // namespace ducache::pg
