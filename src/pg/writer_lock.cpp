#include "pg/writer_lock.hpp"

#include "pg/boundary.hpp"
#include "pg/table_shape.hpp"

extern "C" {
#include "utils/lsyscache.h"
}

namespace ducache::pg {

namespace {
// First advisory-lock key: "duca" in ASCII, so ducache's lock is recognisable in pg_locks.
constexpr int32 kLockSpace = 0x64756361;
}  // namespace

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

void lock_cache_writers(Oid table_oid)
{
    pg_call([&] {
        DirectFunctionCall2(pg_advisory_xact_lock_int4, Int32GetDatum(kLockSpace),
                            Int32GetDatum(int32(table_oid)));
    });
}

const char *timestamp_column(Oid table_oid)
{
    return check_cache_table_shape(table_oid);  // cached: the check already ran for this call
}

}  // namespace ducache::pg
