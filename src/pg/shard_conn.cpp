// See shard_conn.hpp.
#include "pg/shard_conn.hpp"

extern "C" {
#include "commands/defrem.h"
#include "utils/acl.h"
#include "foreign/foreign.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "utils/timestamp.h"
}

namespace ducache::pg {

namespace {

// Options from the server and the user mapping that libpq knows (postgres_fdw's own options,
// like "extensions" or "fetch_size", are left out), then ducache's own.
void build_options(const char *server, const char ***keywords, const char ***values, bool check_usage = true,
                   bool *password_required = nullptr)
{
    ForeignServer *fs = GetForeignServerByName(server, false);
    // As dblink: the caller needs USAGE on the server (then their own user mapping is used).
    if (check_usage && pg_foreign_server_aclcheck(fs->serverid, GetUserId(), ACL_USAGE) != ACLCHECK_OK)
        ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                        errmsg("permission denied for foreign server %s (a ducache shard)", server)));
    UserMapping *um = GetUserMapping(GetUserId(), fs->serverid);
    List *opts = list_concat(list_copy(fs->options), um->options);
    if (password_required != nullptr) {  // postgres_fdw's user mapping option (only a superuser sets it false)
        *password_required = true;
        ListCell *lc;
        foreach (lc, um->options) {
            DefElem *d = static_cast<DefElem *>(lfirst(lc));
            if (strcmp(d->defname, "password_required") == 0)
                *password_required = defGetBoolean(d);
        }
    }
    PQconninfoOption *known = PQconndefaults();
    if (known == nullptr)
        ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
    int n = list_length(opts) + 4;
    const char **k = static_cast<const char **>(palloc(sizeof(char *) * n));
    const char **v = static_cast<const char **>(palloc(sizeof(char *) * n));
    int i = 0;
    ListCell *lc;
    foreach (lc, opts) {
        DefElem *d = static_cast<DefElem *>(lfirst(lc));
        for (PQconninfoOption *o = known; o->keyword != nullptr; o++)
            if (strcmp(o->keyword, d->defname) == 0 && strcmp(o->dispchar, "D") != 0) {
                k[i] = d->defname;
                v[i++] = defGetString(d);
                break;
            }
    }
    PQconninfoFree(known);
    k[i] = "fallback_application_name";
    v[i++] = "ducache";
    k[i] = "client_encoding";
    v[i++] = GetDatabaseEncodingName();
    k[i] = nullptr;
    v[i] = nullptr;
    *keywords = k;
    *values = v;
}

// Waits for the socket (read or write) or the latch; false on timeout.
bool wait_socket(ShardConn *c, bool for_write, long timeout_ms, bool interruptible)
{
    int events = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | (for_write ? WL_SOCKET_WRITEABLE : WL_SOCKET_READABLE);
    if (timeout_ms >= 0)
        events |= WL_TIMEOUT;
    int rc = WaitLatchOrSocket(MyLatch, events, PQsocket(c->conn), timeout_ms, PG_WAIT_EXTENSION);
    if (rc & WL_LATCH_SET) {
        ResetLatch(MyLatch);
        if (interruptible)
            CHECK_FOR_INTERRUPTS();
    }
    return !(rc & WL_TIMEOUT);
}

// Copies libpq's message (trailing newline dropped) into palloc'd memory.
char *conn_message(PGconn *conn)
{
    char *m = pstrdup(conn != nullptr ? PQerrorMessage(conn) : "out of memory");
    size_t len = strlen(m);
    while (len > 0 && (m[len - 1] == '\n' || m[len - 1] == ' '))
        m[--len] = '\0';
    return m;
}

[[noreturn]] void lost(ShardConn *c)
{
    char *m = conn_message(c->conn);
    shard_close(c);
    ereport(ERROR, (errcode(ERRCODE_CONNECTION_FAILURE),
                    errmsg("lost the connection to ducache shard %d (server \"%s\")", c->shard, c->server),
                    errdetail_internal("%s", m)));
    pg_unreachable();
}

char *copy_field(const PGresult *r, int field)
{
    const char *f = PQresultErrorField(r, field);
    return f != nullptr ? pstrdup(f) : nullptr;
}

// Re-raises a shard's ERROR result (freed first) with its SQLSTATE, naming the shard.
[[noreturn]] void raise_remote(ShardConn *c, PGresult *r)
{
    char *state = copy_field(r, PG_DIAG_SQLSTATE);
    char *primary = copy_field(r, PG_DIAG_MESSAGE_PRIMARY);
    char *detail = copy_field(r, PG_DIAG_MESSAGE_DETAIL);
    char *hint = copy_field(r, PG_DIAG_MESSAGE_HINT);
    char *context = copy_field(r, PG_DIAG_CONTEXT);
    if (primary == nullptr)
        primary = conn_message(c->conn);
    PQclear(r);
    int code = state != nullptr && strlen(state) == 5
                   ? MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4])
                   : ERRCODE_CONNECTION_FAILURE;
    ereport(ERROR, (errcode(code), errmsg("ducache shard %d (server \"%s\"): %s", c->shard, c->server, primary),
                    detail ? errdetail_internal("%s", detail) : 0, hint ? errhint("%s", hint) : 0,
                    context ? errcontext("remote: %s", context) : 0));
    pg_unreachable();
}

}  // namespace

void shard_connect(ShardConn *c, bool check_usage)
{
    const char **keywords, **values;
    bool password_required;
    build_options(c->server, &keywords, &values, check_usage, &password_required);
    c->conn = PQconnectStartParams(keywords, values, 0);
    if (c->conn == nullptr || PQstatus(c->conn) == CONNECTION_BAD)
        goto failed;
    for (;;) {
        PostgresPollingStatusType st = PQconnectPoll(c->conn);
        if (st == PGRES_POLLING_OK)
            break;
        if (st == PGRES_POLLING_FAILED)
            goto failed;
        wait_socket(c, st == PGRES_POLLING_WRITING, -1, true);
    }
    // Like dblink and postgres_fdw: a non-superuser must authenticate with a password, so the
    // coordinator's own OS identity or trust rules do not lend them rights on the shard (unless
    // a superuser set postgres_fdw's password_required 'false' on the user mapping).
    if (!superuser() && password_required && !PQconnectionUsedPassword(c->conn)) {
        shard_close(c);
        ereport(ERROR, (errcode(ERRCODE_S_R_E_PROHIBITED_SQL_STATEMENT_ATTEMPTED),
                        errmsg("password is required to reach ducache shard %d (server \"%s\")", c->shard, c->server),
                        errdetail("Non-superusers must give a password in the user mapping.")));
    }
    if (PQsetnonblocking(c->conn, 1) != 0)
        goto failed;
    return;
failed:
    char *m = conn_message(c->conn);
    shard_close(c);
    ereport(ERROR, (errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
                    errmsg("could not connect to ducache shard %d (server \"%s\")", c->shard, c->server),
                    errdetail_internal("%s", m)));
}

void shard_send(ShardConn *c, const char *sql, int nparams, const char *const *values, const int *lengths,
                const int *formats)
{
    // Without parameters: the simple protocol, which also runs several statements.
    if (c->conn == nullptr ||
        !(nparams == 0 ? PQsendQuery(c->conn, sql)
                       : PQsendQueryParams(c->conn, sql, nparams, nullptr, values, lengths, formats, 0)))
        lost(c);
    // Non-blocking mode: push the (possibly large) parameters out without blocking.
    for (;;) {
        int f = PQflush(c->conn);
        if (f == 0)
            break;
        if (f < 0)
            lost(c);
        wait_socket(c, true, -1, true);
        if (PQconsumeInput(c->conn) == 0)
            lost(c);
    }
}

PGresult *shard_wait(ShardConn *c, int timeout_ms, bool *timed_out)
{
    PGresult *volatile last = nullptr;
    TimestampTz deadline = timeout_ms >= 0 ? TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms) : 0;
    if (timed_out)
        *timed_out = false;
    PG_TRY();
    {
        for (;;) {
            while (PQisBusy(c->conn)) {
                long left = -1;
                if (timeout_ms >= 0) {
                    left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
                    if (left <= 0) {
                        if (timed_out)
                            *timed_out = true;
                        PQclear(last);
                        last = nullptr;
                        return nullptr;
                    }
                }
                wait_socket(c, false, left, timeout_ms < 0);
                if (PQconsumeInput(c->conn) == 0)
                    lost(c);
            }
            PGresult *r = PQgetResult(c->conn);
            if (r == nullptr)
                break;
            PQclear(last);
            last = r;
            if (PQstatus(c->conn) == CONNECTION_BAD)
                break;
        }
    }
    PG_CATCH();
    {
        PQclear(last);
        PG_RE_THROW();
    }
    PG_END_TRY();
    PGresult *r = last;
    if (r == nullptr)
        lost(c);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        if (st == PGRES_FATAL_ERROR && PQresultErrorField(r, PG_DIAG_SQLSTATE) == nullptr) {
            PQclear(r);
            lost(c);
        }
        raise_remote(c, r);
    }
    return r;
}

void shard_exec(ShardConn *c, const char *sql)
{
    shard_send(c, sql, 0, nullptr);
    PQclear(shard_wait(c, -1, nullptr));
}

void shard_cancel(ShardConn *c)
{
    if (c->conn == nullptr || PQtransactionStatus(c->conn) != PQTRANS_ACTIVE)
        return;
    PGcancel *cancel = PQgetCancel(c->conn);
    if (cancel == nullptr)
        return;
    char buf[256];
    PQcancel(cancel, buf, sizeof(buf));
    PQfreeCancel(cancel);
}

void shard_close(ShardConn *c)
{
    if (c->conn != nullptr)
        PQfinish(c->conn);
    c->conn = nullptr;
    c->in_xact = c->prepared = false;
}

bool shard_exec_quietly(ShardConn *c, const char *sql, int timeout_ms, char **message, char *sqlstate)
{
    *message = nullptr;
    sqlstate[0] = '\0';
    if (c->conn == nullptr || PQstatus(c->conn) != CONNECTION_OK) {
        *message = pstrdup("the connection is closed");
        return false;
    }
    // A statement still running (a PREPARE whose answer was never read): drain it first.
    TimestampTz drain_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
    for (;;) {
        while (PQisBusy(c->conn)) {
            long left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), drain_until);
            if (left <= 0 || !wait_socket(c, false, left, false) || PQconsumeInput(c->conn) == 0) {
                *message = pstrdup("the shard does not answer");
                return false;
            }
        }
        PGresult *r = PQgetResult(c->conn);
        if (r == nullptr)
            break;
        PQclear(r);
    }
    if (!PQsendQuery(c->conn, sql)) {
        *message = conn_message(c->conn);
        return false;
    }
    while (PQflush(c->conn) > 0)
        if (!wait_socket(c, true, timeout_ms, false)) {
            *message = pstrdup("timed out sending");
            return false;
        }
    TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
    bool ok = true;
    for (;;) {
        while (PQisBusy(c->conn)) {
            long left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
            if (left <= 0 || !wait_socket(c, false, left, false)) {
                *message = pstrdup("timed out waiting for the shard");
                return false;
            }
            if (PQconsumeInput(c->conn) == 0) {
                *message = conn_message(c->conn);
                return false;
            }
        }
        PGresult *r = PQgetResult(c->conn);
        if (r == nullptr)
            break;
        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
            const char *m = PQresultErrorMessage(r);
            const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            if (*message == nullptr) {
                *message = pstrdup(m && *m ? m : "error");
                if (state != nullptr)
                    strlcpy(sqlstate, state, 6);
            }
            ok = false;
        }
        PQclear(r);
    }
    return ok;
}

void shard_probe_options(const char *server, const char ***keywords, const char ***values)
{
    build_options(server, keywords, values, false);
}

bool shard_probe(const char *const *keywords, const char *const *values, const char *sql)
{
    ShardConn c{};
    c.conn = PQconnectStartParams(keywords, values, 0);
    bool ok = false;
    PG_TRY();
    {
        for (;;) {
            if (c.conn == nullptr || PQstatus(c.conn) == CONNECTION_BAD)
                break;
            PostgresPollingStatusType st = PQconnectPoll(c.conn);
            if (st == PGRES_POLLING_FAILED)
                break;
            if (st == PGRES_POLLING_OK) {
                ok = PQsetnonblocking(c.conn, 1) == 0 && PQsendQuery(c.conn, sql);
                break;
            }
            wait_socket(&c, st == PGRES_POLLING_WRITING, -1, true);
        }
        while (ok) {
            int f = PQflush(c.conn);
            if (f == 0)
                break;
            ok = f > 0 && (wait_socket(&c, true, -1, true), PQconsumeInput(c.conn) != 0);
        }
        for (bool answered = false; ok;) {
            while (ok && PQisBusy(c.conn)) {
                wait_socket(&c, false, -1, true);
                ok = PQconsumeInput(c.conn) != 0;
            }
            PGresult *r = ok ? PQgetResult(c.conn) : nullptr;
            if (r == nullptr) {
                ok = ok && answered;
                break;
            }
            ok = PQresultStatus(r) == PGRES_TUPLES_OK;
            answered = true;
            PQclear(r);
        }
    }
    PG_CATCH();
    {
        shard_close(&c);  // an interrupt (statement_timeout, cancel) while probing
        PG_RE_THROW();
    }
    PG_END_TRY();
    shard_close(&c);
    return ok;
}

}  // namespace ducache::pg
