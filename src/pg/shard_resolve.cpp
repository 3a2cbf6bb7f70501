// ducache_resolve_shards(): finishes the prepared transactions ('<gid>_<shard>') a coordinator
// left on its shards when it crashed or lost a shard between PREPARE and COMMIT/ROLLBACK
// PREPARED (docs/scale-out-writes.md "Resolving"). For each one of this coordinator database:
//   its transaction still running                 -> left alone ("in progress");
//   its decision row visible (it committed)       -> COMMIT PREPARED ("committed");
//   otherwise (it aborted or never committed)     -> ROLLBACK PREPARED ("rolled back").
// The row is looked up under a snapshot taken after the running check, so a coordinator that
// commits meanwhile is seen as committed. Decision rows no shard still needs are deleted.
#include "pg/srf_output.hpp"

#include "pg/boundary.hpp"
#include "pg/shard_catalog.hpp"
#include "pg/shard_conn.hpp"
#include "pg/shard_xact.hpp"

extern "C" {
#include "access/transam.h"
#include "access/xact.h"
#include "storage/procarray.h"
#include "utils/lsyscache.h"
}

namespace {

using namespace ducache::pg;

constexpr int kResolveTimeoutMs = 60000;

ShardConn *open_conns = nullptr;  // closed on every exit (PG_FINALLY)
int n_open = 0;

void put_row(FunctionCallInfo fcinfo, int shard, const char *server, const char *gid, const char *action)
{
    ReturnSetInfo *rs = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    Datum values[4] = {Int32GetDatum(shard), CStringGetDatum(server), CStringGetTextDatum(gid),
                       CStringGetTextDatum(action)};
    NameData name;
    namestrcpy(&name, server);
    values[1] = NameGetDatum(&name);
    bool nulls[4] = {false, false, false, false};
    tuplestore_putvalues(rs->setResult, rs->setDesc, values, nulls);
}

// Whether the coordinator transaction of gid base committed (a fresh snapshot sees its row).
bool decided_commit(Oid schema, const char *base)
{
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    Oid types[1] = {TEXTOID};
    Datum args[1] = {CStringGetTextDatum(base)};
    char *sql = psprintf("SELECT 1 FROM %s.ducache_shard_xacts WHERE gid OPERATOR(pg_catalog.=) $1",
                         quote_identifier(get_namespace_name(schema)));
    if (SPI_execute_with_args(sql, 1, types, args, nullptr, false, 0) != SPI_OK_SELECT)
        elog(ERROR, "reading ducache_shard_xacts failed");
    bool found = SPI_processed > 0;
    SPI_finish();
    return found;
}

// gid "<prefix><full xid>_<shard>": the base (without "_<shard>") and the full xid.
bool parse_gid(const char *gid, const char *prefix, char **base, uint64 *fxid)
{
    size_t plen = strlen(prefix);
    const char *us = strrchr(gid, '_');
    if (strncmp(gid, prefix, plen) != 0 || us == nullptr || us < gid + plen)
        return false;
    *base = pnstrdup(gid, us - gid);
    char *end;
    *fxid = strtoull(gid + plen, &end, 10);
    return end == us;
}

void resolve(FunctionCallInfo fcinfo, Oid schema)
{
    if (IsolationUsesXactSnapshot())
        ereport(ERROR, (errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
                        errmsg("ducache_resolve_shards() must run in READ COMMITTED"),
                        errdetail("It reads each decision under a snapshot taken after checking the transaction has ended.")));
    char **servers;
    int n = coordinator_servers(schema, &servers);
    char *prefix = shard_gid_prefix();
    open_conns = static_cast<ShardConn *>(palloc0(sizeof(ShardConn) * (n > 0 ? n : 1)));
    n_open = n;
    List *pending = NIL;  // bases still prepared somewhere after this run
    for (int k = 0; k < n; k++) {
        ShardConn *c = &open_conns[k];
        c->shard = k;
        strlcpy(c->server, servers[k], NAMEDATALEN);
        shard_connect(c);
        const char *params[1] = {prefix};
        shard_send(c,
                   "SELECT gid FROM pg_catalog.pg_prepared_xacts WHERE database OPERATOR(pg_catalog.=) "
                   "pg_catalog.current_database() AND pg_catalog.starts_with(gid, $1) ORDER BY gid",
                   1, params);
        PGresult *r = shard_wait(c, -1, nullptr);
        int ngids = PQntuples(r);
        char **gids = static_cast<char **>(palloc(sizeof(char *) * (ngids > 0 ? ngids : 1)));
        for (int i = 0; i < ngids; i++)
            gids[i] = pstrdup(PQgetvalue(r, i, 0));
        PQclear(r);
        for (int i = 0; i < ngids; i++) {
            char *base;
            uint64 full;
            if (!parse_gid(gids[i], prefix, &base, &full))
                continue;
            FullTransactionId fxid = FullTransactionIdFromU64(full);
            TransactionId xid = XidFromFullTransactionId(fxid);
            const char *action;
            // An xid at or past the next one was never durable here: that transaction cannot
            // have committed (its decision is flushed before any shard prepares).
            bool known = FullTransactionIdPrecedes(fxid, ReadNextFullTransactionId());
            if (known && TransactionIdIsInProgress(xid)) {
                action = "in progress";
                pending = lappend(pending, base);
            } else {
                bool commit = decided_commit(schema, base);
                char *sql = psprintf("%s PREPARED '%s'", commit ? "COMMIT" : "ROLLBACK", gids[i]);
                char *message, state[6];
                if (shard_exec_quietly(c, sql, kResolveTimeoutMs, &message, state) || strcmp(state, "42704") == 0) {
                    action = commit ? "committed" : "rolled back";
                } else {
                    ereport(WARNING, (errmsg("could not finish %s on ducache shard %d (server \"%s\")", gids[i], k,
                                             c->server),
                                      errdetail_internal("%s", message)));
                    action = "failed";
                    pending = lappend(pending, base);
                }
            }
            put_row(fcinfo, k, c->server, gids[i], action);
        }
        shard_close(c);
    }
    // Every shard was listed: decision rows no prepared transaction still needs go.
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    int np = list_length(pending);
    Datum *keep = static_cast<Datum *>(palloc(sizeof(Datum) * (np > 0 ? np : 1)));
    ListCell *lc;
    int i = 0;
    foreach (lc, pending)
        keep[i++] = CStringGetTextDatum(static_cast<char *>(lfirst(lc)));
    Oid types[1] = {TEXTARRAYOID};
    Datum args[1] = {PointerGetDatum(construct_array(keep, np, TEXTOID, -1, false, TYPALIGN_INT))};
    char *sql = psprintf("DELETE FROM %s.ducache_shard_xacts WHERE gid OPERATOR(pg_catalog.<>) ALL ($1)",
                         quote_identifier(get_namespace_name(schema)));
    if (SPI_execute_with_args(sql, 1, types, args, nullptr, false, 0) != SPI_OK_DELETE)
        elog(ERROR, "cleaning ducache_shard_xacts failed");
    SPI_finish();
}

void close_all()
{
    for (int k = 0; k < n_open; k++)
        shard_close(&open_conns[k]);
    n_open = 0;
}

}  // namespace

DUCACHE_FUNCTION(ducache_resolve_shards)
{
    init_materialized_srf(fcinfo);
    pg_call([&] {
        Oid schema = get_func_namespace(fcinfo->flinfo->fn_oid);
        PG_TRY();
        {
            resolve(fcinfo, schema);
        }
        PG_FINALLY();
        {
            close_all();
        }
        PG_END_TRY();
    });
    return (Datum)0;
}
