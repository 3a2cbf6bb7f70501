// See shard_xact.hpp.
#include "pg/shard_xact.hpp"

#include "pg/settings.hpp"
#include "pg/shard_catalog.hpp"

extern "C" {
#include "access/xact.h"
#include "access/xlog.h"
}

namespace ducache::pg {

namespace {

constexpr int kEndTimeoutMs = 30000;  // per shard, for COMMIT/ROLLBACK PREPARED at transaction end

ShardConn *conns = nullptr;   // TopMemoryContext; conns[0..nconns) while a transaction uses shards
int nconns = 0;
char gid[96];                 // this transaction's gid base
bool poisoned = false;        // a subtransaction that wrote to shards was rolled back
int deepest_level = 0;        // deepest nest level that wrote to shards and has not ended
bool callbacks_registered = false;

void pause_for_test([[maybe_unused]] const char *point)
{
#ifdef DUCACHE_TEST_HOOKS
    if (strcmp(test_shard_pause_setting(), point) == 0) {  // "after_prepare" | "before_commit_prepared"
        elog(LOG, "ducache test pause: %s (gid %s)", point, gid);
        for (int i = 0; i < 600; i++)
            pg_usleep(100000L);  // a crash test stops the cluster meanwhile
    }
#endif
}

void reset_state()
{
    for (int i = 0; i < nconns; i++)
        shard_close(&conns[i]);
    nconns = 0;
    poisoned = false;
    deepest_level = 0;
}

void shard_gid(char *out, size_t size, int k) { snprintf(out, size, "%s_%d", gid, k); }

// Pre-commit: prepare everywhere (sent to all, then waited for: the shards work at once).
void prepare_all()
{
    if (poisoned)
        ereport(ERROR, (errcode(ERRCODE_INVALID_TRANSACTION_STATE),
                        errmsg("cannot commit: a rolled-back subtransaction wrote to ducache shards"),
                        errdetail("Shard writes cannot be undone in part; roll back the whole transaction.")));
    // The decision row's WAL (and so this xid) must outlive a crash before any shard prepares:
    // else a restarted coordinator could reuse the xid, and with it the gid.
    XLogFlush(XactLastRecEnd);
    char sql[160];
    for (int i = 0; i < nconns; i++) {
        char g[128];
        shard_gid(g, sizeof(g), conns[i].shard);
        snprintf(sql, sizeof(sql), "PREPARE TRANSACTION '%s'", g);
        conns[i].prepare_sent = true;
        shard_send(&conns[i], sql, 0, nullptr);
    }
    for (int i = 0; i < nconns; i++) {
        PGresult *r = shard_wait(&conns[i], -1, nullptr);
        PQclear(r);
        conns[i].prepared = true;
        conns[i].in_xact = false;
    }
    pause_for_test("after_prepare");
}

// Commit or abort: finish every shard; never raises.
void finish_all(bool commit)
{
    if (commit) {
        // The decision must be durable before any shard commits (also with
        // synchronous_commit = off): a lost commit record would make the resolver roll back
        // shards that have not committed yet while others have.
        XLogFlush(XactLastCommitEnd);
        pause_for_test("before_commit_prepared");
    }
    for (int i = 0; i < nconns; i++) {
        ShardConn *c = &conns[i];
        if (c->conn == nullptr)
            continue;
        if (!c->prepared && !(c->prepare_sent && !commit)) {
            // Not prepared: closing the connection rolls the remote transaction back.
            shard_cancel(c);
            shard_close(c);
            continue;
        }
        // Prepared, or PREPARE sent and its answer unread (it may have prepared): finish it.
        char g[128], sql[160], *message, state[6];
        shard_gid(g, sizeof(g), c->shard);
        snprintf(sql, sizeof(sql), "%s PREPARED '%s'", commit ? "COMMIT" : "ROLLBACK", g);
        bool unsure = !c->prepared;
        if (!shard_exec_quietly(c, sql, kEndTimeoutMs, &message, state) &&
            !(unsure && strcmp(state, "42704") == 0))  // it never prepared: nothing to undo
            ereport(WARNING, (errcode(ERRCODE_CONNECTION_FAILURE),
                              errmsg("could not %s the prepared transaction %s on ducache shard %d (server \"%s\")",
                                     commit ? "commit" : "roll back", g, c->shard, c->server),
                              errdetail_internal("%s", message ? message : ""),
                              errhint("Run SELECT * FROM ducache_resolve_shards() when the shard is back.")));
    }
    reset_state();
}

void xact_callback(XactEvent event, void *)
{
    if (nconns == 0)
        return;
    switch (event) {
    case XACT_EVENT_PRE_COMMIT:
        prepare_all();
        break;
    case XACT_EVENT_COMMIT:
        finish_all(true);
        break;
    case XACT_EVENT_ABORT:
        finish_all(false);
        break;
    case XACT_EVENT_PRE_PREPARE:
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("cannot PREPARE a transaction that wrote to ducache shards")));
        break;
    default:
        break;
    }
}

void subxact_callback(SubXactEvent event, SubTransactionId, SubTransactionId, void *)
{
    if (nconns == 0)
        return;
    int level = GetCurrentTransactionNestLevel();
    if (event == SUBXACT_EVENT_ABORT_SUB && deepest_level >= level)
        poisoned = true;
    else if (event == SUBXACT_EVENT_COMMIT_SUB && deepest_level >= level)
        deepest_level = level - 1;
}

}  // namespace

char *shard_gid_prefix()
{
    return psprintf("ducache_" UINT64_FORMAT "_%u_", GetSystemIdentifier(), MyDatabaseId);
}

ShardConn *shard_xact_begin(Oid extension_schema, int nshards, const char *const *servers)
{
    if (!callbacks_registered) {
        RegisterXactCallback(xact_callback, nullptr);
        RegisterSubXactCallback(subxact_callback, nullptr);
        callbacks_registered = true;
    }
    int level = GetCurrentTransactionNestLevel();
    if (nconns > 0) {
        if (nconns != nshards)
            ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                            errmsg("the ducache shards changed during the transaction")));
        if (level > deepest_level)
            deepest_level = level;
        return conns;
    }
    if (conns == nullptr)
        conns = static_cast<ShardConn *>(MemoryContextAllocZero(TopMemoryContext, sizeof(ShardConn) * 64));
    if (nshards > 64)
        ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED), errmsg("ducache writes to at most 64 shards")));
    // The decision row first: it gives the transaction its xid, which names the gid.
    FullTransactionId fxid = GetTopFullTransactionId();
    char *prefix = shard_gid_prefix();
    snprintf(gid, sizeof(gid), "%s" UINT64_FORMAT, prefix, U64FromFullTransactionId(fxid));
    record_shard_decision(extension_schema, gid, nshards, servers);
    nconns = nshards;
    deepest_level = level;
    for (int k = 0; k < nshards; k++) {
        ShardConn *c = &conns[k];
        memset(c, 0, sizeof(*c));
        c->shard = k;
        strlcpy(c->server, servers[k], NAMEDATALEN);
    }
    for (int k = 0; k < nshards; k++)
        shard_connect(&conns[k]);
    // Every shard must run ducache and be able to prepare; then a transaction opens there.
    for (int k = 0; k < nshards; k++)
        shard_send(&conns[k],
                   "START TRANSACTION; "
                   "SELECT pg_catalog.current_setting('max_prepared_transactions')::int, "
                   "(SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n "
                   "ON n.oid OPERATOR(pg_catalog.=) e.extnamespace WHERE e.extname OPERATOR(pg_catalog.=) 'ducache')",
                   0, nullptr);
    for (int k = 0; k < nshards; k++) {
        PGresult *r = shard_wait(&conns[k], -1, nullptr);
        conns[k].in_xact = true;
        bool can_prepare = PQntuples(r) == 1 && atoi(PQgetvalue(r, 0, 0)) > 0;
        bool has_ducache = PQntuples(r) == 1 && !PQgetisnull(r, 0, 1);
        if (has_ducache)
            strlcpy(conns[k].schema, PQgetvalue(r, 0, 1), NAMEDATALEN);
        PQclear(r);
        if (!has_ducache)
            ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                            errmsg("ducache is not installed on ducache shard %d (server \"%s\")", k, servers[k])));
        if (!can_prepare)
            ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                            errmsg("ducache shard %d (server \"%s\") cannot prepare transactions", k, servers[k]),
                            errdetail("max_prepared_transactions is 0 there; writes through the coordinator commit on every shard with two-phase commit."),
                            errhint("Set max_prepared_transactions above 0 on the shard (e.g. to max_connections) and restart it.")));
    }
    return conns;
}

}  // namespace ducache::pg
