// libpq connections from a coordinator to its shards (docs/scale-out-writes.md): options from
// the postgres_fdw foreign server and the caller's user mapping (as dblink and postgres_fdw
// build them), every wait non-blocking on the process latch so statement_timeout and cancel
// work, every failure an ERROR naming the server: 08001 cannot connect, 08006 connection
// lost, a shard's own ERROR re-raised with its SQLSTATE. PGresults are freed on every path.
//
// Plain C-style functions: they raise PostgreSQL ERRORs, so C++ callers run them in pg_call.
#pragma once

#include "pg/postgres.hpp"

#include <libpq-fe.h>

namespace ducache::pg {

// The SQLSTATEs of a shard that cannot be reached (connection_exception, sqlclient_unable_to_
// establish_sqlconnection, connection_failure, connection_does_not_exist): a coordinator
// re-raises these naming the shard, and any other ERROR untouched.
inline bool shard_connection_class(int sqlerrcode)
{
    return sqlerrcode == ERRCODE_CONNECTION_EXCEPTION || sqlerrcode == ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION ||
           sqlerrcode == ERRCODE_CONNECTION_FAILURE || sqlerrcode == ERRCODE_CONNECTION_DOES_NOT_EXIST;
}

struct ShardConn {
    int shard;                   // index in ducache_shards
    char server[NAMEDATALEN];    // the foreign server's name
    char schema[NAMEDATALEN];    // ducache's schema on the shard
    PGconn *conn;                // malloc'd by libpq; NULL when closed
    bool in_xact;                // a remote transaction is open
    bool prepare_sent;           // PREPARE TRANSACTION sent (its answer maybe unread)
    bool prepared;               // ... and prepared
};

// Connects (interruptible). Raises 08001 naming the server on failure. check_usage: the
// caller needs USAGE on the server (dblink's rule; reads check SELECT on the shard's foreign
// table instead, postgres_fdw's). A non-superuser must authenticate with a password unless the
// user mapping says password_required 'false' (postgres_fdw's option, set by a superuser).
void shard_connect(ShardConn *c, bool check_usage = true);

// Sends one statement (no wait). Raises 08006 when it cannot be sent. Parameters are text,
// except where lengths/formats are given (formats[i] = 1: binary of lengths[i] bytes).
void shard_send(ShardConn *c, const char *sql, int nparams, const char *const *values,
                const int *lengths = nullptr, const int *formats = nullptr);

// Waits for the statement's results (interruptible unless timeout_ms >= 0: then it gives up
// after that long and returns NULL with *timed_out set). An ERROR result is re-raised with the
// shard's SQLSTATE (and the server named); a lost connection is 08006. Returns the last
// result (PGRES_TUPLES_OK / COMMAND_OK), which the caller PQclears, or NULL.
PGresult *shard_wait(ShardConn *c, int timeout_ms, bool *timed_out);

// Runs one statement and waits (interruptible), discarding its result.
void shard_exec(ShardConn *c, const char *sql);

// Sends a cancel request for the running statement (best effort, never raises).
void shard_cancel(ShardConn *c);

// Closes the connection (never raises).
void shard_close(ShardConn *c);

// Runs one statement (after draining any unread result) and waits at most timeout_ms; returns
// false with a palloc'd message (and the shard's SQLSTATE in sqlstate[6], or "") instead of
// raising: for transaction-end callbacks, where an ERROR must not be raised.
bool shard_exec_quietly(ShardConn *c, const char *sql, int timeout_ms, char **message, char *sqlstate);

// A probe of a shard that may be down, for after a failed statement, when no catalog may be
// read: shard_probe_options builds the options before (the server's and the caller's user
// mapping, without dblink's USAGE check: a probe reads nothing), shard_probe then opens a new
// connection with them and runs sql. True when it answered without an ERROR; it raises only
// for an interrupt (statement_timeout, cancel), closing its connection first.
void shard_probe_options(const char *server, const char ***keywords, const char ***values);
bool shard_probe(const char *const *keywords, const char *const *values, const char *sql);

}  // namespace ducache::pg
