// See coordinator_gather.hpp. First fdw_gather (one statement per shard on postgres_fdw's own
// connections); when postgres_fdw's functions cannot be used, the one query of round 4:
//
//   SELECT p FROM (SELECT s.ducache_shard_partial_bin(date, $1) AS p FROM s.ducache_shard_0
//                  WHERE date BETWEEN $2 AND $3 UNION ALL ... ducache_shard_1 ...) q WHERE p IS NOT NULL
//
// run through SPI with its parameters folded as constants (so postgres_fdw ships the request
// as a literal and pushes each shard's aggregate down whole: an Append of Async Foreign Scans).
//
// No subtransaction around it. Inside one (plpgsql's EXCEPTION block did that) postgres_fdw
// opens a remote SAVEPOINT on every shard before the query and RELEASEs it after: two more
// round trips a shard per call. Instead the query runs in PG_TRY: an ERROR other than a lost
// or refused connection is re-thrown untouched; a connection-class one (any shard, any step:
// connect, DECLARE, FETCH, CLOSE) is re-raised naming the first shard that does not answer
// now. After an ERROR nothing may run in this transaction (no SQL, no catalog), so the probe
// is libpq only: a new connection to each shard with options built before the query
// (shard_probe, pg/shard_conn.hpp), running what the old probe ran through postgres_fdw.
#include "core/json_writer.hpp"

#include "pg/coordinator_gather.hpp"
#include "pg/boundary.hpp"
#include "pg/date_text.hpp"
#include "pg/fdw_gather.hpp"
#include "pg/cache_scan.hpp"
#include "pg/shard_catalog.hpp"
#include "pg/shard_conn.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
}

namespace ducache::pg {

namespace {

struct Probe {
    const char **keywords;
    const char **values;
};

// The shard-naming ERROR for a connection-class error e: the first shard that does not answer
// a new connection now, else "a ducache shard failed" (every shard answers again).
[[noreturn]] void raise_shard_failed(const ErrorData *e, int n, char **servers, const Probe *probes,
                                     const char *probe_sql)
{
    for (int k = 0; k < n; k++) {
        if (shard_probe(probes[k].keywords, probes[k].values, probe_sql))
            continue;
        ereport(ERROR, (errcode(e->sqlerrcode),
                        errmsg("ducache shard %d (server \"%s\") failed: %s", k, servers[k], e->message),
                        errdetail_internal("%s", e->detail && *e->detail ? e->detail : "The shard does not answer now."),
                        errhint("No result was returned: a coordinator never answers from some of its shards.")));
    }
    ereport(ERROR, (errcode(e->sqlerrcode), errmsg("a ducache shard failed: %s", e->message),
                    errdetail_internal("%s", e->detail && *e->detail ? e->detail
                                                                     : "Every shard answers now; the call may be retried.")));
    pg_unreachable();
}

ShardParts gather(Oid nsp, Datum request, DateADT from, DateADT to)
{
    MemoryContext caller = CurrentMemoryContext;
    char **servers;
    int n = coordinator_servers(nsp, &servers);
    if (n == 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("this database has no shards")));
    ShardParts out{0, nullptr};
    if (fdw_gather(nsp, n, servers, request, from, to, caller, &out))
        return out;
    const char *schema = quote_identifier(get_namespace_name(nsp));
    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfoString(&sql, "SELECT p FROM (");
    Probe *probes = static_cast<Probe *>(palloc(sizeof(Probe) * n));
    for (int k = 0; k < n; k++) {
        char table[NAMEDATALEN];
        snprintf(table, sizeof(table), "ducache_shard_%d", k);
        appendStringInfo(&sql, "%sSELECT %s.ducache_shard_partial_bin(date, $1) AS p FROM %s.%s WHERE date BETWEEN $2 AND $3",
                         k ? " UNION ALL " : "", schema, schema, quote_identifier(table));
        shard_probe_options(servers[k], &probes[k].keywords, &probes[k].values);
    }
    appendStringInfoString(&sql, ") s WHERE p IS NOT NULL");
    char *probe_sql = psprintf("SELECT 1 FROM %s.daily_usage_cache LIMIT 1", schema);

    // The planner must see the shards' aggregates as whole pushed-down aggregates (the
    // setting is restored when the call ends, also by an ERROR's abort).
    int guc_level = NewGUCNestLevel();
    (void)set_config_option("enable_partitionwise_aggregate", "on", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
                            true, 0, false);
    Oid types[3] = {JSONBOID, DATEOID, DATEOID};
    Datum args[3] = {request, DateADTGetDatum(from), DateADTGetDatum(to)};
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    PG_TRY();
    {
        if (SPI_execute_with_args(sql.data, 3, types, args, nullptr, true, 0) != SPI_OK_SELECT)
            elog(ERROR, "the shards' query did not answer a SELECT");
        out.p = static_cast<bytea **>(MemoryContextAlloc(caller, sizeof(bytea *) * (SPI_processed + 1)));
        for (uint64 i = 0; i < SPI_processed; i++) {
            bool isnull;
            Datum d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
            if (isnull)
                continue;
            MemoryContext spi = MemoryContextSwitchTo(caller);
            out.p[out.n++] = DatumGetByteaPCopy(d);
            MemoryContextSwitchTo(spi);
        }
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller);
        ErrorData *e = CopyErrorData();
        if (!shard_connection_class(e->sqlerrcode))
            PG_RE_THROW();
        FlushErrorState();
        raise_shard_failed(e, n, servers, probes, probe_sql);
    }
    PG_END_TRY();
    SPI_finish();
    AtEOXact_GUC(true, guc_level);
    return out;
}

}  // namespace

ShardParts gather_shard_parts(Oid nsp, Datum request, DateADT from, DateADT to)
{
    check_date_range(from, to);
    return pg_call([&] { return gather(nsp, request, from, to); });
}

}  // namespace ducache::pg

namespace {

// The parts as the rows of a SETOF bytea function (materialized).
void put_parts(FunctionCallInfo fcinfo, const ducache::pg::ShardParts &parts)
{
    ducache::pg::pg_call([&] {
        auto *rs = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
        for (int i = 0; i < parts.n; i++) {
            Datum v = PointerGetDatum(parts.p[i]);
            bool isnull = false;
            tuplestore_putvalues(rs->setResult, rs->setDesc, &v, &isnull);
        }
    });
}

}  // namespace

// ducache_coord_gather(request jsonb, start_date date, end_date date) RETURNS SETOF bytea.
// A NULL argument: no rows (as the SQL it replaced: BETWEEN NULL matches no date).
DUCACHE_FUNCTION(ducache_coord_gather)
{
    using namespace ducache::pg;
    pg_call([&] { InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC); });  // a scalar set: its one column
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
        return (Datum)0;
    Oid nsp = pg_call([&] { return get_func_namespace(fcinfo->flinfo->fn_oid); });
    ShardParts parts = gather_shard_parts(nsp, PG_GETARG_DATUM(0), PG_GETARG_DATEADT(1), PG_GETARG_DATEADT(2));
    put_parts(fcinfo, parts);
    return (Datum)0;
}

namespace {

// A text[] argument as a JSON array (NULL elements as null), or null: what
// jsonb_build_object wrote for it in the SQL this replaces.
void write_text_array(ducache::core::JsonWriter &w, FunctionCallInfo fcinfo, int arg)
{
    using namespace ducache::pg;
    if (PG_ARGISNULL(arg)) {
        w.null();
        return;
    }
    struct Elems {
        Datum *values;
        bool *nulls;
        int n;
    };
    Elems e = pg_call([&] {
        Elems out{};
        deconstruct_array(PG_GETARG_ARRAYTYPE_P(arg), TEXTOID, -1, false, TYPALIGN_INT, &out.values, &out.nulls, &out.n);
        return out;
    });
    w.begin_array();
    for (int i = 0; i < e.n; i++) {
        if (e.nulls[i]) {
            w.null();
            continue;
        }
        const text *t = reinterpret_cast<const text *>(pg_call([&] { return PG_DETOAST_DATUM_PACKED(e.values[i]); }));
        w.string(std::string_view(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
    }
    w.end_array();
}

}  // namespace

namespace ducache::pg {

Datum shard_request(FunctionCallInfo fcinfo, std::string_view kind, int start_arg)
{
    DateADT from = PG_GETARG_DATEADT(start_arg), to = PG_GETARG_DATEADT(start_arg + 1);
    check_date_range(from, to);  // before the dates are written as text (infinity)
    ducache::core::JsonWriter w;
    w.begin_object();
    w.key("kind"), w.string(kind);
    w.key("start"), w.string(date_text(from));
    w.key("end"), w.string(date_text(to));
    w.key("user_ids"), write_text_array(w, fcinfo, start_arg + 2);
    w.key("model_ids"), write_text_array(w, fcinfo, start_arg + 3);
    w.key("api_key_aliases"), write_text_array(w, fcinfo, start_arg + 4);
    w.end_object();
    std::string json = w.take();
    return pg_call([&] { return DirectFunctionCall1(jsonb_in, CStringGetDatum(json.c_str())); });
}

}  // namespace ducache::pg

// ducache_coord_partials_bin(kind, start_date, end_date, user_ids, model_ids, api_key_aliases)
// RETURNS SETOF bytea: the request of a read function (kind, range, the three filters) to every
// shard. In C: one SQL function layer less under every coordinator read.
DUCACHE_FUNCTION(ducache_coord_partials_bin)
{
    using namespace ducache::pg;
    pg_call([&] { InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC); });
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
        return (Datum)0;
    const text *kind = reinterpret_cast<const text *>(pg_call([&] { return PG_GETARG_TEXT_PP(0); }));
    Datum request = shard_request(fcinfo, std::string_view(VARDATA_ANY(kind), VARSIZE_ANY_EXHDR(kind)), 1);
    Oid nsp = pg_call([&] { return get_func_namespace(fcinfo->flinfo->fn_oid); });
    ShardParts parts = gather_shard_parts(nsp, request, PG_GETARG_DATEADT(1), PG_GETARG_DATEADT(2));
    put_parts(fcinfo, parts);
    return (Datum)0;
}
