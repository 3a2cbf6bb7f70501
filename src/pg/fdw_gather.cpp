// See fdw_gather.hpp. Per shard k and call, on the coordinator's own read connection to its
// server (pg/read_conns.hpp):
//
//   SELECT <ext>.ducache_shard_partial_bin(date, $1::jsonb) FROM <schema>.<table>
//   WHERE date BETWEEN $2::date AND $3::date
//
// (schema and table from ducache_shard_k's options: the statement postgres_fdw pushes down
// for the gather query, so each shard's work is unchanged), one Parse/Bind/Execute message,
// result format binary, preceded in the same round trip by the START of the remote
// transaction when the local transaction has not begun one on it yet. Sent to every shard
// before any answer is read: one concurrent wait.
#include "pg/fdw_gather.hpp"

#include "pg/date_text.hpp"
#include "pg/read_conns.hpp"
#include "pg/settings.hpp"
#include "pg/shard_conn.hpp"

#include <libpq-fe.h>

extern "C" {
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
}

namespace ducache::pg {

namespace {

const char *hint_no_result = "No result was returned: a coordinator never answers from some of its shards.";

// The connection to shard k broke (sending, waiting, or found closed after it answered).
[[noreturn]] void raise_lost(int k, const char *server, PGconn *conn)
{
    char *m = pstrdup(conn != nullptr ? PQerrorMessage(conn) : "out of memory");
    for (size_t len = strlen(m); len > 0 && (m[len - 1] == '\n' || m[len - 1] == ' ');)
        m[--len] = '\0';
    ereport(ERROR, (errcode(ERRCODE_CONNECTION_FAILURE),
                    errmsg("ducache shard %d (server \"%s\") failed: lost the connection", k, server),
                    errdetail_internal("%s", *m ? m : "The shard does not answer now."), errhint("%s", hint_no_result)));
    pg_unreachable();
}

// A shard's ERROR result (freed here). Connection-class ones (or none: libpq's own) name the
// shard like a lost connection; the others are raised as postgres_fdw raises a remote ERROR.
[[noreturn]] void raise_result(int k, const char *server, PGconn *conn, PGresult *r, const char *sql)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    int code = state != nullptr && strlen(state) == 5 ? MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4])
                                                      : ERRCODE_CONNECTION_FAILURE;
    auto field = [r](int f) {
        const char *v = PQresultErrorField(r, f);
        return v != nullptr ? pstrdup(v) : nullptr;
    };
    char *primary = field(PG_DIAG_MESSAGE_PRIMARY), *detail = field(PG_DIAG_MESSAGE_DETAIL);
    char *hint = field(PG_DIAG_MESSAGE_HINT), *context = field(PG_DIAG_CONTEXT);
    PQclear(r);
    if (primary == nullptr)
        primary = pstrdup(PQerrorMessage(conn));
    if (shard_connection_class(code))
        ereport(ERROR, (errcode(code), errmsg("ducache shard %d (server \"%s\") failed: %s", k, server, primary),
                        detail ? errdetail_internal("%s", detail) : 0, errhint("%s", hint_no_result)));
    ereport(ERROR, (errcode(code), errmsg_internal("%s", primary), detail ? errdetail_internal("%s", detail) : 0,
                    hint ? errhint("%s", hint) : 0, context ? errcontext("%s", context) : 0,
                    errcontext("remote SQL command: %s", sql)));
    pg_unreachable();
}

// Waits (interruptible: statement_timeout, cancel) until conn has a result ready.
void wait_ready(int k, const char *server, PGconn *conn)
{
    while (PQisBusy(conn)) {
        int rc = WaitLatchOrSocket(MyLatch, WL_LATCH_SET | WL_SOCKET_READABLE | WL_EXIT_ON_PM_DEATH, PQsocket(conn), -1,
                                   PG_WAIT_EXTENSION);
        if (rc & WL_LATCH_SET) {
            ResetLatch(MyLatch);
            CHECK_FOR_INTERRUPTS();
        }
        if ((rc & WL_SOCKET_READABLE) && PQconsumeInput(conn) == 0)
            raise_lost(k, server, conn);
    }
}

// Shard k's answer: its non-NULL bytea rows appended to out (in `into`). Every result is read
// up to the end, so the connection is idle again (or an ERROR is raised after that).
void collect(int k, const char *server, PGconn *conn, bool pipelined, const char *sql, MemoryContext into,
             ShardParts *out, int *capacity)
{
    PGresult *volatile failed = nullptr;
    volatile bool any = false;
    for (;;) {
        wait_ready(k, server, conn);
        PGresult *volatile r = PQgetResult(conn);
        if (r == nullptr) {
            if (pipelined)  // the end of one statement's results: the sync ends the pipeline
                continue;
            break;
        }
        ExecStatusType st = PQresultStatus(r);
        if (pipelined && (st == PGRES_PIPELINE_SYNC || st == PGRES_COMMAND_OK || st == PGRES_PIPELINE_ABORTED)) {
            PQclear(r);  // the pipeline's end, the START's answer, or the read skipped after the START failed
            if (st == PGRES_PIPELINE_SYNC)
                break;
            continue;
        }
        any = true;
        if (st != PGRES_TUPLES_OK) {
            if (failed == nullptr)
                failed = r;
            else
                PQclear(r);
            continue;
        }
        PG_TRY();
        {
            if (PQnfields(r) != 1 || PQfformat(r, 0) != 1)
                elog(ERROR, "ducache shard %d (server \"%s\") answered an unexpected row shape", k, server);
            for (int i = 0; i < PQntuples(r); i++) {
                if (PQgetisnull(r, i, 0))
                    continue;
                if (out->n == *capacity) {
                    *capacity *= 2;
                    out->p = static_cast<bytea **>(repalloc(out->p, sizeof(bytea *) * *capacity));
                }
                int len = PQgetlength(r, i, 0);
                bytea *b = static_cast<bytea *>(MemoryContextAlloc(into, VARHDRSZ + len));
                SET_VARSIZE(b, VARHDRSZ + len);
                memcpy(VARDATA(b), PQgetvalue(r, i, 0), len);
                out->p[out->n++] = b;
            }
        }
        PG_CATCH();
        {
            PQclear(r);
            PQclear(failed);
            PG_RE_THROW();
        }
        PG_END_TRY();
        PQclear(r);
    }
    if (failed != nullptr)
        raise_result(k, server, conn, failed, sql);
    if (!any || PQstatus(conn) != CONNECTION_OK)
        raise_lost(k, server, conn);
    read_conn_finish(conn, pipelined);
}

// Reads what the socket holds without waiting: a shard stopped since it answered has sent its
// last message (a notice) and closed, which the second read finds.
bool still_connected(PGconn *conn)
{
    for (int i = 0; i < 2; i++)
        if (PQconsumeInput(conn) == 0)
            return false;
    return PQstatus(conn) == CONNECTION_OK;
}

}  // namespace

bool fdw_gather(Oid nsp, int n, char **servers, Datum request, DateADT from, DateADT to, MemoryContext into,
                ShardParts *out)
{
    if (test_gather_via_query_setting())
        return false;
    Jsonb *jb = DatumGetJsonbP(request);
    const char *values[3] = {JsonbToCString(nullptr, &jb->root, VARSIZE(jb)), pstrdup(date_text(from).c_str()),
                             pstrdup(date_text(to).c_str())};
    const char *ext = quote_identifier(get_namespace_name(nsp));
    PGconn **conns = static_cast<PGconn **>(palloc0(sizeof(PGconn *) * n));
    char **sqls = static_cast<char **>(palloc0(sizeof(char *) * n));
    bool *pipelined = static_cast<bool *>(palloc0(sizeof(bool) * n));
    // Everything from the catalog first: the foreign tables (the caller's SELECT right on
    // them, as the query needed), their remote names.
    for (int k = 0; k < n; k++) {
        char table[NAMEDATALEN];
        snprintf(table, sizeof(table), "ducache_shard_%d", k);
        Oid relid = get_relname_relid(table, nsp);
        if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_FOREIGN_TABLE)
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                            errmsg("foreign table %s.%s of ducache shard %d does not exist", ext, table, k),
                            errhint("ducache_add_shards creates it.")));
        AclResult acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
        if (acl != ACLCHECK_OK)
            aclcheck_error(acl, OBJECT_FOREIGN_TABLE, table);
        ForeignTable *ft = GetForeignTable(relid);
        const char *schema = get_namespace_name(nsp), *remote = "daily_usage_cache";
        ListCell *lc;
        foreach (lc, ft->options) {
            DefElem *d = static_cast<DefElem *>(lfirst(lc));
            if (strcmp(d->defname, "schema_name") == 0)
                schema = defGetString(d);
            else if (strcmp(d->defname, "table_name") == 0)
                remote = defGetString(d);
        }
        sqls[k] = psprintf("SELECT %s.ducache_shard_partial_bin(date, $1::jsonb) FROM %s.%s WHERE date BETWEEN $2::date AND $3::date",
                           ext, quote_identifier(schema), quote_identifier(remote));
    }
    // Each request sent as soon as its connection is ready (connecting to a shard, when its
    // connection is new, takes a few round trips). A failure on a later shard aborts the
    // transaction, and the abort cancels the earlier shards' requests still running.
    for (int k = 0; k < n; k++)
        conns[k] = read_conn_send(k, servers[k], sqls[k], 3, values, &pipelined[k]);
    int capacity = n;
    out->n = 0;
    out->p = static_cast<bytea **>(MemoryContextAlloc(into, sizeof(bytea *) * capacity));
    for (int k = 0; k < n; k++)
        collect(k, servers[k], conns[k], pipelined[k], sqls[k], into, out, &capacity);
    // A shard that answered and broke while another was still working: its remote
    // transaction cannot commit, so the call fails now, naming it, rather than at COMMIT.
    for (int k = 0; k < n; k++)
        if (!still_connected(conns[k]))
            raise_lost(k, servers[k], conns[k]);
    return true;
}

}  // namespace ducache::pg
