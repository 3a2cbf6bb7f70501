#include "pg/relation_setting.hpp"

#include "pg/boundary.hpp"

extern "C" {
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/varlena.h"
}

namespace ducache::pg {

ResolvedTable resolve_table_setting(const char *guc_name, const char *value, const char *absent_ok_default)
{
    ResolvedTable out;
    if (value == nullptr || value[0] == '\0')
        return out;
    pg_call([&] {
        List *names = stringToQualifiedNameList(value);  // 42602 on bad syntax
        RangeVar *rv = makeRangeVarFromNameList(names);
        Oid relid = RangeVarGetRelid(rv, AccessShareLock, true);
        if (!OidIsValid(relid)) {
            if (absent_ok_default && strcmp(value, absent_ok_default) == 0)
                return;
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
