// A coordinator's own connections for its reads (docs/scale-out-speed.md, round 8): one per
// shard server and local user, kept for the backend's life, so a read costs one round trip per
// shard, all shards at once, even in an autocommit call. postgres_fdw's connections started
// each shard's remote transaction with a waited START, one shard after the other, and ended
// it with a waited COMMIT: two more round trips on every autocommit call's critical path.
//
// Here the remote transaction (REPEATABLE READ, SERIALIZABLE when the local one is, as
// postgres_fdw's) is begun in the same round trip as the first read of the local transaction
// (libpq's pipeline mode), and ended when the local transaction ends by a COMMIT or ROLLBACK
// that is sent, not waited for: the reads are done by then, and its answer is read before the
// connection's next use. A read that is still running when the local transaction or
// subtransaction aborts (an ERROR, statement_timeout, a cancel) is cancelled on the shard and
// its connection closed; the next read connects again. A change to a foreign server or user
// mapping closes the connections at their next use outside a remote transaction.
//
// Plain C-style functions (they raise PostgreSQL ERRORs): C++ callers run them in pg_call.
#pragma once

#include "pg/postgres.hpp"

#include <libpq-fe.h>

namespace ducache::pg {

// Shard k's connection (server `server`, the caller's user mapping), ready to send a read:
// connected when needed (a class-08 ERROR naming the shard when it cannot be), the answer of
// the last transaction's end read. Sends `sql` with its text parameters, the result in binary,
// preceded in the same round trip by the START of the remote transaction when this local
// transaction has not begun one yet on it. *pipelined says which: then the caller's reading
// of the answer sees the START's result first and ends with the pipeline's sync
// (read_conn_finish).
PGconn *read_conn_send(int k, const char *server, const char *sql, int nparams, const char *const *values,
                       bool *pipelined);

// After the whole answer of a pipelined send was read: back to the normal mode.
void read_conn_finish(PGconn *conn, bool pipelined);

}  // namespace ducache::pg
