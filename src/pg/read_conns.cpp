// See read_conns.hpp.
#include "pg/read_conns.hpp"

#include "pg/shard_conn.hpp"

extern "C" {
#include "access/xact.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
}

namespace ducache::pg {

namespace {

struct ReadConn {
    Oid serverid;
    Oid userid;
    ShardConn sc;     // the libpq connection (NULL: none now)
    bool in_xact;     // a remote transaction of the current local transaction is open on it
    bool owe_answer;  // the answer to the COMMIT / ROLLBACK that ended the last one is unread
    bool stale;       // its server or user mapping changed since it connected
};

ReadConn *conns = nullptr;  // in TopMemoryContext, for the backend's life
int nconns = 0, capacity = 0;
bool callbacks_registered = false;

void close_conn(ReadConn *rc)
{
    shard_close(&rc->sc);
    rc->in_xact = rc->owe_answer = rc->stale = false;
}

// The local transaction ended: end the remote one without waiting for its answer. A read
// still running (an ERROR stopped the call before every answer was read) is cancelled on the
// shard, and its connection closed. Never raises.
void end_remote_xacts(bool commit)
{
    for (int i = 0; i < nconns; i++) {
        ReadConn *rc = &conns[i];
        if (rc->sc.conn == nullptr || !rc->in_xact)
            continue;
        rc->in_xact = false;
        PGTransactionStatusType st = PQtransactionStatus(rc->sc.conn);
        bool idle = (st == PQTRANS_INTRANS || st == PQTRANS_INERROR) && PQpipelineStatus(rc->sc.conn) == PQ_PIPELINE_OFF;
        if (idle && PQsendQuery(rc->sc.conn, commit && st == PQTRANS_INTRANS ? "COMMIT" : "ROLLBACK") &&
            PQflush(rc->sc.conn) == 0) {
            rc->owe_answer = true;
            continue;
        }
        shard_cancel(&rc->sc);
        close_conn(rc);
    }
}

void xact_callback(XactEvent event, void *)
{
    switch (event) {
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_PARALLEL_COMMIT:
    case XACT_EVENT_PREPARE:
        end_remote_xacts(true);
        break;
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PARALLEL_ABORT:
        end_remote_xacts(false);
        break;
    default:
        break;
    }
}

// A subtransaction aborted (an ERROR caught by a plpgsql EXCEPTION block, ROLLBACK TO
// SAVEPOINT): a read it left running or failed cannot go on in the remote transaction, so that
// connection is closed (a running read cancelled first); the next read of this local
// transaction begins a new remote one. Idle ones keep theirs.
void subxact_callback(SubXactEvent event, SubTransactionId, SubTransactionId, void *)
{
    if (event != SUBXACT_EVENT_ABORT_SUB)
        return;
    for (int i = 0; i < nconns; i++) {
        ReadConn *rc = &conns[i];
        if (rc->sc.conn == nullptr || !rc->in_xact)
            continue;
        if (PQtransactionStatus(rc->sc.conn) == PQTRANS_INTRANS && PQpipelineStatus(rc->sc.conn) == PQ_PIPELINE_OFF)
            continue;
        shard_cancel(&rc->sc);
        close_conn(rc);
    }
}

// The backend exits: each connection ends with a Terminate message, after reading what the
// socket holds (an unread COMMIT answer in the kernel's buffer would make the close a reset,
// which the shard logs as an error).
void close_all_at_exit(int, Datum)
{
    for (int i = 0; i < nconns; i++)
        if (conns[i].sc.conn != nullptr) {
            (void)PQconsumeInput(conns[i].sc.conn);
            close_conn(&conns[i]);
        }
}

void inval_callback(Datum, int, uint32)
{
    for (int i = 0; i < nconns; i++)
        conns[i].stale = true;
}

ReadConn *find_or_add(Oid serverid, Oid userid)
{
    for (int i = 0; i < nconns; i++)
        if (conns[i].serverid == serverid && conns[i].userid == userid)
            return &conns[i];
    if (!callbacks_registered) {
        RegisterXactCallback(xact_callback, nullptr);
        RegisterSubXactCallback(subxact_callback, nullptr);
        CacheRegisterSyscacheCallback(FOREIGNSERVEROID, inval_callback, 0);
        CacheRegisterSyscacheCallback(USERMAPPINGOID, inval_callback, 0);
        on_proc_exit(close_all_at_exit, 0);
        callbacks_registered = true;
    }
    if (nconns == capacity) {
        int grown = capacity == 0 ? 8 : capacity * 2;
        conns = static_cast<ReadConn *>(conns == nullptr ? MemoryContextAllocZero(TopMemoryContext, sizeof(ReadConn) * grown)
                                                         : repalloc(conns, sizeof(ReadConn) * grown));
        capacity = grown;
    }
    ReadConn *rc = &conns[nconns++];
    memset(rc, 0, sizeof(*rc));
    rc->serverid = serverid;
    rc->userid = userid;
    return rc;
}

[[noreturn]] void raise_lost(ReadConn *rc)
{
    char *m = pstrdup(rc->sc.conn != nullptr ? PQerrorMessage(rc->sc.conn) : "out of memory");
    for (size_t len = strlen(m); len > 0 && (m[len - 1] == '\n' || m[len - 1] == ' ');)
        m[--len] = '\0';
    ereport(ERROR, (errcode(ERRCODE_CONNECTION_FAILURE),
                    errmsg("ducache shard %d (server \"%s\") failed: lost the connection", rc->sc.shard, rc->sc.server),
                    errdetail_internal("%s", *m ? m : "The shard does not answer now."),
                    errhint("No result was returned: a coordinator never answers from some of its shards.")));
    pg_unreachable();
}

void wait_socket(ReadConn *rc, bool for_write)
{
    int rc_ = WaitLatchOrSocket(MyLatch,
                                WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | (for_write ? WL_SOCKET_WRITEABLE : WL_SOCKET_READABLE),
                                PQsocket(rc->sc.conn), -1, PG_WAIT_EXTENSION);
    if (rc_ & WL_LATCH_SET) {
        ResetLatch(MyLatch);
        CHECK_FOR_INTERRUPTS();
    }
}

// Reads the answer to the last transaction's COMMIT / ROLLBACK (interruptible). A connection
// that broke since is closed (the caller connects again).
void read_owed_answer(ReadConn *rc)
{
    PGconn *conn = rc->sc.conn;
    for (;;) {
        while (PQisBusy(conn)) {
            wait_socket(rc, false);
            if (PQconsumeInput(conn) == 0) {
                close_conn(rc);
                return;
            }
        }
        PGresult *r = PQgetResult(conn);
        if (r == nullptr)
            break;
        PQclear(r);
    }
    rc->owe_answer = false;
    if (PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) != PQTRANS_IDLE)
        close_conn(rc);
}

void send_or_lost(ReadConn *rc, bool sent)
{
    if (!sent)
        raise_lost(rc);
}

}  // namespace

PGconn *read_conn_send(int k, const char *server, const char *sql, int nparams, const char *const *values,
                       bool *pipelined)
{
    ForeignServer *fs = GetForeignServerByName(server, false);
    ReadConn *rc = find_or_add(fs->serverid, GetUserId());
    rc->sc.shard = k;
    strlcpy(rc->sc.server, server, sizeof(rc->sc.server));
    if (rc->sc.conn != nullptr && rc->owe_answer)
        read_owed_answer(rc);
    // Outside a remote transaction a connection may have been closed by the shard since its
    // last use (a restart): what the socket holds tells, without waiting.
    if (rc->sc.conn != nullptr && !rc->in_xact &&
        (rc->stale || PQconsumeInput(rc->sc.conn) == 0 || PQstatus(rc->sc.conn) != CONNECTION_OK))
        close_conn(rc);
    if (rc->sc.conn == nullptr) {
        // The caller has checked SELECT on the shard's foreign table (postgres_fdw's rule for
        // reading it): no USAGE on the server is asked for on top.
        shard_connect(&rc->sc, false);
        rc->in_xact = rc->owe_answer = rc->stale = false;
    }
    PGconn *conn = rc->sc.conn;
    *pipelined = !rc->in_xact;
    rc->in_xact = true;  // from here an abort cancels and closes what runs on it
    if (*pipelined) {
        const char *start = IsolationIsSerializable() ? "START TRANSACTION ISOLATION LEVEL SERIALIZABLE"
                                                      : "START TRANSACTION ISOLATION LEVEL REPEATABLE READ";
        send_or_lost(rc, PQenterPipelineMode(conn) == 1);
        send_or_lost(rc, PQsendQueryParams(conn, start, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1);
    }
    send_or_lost(rc, PQsendQueryParams(conn, sql, nparams, nullptr, values, nullptr, nullptr, 1) == 1);
    if (*pipelined)
        send_or_lost(rc, PQpipelineSync(conn) == 1);
    for (;;) {
        int f = PQflush(conn);
        if (f == 0)
            break;
        if (f < 0)
            raise_lost(rc);
        wait_socket(rc, true);
        if (PQconsumeInput(conn) == 0)
            raise_lost(rc);
    }
    return conn;
}

void read_conn_finish(PGconn *conn, bool pipelined)
{
    if (pipelined)
        (void)PQexitPipelineMode(conn);
}

}  // namespace ducache::pg
