// See shard_upsert.hpp.
#include "pg/shard_upsert.hpp"

#include "pg/boundary.hpp"
#include "pg/cache_table.hpp"
#include "pg/shard_xact.hpp"
#include "pg/writer_lock.hpp"

#include <vector>

extern "C" {
#include "utils/fmgroids.h"
}

namespace ducache::pg {

namespace {

enum Action : char { kInserted, kUpdated, kUnchanged };
const char *const kActionNames[] = {"inserted", "updated", "unchanged"};

// Days travel as int4 offsets from 2000-01-01 (DateADT itself): no DateStyle on either side.
const char *kShardCall =
    "SELECT (r.date OPERATOR(pg_catalog.-) DATE '2000-01-01')::pg_catalog.int4, r.action "
    "FROM %s.ducache_batch_upsert("
    "ARRAY(SELECT DATE '2000-01-01' OPERATOR(pg_catalog.+) u.d "
    "FROM pg_catalog.unnest($1::pg_catalog.int4[]) WITH ORDINALITY AS u(d, o) ORDER BY u.o), "
    "$2::pg_catalog.jsonb[], $3::pg_catalog.jsonb[], $4::pg_catalog.jsonb[], $5::pg_catalog.jsonb[], "
    "$6::pg_catalog.jsonb[], $7::pg_catalog.bool[], $8::pg_catalog.bool) AS r";

// In pg_call: a jsonb[] column in binary (array_send: no quoting of the JSON text, and the
// shard reads it without unescaping); NULL when the argument array is NULL.
char *jsonb_array_binary(const SplitColumns &c, int col, int n, int *length)
{
    *length = 0;
    if (!c.present[col])
        return nullptr;
    int dims[1] = {n}, lbs[1] = {1};
    ArrayType *a = construct_md_array(c.values[col], c.nulls[col], 1, dims, lbs, JSONBOID, -1, false, TYPALIGN_INT);
    bytea *b = OidSendFunctionCall(F_ARRAY_SEND, PointerGetDatum(a));
    *length = int(VARSIZE(b) - VARHDRSZ);
    return VARDATA(b);
}

// In pg_call: "{d1,d2,...}" of the dates as int4.
char *dates_text(const Datum *dates, int n)
{
    StringInfoData s;
    initStringInfo(&s);
    appendStringInfoChar(&s, '{');
    for (int r = 0; r < n; r++)
        appendStringInfo(&s, r ? ",%d" : "%d", int(DatumGetDateADT(dates[r])));
    appendStringInfoChar(&s, '}');
    return s.data;
}

// In pg_call: sends every shard its part, then reads every answer; tallies the actions per
// input day (seen[r][action]).
void run_on_shards(ShardConn *conns, int nshards, char ***params, int **lengths, const ShardBatch &b,
                   int (*seen)[3])
{
    static const int formats[8] = {0, 1, 1, 1, 1, 1, 0, 0};
    for (int k = 0; k < nshards; k++) {
        char *sql = psprintf(kShardCall, quote_identifier(conns[k].schema));
        shard_send(&conns[k], sql, 8, params[k], lengths[k], formats);
    }
    for (int k = 0; k < nshards; k++) {
        // Nothing below can raise, so the result is always freed.
        PGresult *r = shard_wait(&conns[k], -1, nullptr);
        for (int t = 0; t < PQntuples(r); t++) {
            DateADT d = DateADT(atoi(PQgetvalue(r, t, 0)));
            const char *a = PQgetvalue(r, t, 1);
            int action = strcmp(a, "inserted") == 0 ? kInserted : strcmp(a, "unchanged") == 0 ? kUnchanged : kUpdated;
            for (int i = 0; i < b.n; i++)
                if (DatumGetDateADT(b.dates[i]) == d) {
                    seen[i][action]++;
                    break;
                }
        }
        PQclear(r);
    }
}

}  // namespace

void write_through_shards(FunctionCallInfo fcinfo, Oid schema, int nshards, char **servers, const ShardBatch &b)
{
    // Coordinator writers queue here first, so they reach the shards' writer locks one at a
    // time: two of them can never hold locks on different shards while waiting for each other.
    lock_cache_writers(cache_table_oid(fcinfo));

    std::vector<SplitColumns> parts(nshards);
    split_batch(nshards, b.n, b.dates, b.json, parts.data());
    SplitColumns *part = parts.data();
    int(*seen)[3] = static_cast<int(*)[3]>(palloc_or_throw(CurrentMemoryContext, sizeof(int[3]) * b.n, "the shards of a batch's days"));
    memset(seen, 0, sizeof(int[3]) * b.n);

    pg_call([&] {
        char ***params = static_cast<char ***>(palloc(sizeof(char **) * nshards));
        int **lengths = static_cast<int **>(palloc(sizeof(int *) * nshards));
        char *dates = dates_text(b.dates, b.n);
        char *complete = b.complete_null ? nullptr : OidOutputFunctionCall(F_ARRAY_OUT, b.complete);
        for (int k = 0; k < nshards; k++) {
            params[k] = static_cast<char **>(palloc(sizeof(char *) * 8));
            lengths[k] = static_cast<int *>(palloc0(sizeof(int) * 8));
            params[k][0] = dates;
            for (int c = 0; c < kSplitColumns; c++)
                params[k][c + 1] = jsonb_array_binary(part[k], c, b.n, &lengths[k][c + 1]);
            params[k][6] = complete;
            params[k][7] = const_cast<char *>(b.touch ? "true" : "false");
        }
        ShardConn *conns = shard_xact_begin(schema, nshards, servers);
        run_on_shards(conns, nshards, params, lengths, b, seen);
    });

    // One node's words for the whole day: unchanged when every shard left it alone, inserted
    // when every shard inserted it, else updated.
    pg_call([&] {
        ReturnSetInfo *rs = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
        for (int k = 0; k < b.n; k++) {
            int r = b.order[k];
            int action = seen[r][kUnchanged] == nshards ? kUnchanged
                         : seen[r][kInserted] == nshards ? kInserted
                                                         : kUpdated;
            Datum values[2] = {b.dates[r], CStringGetTextDatum(kActionNames[action])};
            bool nulls[2] = {false, false};
            tuplestore_putvalues(rs->setResult, rs->setDesc, values, nulls);
        }
    });
}

}  // namespace ducache::pg
