// See shard_catalog.hpp. Plain C-style functions (they raise PostgreSQL ERRORs): callers in
// C++ run them in pg_call.
#include "pg/shard_catalog.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "catalog/pg_class.h"
}

namespace ducache::pg {

namespace {

// Runs SPI work as the owner of `table` (the extension's tables are owned by its owner).
// The user is restored by the transaction's abort if an ERROR leaves early.
Oid table_owner(Oid relid)
{
    HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
    if (!HeapTupleIsValid(tup))
        elog(ERROR, "cache lookup failed for relation %u", relid);
    Oid owner = ((Form_pg_class)GETSTRUCT(tup))->relowner;
    ReleaseSysCache(tup);
    return owner;
}

Oid table_in(Oid schema, const char *name)
{
    Oid relid = get_relname_relid(name, schema);
    if (!OidIsValid(relid))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("ducache's table %s is missing", name),
                        errhint("ALTER EXTENSION ducache UPDATE installs it.")));
    return relid;
}

}  // namespace

int coordinator_servers(Oid schema, char ***servers)
{
    Oid relid = get_relname_relid("ducache_shards", schema);
    *servers = nullptr;
    if (!OidIsValid(relid))
        return 0;  // a database still on an older version between install and update
    Oid save_user;
    int save_sec;
    GetUserIdAndSecContext(&save_user, &save_sec);
    SetUserIdAndSecContext(table_owner(relid), save_sec | SECURITY_LOCAL_USERID_CHANGE);
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    char *sql = psprintf("SELECT server::pg_catalog.text FROM %s.ducache_shards ORDER BY shard",
                         quote_identifier(get_namespace_name(schema)));
    if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
        elog(ERROR, "reading ducache_shards failed");
    int n = int(SPI_processed);
    char **out = n > 0 ? static_cast<char **>(SPI_palloc(sizeof(char *) * n)) : nullptr;
    for (int i = 0; i < n; i++) {
        char *v = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
        out[i] = static_cast<char *>(SPI_palloc(strlen(v) + 1));
        strcpy(out[i], v);
    }
    SPI_finish();
    SetUserIdAndSecContext(save_user, save_sec);
    *servers = out;
    return n;
}

void record_shard_decision(Oid schema, const char *gid, int nshards, const char *const *servers)
{
    Oid relid = table_in(schema, "ducache_shard_xacts");
    Oid save_user;
    int save_sec;
    GetUserIdAndSecContext(&save_user, &save_sec);
    SetUserIdAndSecContext(table_owner(relid), save_sec | SECURITY_LOCAL_USERID_CHANGE);
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    Datum *names = static_cast<Datum *>(palloc(sizeof(Datum) * nshards));
    for (int k = 0; k < nshards; k++)
        names[k] = CStringGetTextDatum(servers[k]);
    Datum args[2] = {CStringGetTextDatum(gid),
                     PointerGetDatum(construct_array(names, nshards, TEXTOID, -1, false, TYPALIGN_INT))};
    Oid types[2] = {TEXTOID, TEXTARRAYOID};
    char *sql = psprintf("INSERT INTO %s.ducache_shard_xacts (gid, servers) VALUES ($1, $2::pg_catalog.name[])",
                         quote_identifier(get_namespace_name(schema)));
    if (SPI_execute_with_args(sql, 2, types, args, nullptr, false, 0) != SPI_OK_INSERT)
        elog(ERROR, "recording the shard decision failed");
    SPI_finish();
    SetUserIdAndSecContext(save_user, save_sec);
}

}  // namespace ducache::pg
