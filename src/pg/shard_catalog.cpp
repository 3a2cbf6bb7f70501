// See shard_catalog.hpp. Plain C-style functions (they raise PostgreSQL ERRORs): callers in
// C++ run them in pg_call.
#include "pg/shard_catalog.hpp"

#include <algorithm>

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
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
    // Read directly, in the caller's snapshot, like coordinator_forward.cpp's check: every
    // coordinator call asks, and an SPI statement cost a parse and a plan each time. The
    // owner's table, closed to PUBLIC: read without the caller's rights (as SPI did, as owner).
    Relation rel = table_open(relid, AccessShareLock);
    TupleDesc desc = RelationGetDescr(rel);
    int shard_col = 0, server_col = 0;
    for (int c = 0; c < desc->natts; c++) {
        Form_pg_attribute a = TupleDescAttr(desc, c);
        if (!a->attisdropped && strcmp(NameStr(a->attname), "shard") == 0 && a->atttypid == INT4OID)
            shard_col = c + 1;
        else if (!a->attisdropped && strcmp(NameStr(a->attname), "server") == 0 && a->atttypid == NAMEOID)
            server_col = c + 1;
    }
    if (shard_col == 0 || server_col == 0)
        elog(ERROR, "ducache_shards lacks its columns shard integer and server name");
    struct Row {
        int32 shard;
        char *server;
    };
    int n = 0, capacity = 4;
    Row *rows = static_cast<Row *>(palloc(sizeof(Row) * capacity));
    SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, GetActiveSnapshot(), 0, nullptr);
    for (HeapTuple tup; HeapTupleIsValid(tup = systable_getnext(scan));) {
        bool null_shard, null_server;
        Datum shard = heap_getattr(tup, shard_col, desc, &null_shard);
        Datum server = heap_getattr(tup, server_col, desc, &null_server);
        if (null_shard || null_server)
            continue;  // NOT NULL columns
        if (n == capacity)
            rows = static_cast<Row *>(repalloc(rows, sizeof(Row) * (capacity *= 2)));
        rows[n++] = Row{DatumGetInt32(shard), pstrdup(NameStr(*DatumGetName(server)))};
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
    std::sort(rows, rows + n, [](const Row &a, const Row &b) { return a.shard < b.shard; });
    char **out = n > 0 ? static_cast<char **>(palloc(sizeof(char *) * n)) : nullptr;
    for (int i = 0; i < n; i++)
        out[i] = rows[i].server;
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
