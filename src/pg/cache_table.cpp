#include "pg/cache_table.hpp"

#include "pg/boundary.hpp"
#include "pg/table_shape.hpp"

extern "C" {
#include "utils/lsyscache.h"
}

namespace ducache::pg {

Oid cache_table_oid(FunctionCallInfo fcinfo)
{
    Oid relid = pg_call([&] {
        Oid nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
        Oid relid = get_relname_relid("daily_usage_cache", nsp);
        if (!OidIsValid(relid))
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                            errmsg("daily_usage_cache does not exist in schema %s", get_namespace_name(nsp))));
        return relid;
    });
    check_cache_table_shape(relid);  // every call: a column can change type at any time
    return relid;
}

const char *cache_table_name(FunctionCallInfo fcinfo)
{
    cache_table_oid(fcinfo);  // checks the table's shape before anyone reads it
    return pg_call([&] {
        char *schema = get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid));
        return (const char *)psprintf("%s.%s", quote_identifier(schema), quote_identifier("daily_usage_cache"));
    });
}

const char *timestamp_column(Oid table_oid)
{
    return check_cache_table_shape(table_oid);  // cached: the check already ran for this call
}

}  // namespace ducache::pg
