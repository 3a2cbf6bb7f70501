// The binary rows of the user-keyed reads and the daily trend (core/shard_rows.hpp):
// ducache_shard_read_rows runs, on a shard, the read of a kind through SPI and writes its
// rows typed; ducache_coord_merge_rows, on the coordinator, turns the shards' rows back into
// the result of the calling SQL function (its column list). No JSON on either side.
#include "core/error.hpp"
#include "core/decimal.hpp"
#include "core/shard_rows.hpp"
#include "core/shard_rows_merge.hpp"

#include "pg/boundary.hpp"
#include "pg/coordinator_gather.hpp"
#include "pg/srf_output.hpp"

extern "C" {
#include "utils/array.h"
#include "utils/lsyscache.h"
}

#include <string>
#include <vector>

namespace ducache::pg {

namespace {

using core::ColumnKind;

// The read of each kind. Its SPI plan is kept for the backend (one per kind and extension
// schema): a shard runs one per coordinator call, and parsing and planning "SELECT * FROM
// fn(...)" each time was a visible part of a one-day call (docs/scale-out-speed.md, round 6).
// A kept plan is re-planned by PostgreSQL when the function changes.
struct ReadKind {
    const char *kind;
    const char *function;
    Oid schema;
    SPIPlanPtr plan;
};
ReadKind read_kinds[] = {{"user", "ducache_user_breakdown", InvalidOid, nullptr},
                         {"user_model", "ducache_user_model_breakdown", InvalidOid, nullptr},
                         {"api_key", "ducache_api_key_breakdown", InvalidOid, nullptr},
                         {"trend", "ducache_daily_trend", InvalidOid, nullptr}};

ReadKind *read_kind(std::string_view kind)
{
    for (ReadKind &k : read_kinds)
        if (kind == k.kind)
            return &k;
    return nullptr;
}

const Oid read_arg_types[5] = {DATEOID, DATEOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID};

// Inside SPI: the kind's kept plan for the extension's schema nsp.
SPIPlanPtr kept_plan(ReadKind *k, Oid nsp)
{
    if (k->plan != nullptr && k->schema == nsp)
        return k->plan;
    if (k->plan != nullptr) {
        SPI_freeplan(k->plan);
        k->plan = nullptr;
    }
    char *sql = psprintf("SELECT * FROM %s.%s($1, $2, $3, $4, $5)", quote_identifier(get_namespace_name(nsp)),
                         k->function);
    SPIPlanPtr plan = SPI_prepare(sql, 5, const_cast<Oid *>(read_arg_types));
    if (plan == nullptr)
        elog(ERROR, "ducache shard rows: %s", SPI_result_code_string(SPI_result));
    if (SPI_keepplan(plan) != 0)
        elog(ERROR, "ducache shard rows: keeping the plan failed");
    k->plan = plan;
    k->schema = nsp;
    return plan;
}

ColumnKind kind_of(Oid type, int column)
{
    switch (type) {
    case TEXTOID: return ColumnKind::text;
    case INT4OID: return ColumnKind::int4;
    case INT8OID: return ColumnKind::int8;
    case NUMERICOID: return ColumnKind::numeric;
    case DATEOID: return ColumnKind::date;
    }
    throw core::Error("XX000", "ducache shard rows: column " + std::to_string(column) + " has an unsupported type");
}

Datum read_rows(FunctionCallInfo fcinfo)
{
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
        throw core::Error("22004", "ducache_shard_read_rows needs a kind and both dates");
    std::string_view kind = pg_call([&] { return (const char *)text_to_cstring(PG_GETARG_TEXT_PP(0)); });
    ReadKind *k = read_kind(kind);
    if (!k)
        throw core::Error("22023", "unknown ducache shard rows kind \"" + std::string(kind) + "\"");
    Oid nsp = pg_call([&] { return get_func_namespace(fcinfo->flinfo->fn_oid); });
    Datum args[5];
    char nulls[5];
    for (int i = 0; i < 5; i++) {
        bool isnull = PG_NARGS() <= i + 1 || PG_ARGISNULL(i + 1);
        args[i] = isnull ? (Datum)0 : PG_GETARG_DATUM(i + 1);
        nulls[i] = isnull ? 'n' : ' ';
    }
    MemoryContext caller = CurrentMemoryContext;
    pg_call([&] {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        int rc = SPI_execute_plan(kept_plan(k, nsp), args, nulls, true, 0);
        if (rc != SPI_OK_SELECT)
            elog(ERROR, "ducache shard rows: %s", SPI_result_code_string(rc));
    });
    TupleDesc desc = SPI_tuptable->tupdesc;
    uint64 n = SPI_processed;
    std::vector<ColumnKind> columns;
    for (int c = 0; c < desc->natts; c++)
        columns.push_back(kind_of(TupleDescAttr(desc, c)->atttypid, c + 1));
    core::RowsWriter w(columns);
    for (uint64 r = 0; r < n; r++) {
        if ((r & 1023) == 1023)
            check_for_interrupts();
        HeapTuple tuple = SPI_tuptable->vals[r];
        for (int c = 0; c < desc->natts; c++) {
            bool isnull;
            Datum v = heap_getattr(tuple, c + 1, desc, &isnull);
            if (isnull) {
                w.null();
                continue;
            }
            switch (columns[c]) {
            case ColumnKind::text: {
                const text *t = pg_call([&] { return (const text *)PG_DETOAST_DATUM_PACKED(v); });
                w.text(std::string_view(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
                break;
            }
            case ColumnKind::numeric:
                w.numeric(pg_call([&] { return (const char *)DatumGetCString(DirectFunctionCall1(numeric_out, v)); }));
                break;
            case ColumnKind::int4: w.int4(DatumGetInt32(v)); break;
            case ColumnKind::date: w.int4(DatumGetDateADT(v)); break;
            case ColumnKind::int8: w.int8(DatumGetInt64(v)); break;
            }
        }
        w.end_row();
    }
    std::string bytes = w.finish();
    check_alloc_size(VARHDRSZ + bytes.size(), "a shard's rows (bytea)");
    bytea *out = pg_call([&] {
        bytea *b = (bytea *)MemoryContextAlloc(caller, VARHDRSZ + bytes.size());
        SET_VARSIZE(b, VARHDRSZ + bytes.size());
        memcpy(VARDATA(b), bytes.data(), bytes.size());
        SPI_finish();
        return b;
    });
    return PointerGetDatum(out);
}

// The user x model breakdown's columns (62_coordinator_reads.sql): its rows are ordered by
// user_id first, and each shard's rows come ordered as one node orders them.
bool ordered_by_first_column(const std::vector<ColumnKind> &c)
{
    static const std::vector<ColumnKind> user_model = {
        ColumnKind::text, ColumnKind::text, ColumnKind::text, ColumnKind::int8, ColumnKind::int8, ColumnKind::int8,
        ColumnKind::int8, ColumnKind::numeric, ColumnKind::int8, ColumnKind::int8, ColumnKind::int4};
    return c == user_model;
}

// Every part's rows as rows of the calling function's result (its column list must have the
// parts' column kinds). The calling SQL functions sort the rows (their ORDER BY), but for the
// user x model breakdown's columns this merge is the order: the parts merged by user_id
// (bytewise, as COLLATE "C"; users are disjoint across shards, so each user's rows come whole
// from one part, in one node's order: user_id, total_cost DESC, model), and
// ducache_coord_user_model_breakdown has no ORDER BY (round 6, docs/scale-out-speed.md: the
// sort of ~8K rows at S was ~20% of the coordinator's call).
Datum merge_rows(FunctionCallInfo fcinfo)
{
    init_materialized_srf(fcinfo);
    if (PG_ARGISNULL(0))
        return (Datum)0;
    auto *rs = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    TupleDesc desc = rs->setDesc;
    int natts = desc->natts;
    Datum *elems = nullptr;
    bool *enulls = nullptr;
    int nparts = 0;
    pg_call([&] {
        ArrayType *a = PG_GETARG_ARRAYTYPE_P(0);
        deconstruct_array(a, BYTEAOID, -1, false, TYPALIGN_INT, &elems, &enulls, &nparts);
    });
    std::vector<ColumnKind> want;
    for (int c = 0; c < natts; c++)
        want.push_back(kind_of(TupleDescAttr(desc, c)->atttypid, c + 1));
    std::vector<Datum> values(natts);
    bool nulls_array[64];
    if (natts > 64)
        throw core::Error("XX000", "ducache shard rows: too many columns");
    std::vector<core::RowsReader> parts;
    parts.reserve(size_t(nparts));
    for (int k = 0; k < nparts; k++) {
        if (enulls[k])
            continue;
        const bytea *b = pg_call([&] { return (const bytea *)PG_DETOAST_DATUM_PACKED(elems[k]); });
        parts.emplace_back(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), k + 1);
        if (parts.back().columns() != want)
            parts.back().fail("its columns are not the " + std::to_string(natts) + " columns asked for");
    }
    // Reads columns [from, natts) of the current row of r into values / nulls_array.
    auto read_columns = [&](core::RowsReader &r, int from) {
        for (int c = from; c < natts; c++) {
            std::string_view s;
            int64_t i = 0;
            nulls_array[c] = !r.next(want[c], s, i);
            if (nulls_array[c]) {
                values[c] = (Datum)0;
                continue;
            }
            switch (want[c]) {
            case ColumnKind::text: values[c] = text_datum(s); break;
            case ColumnKind::numeric: values[c] = numeric_datum(std::string(s)); break;
            case ColumnKind::int4: values[c] = Int32GetDatum(int32(i)); break;
            case ColumnKind::date: values[c] = DateADTGetDatum(DateADT(i)); break;
            case ColumnKind::int8: values[c] = Int64GetDatum(i); break;
            }
        }
    };
    uint64 emitted = 0;
    if (!ordered_by_first_column(want) || parts.size() < 2) {
        for (core::RowsReader &r : parts) {
            for (uint32 row = 0; row < r.rows(); row++) {
                if ((++emitted & 1023) == 0)
                    check_for_interrupts();
                read_columns(r, 0);
                put_row(fcinfo, values.data(), nulls_array);
            }
            r.finish();
        }
        return (Datum)0;
    }
    // Each part's next row's first column (read ahead), then the smallest goes out first (a
    // NULL after every text, as ORDER BY puts it; ties: the earlier part).
    struct Head {
        uint32 next = 0;  // rows of the part read so far
        bool live = false, null = false;
        std::string_view key;
    };
    std::vector<Head> heads(parts.size());
    auto advance = [&](size_t k) {
        Head &h = heads[k];
        h.live = h.next < parts[k].rows();
        if (!h.live) {
            parts[k].finish();
            return;
        }
        int64_t unused = 0;
        h.null = !parts[k].next(want[0], h.key, unused);
        h.next++;
    };
    for (size_t k = 0; k < parts.size(); k++)
        advance(k);
    for (;;) {
        size_t best = parts.size();
        for (size_t k = 0; k < parts.size(); k++) {
            const Head &h = heads[k];
            if (!h.live)
                continue;
            if (best == parts.size() || (!h.null && (heads[best].null || h.key < heads[best].key)))
                best = k;
        }
        if (best == parts.size())
            break;
        if ((++emitted & 1023) == 0)
            check_for_interrupts();
        nulls_array[0] = heads[best].null;
        values[0] = heads[best].null ? (Datum)0 : text_datum(heads[best].key);
        read_columns(parts[best], 1);
        put_row(fcinfo, values.data(), nulls_array);
        advance(best);
    }
    return (Datum)0;
}

// A coordinator's user, user x model, API-key breakdown or daily trend: every shard's rows for
// the request, merged in C++ into the one-node order (core/shard_rows_merge.hpp) and written
// once into the result. NULL dates: no rows (as the one-node reads).
Datum coord_rows(FunctionCallInfo fcinfo, std::string_view kind)
{
    init_materialized_srf(fcinfo);
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        return (Datum)0;
    core::RowsRead read;
    if (!core::rows_read_named(kind, read))
        throw core::Error("XX000", "unknown ducache shard rows kind \"" + std::string(kind) + "\"");
    auto *rs = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    TupleDesc desc = rs->setDesc;
    int natts = desc->natts;
    if (natts > 64)
        throw core::Error("XX000", "ducache shard rows: too many columns");
    std::vector<ColumnKind> columns;
    for (int c = 0; c < natts; c++)
        columns.push_back(kind_of(TupleDescAttr(desc, c)->atttypid, c + 1));
    Datum request = shard_request(fcinfo, kind, 0);
    Oid nsp = pg_call([&] { return get_func_namespace(fcinfo->flinfo->fn_oid); });
    ShardParts parts = gather_shard_parts(nsp, request, PG_GETARG_DATEADT(0), PG_GETARG_DATEADT(1));
    core::MergedRows merged(read, columns);
    for (int k = 0; k < parts.n; k++)
        merged.add_part(VARDATA_ANY(parts.p[k]), VARSIZE_ANY_EXHDR(parts.p[k]), k + 1);
    merged.finish();
    Datum values[64];
    bool nulls[64];
    for (size_t row = 0; row < merged.rows(); row++) {
        if ((row & 1023) == 1023)
            check_for_interrupts();
        for (int c = 0; c < natts; c++) {
            const core::RowValue &v = merged.at(row, c);
            nulls[c] = v.null;
            if (v.null) {
                values[c] = (Datum)0;
                continue;
            }
            switch (columns[c]) {
            case ColumnKind::text: values[c] = text_datum(v.s); break;
            case ColumnKind::numeric: values[c] = numeric_datum(std::string(v.s)); break;
            case ColumnKind::int4: values[c] = Int32GetDatum(int32(v.i)); break;
            case ColumnKind::date: values[c] = DateADTGetDatum(DateADT(v.i)); break;
            case ColumnKind::int8: values[c] = Int64GetDatum(v.i); break;
            }
        }
        put_row(fcinfo, values, nulls);
        // The row's datums are in the tuplestore now: free them (a year of users is many rows).
        for (int c = 0; c < natts; c++)
            if (!nulls[c] && (columns[c] == ColumnKind::text || columns[c] == ColumnKind::numeric))
                pg_call([&] { pfree(DatumGetPointer(values[c])); });
    }
    return (Datum)0;
}

}  // namespace

}  // namespace ducache::pg

DUCACHE_FUNCTION(ducache_shard_read_rows)
{
    return ducache::pg::read_rows(fcinfo);
}

DUCACHE_FUNCTION(ducache_coord_merge_rows)
{
    return ducache::pg::merge_rows(fcinfo);
}

// The coordinator versions of the user-keyed reads and the daily trend
// (src/sql/62_coordinator_reads.sql).
DUCACHE_FUNCTION(ducache_coord_user_breakdown)
{
    return ducache::pg::coord_rows(fcinfo, "user");
}

DUCACHE_FUNCTION(ducache_coord_user_model_breakdown)
{
    return ducache::pg::coord_rows(fcinfo, "user_model");
}

DUCACHE_FUNCTION(ducache_coord_api_key_breakdown)
{
    return ducache::pg::coord_rows(fcinfo, "api_key");
}

DUCACHE_FUNCTION(ducache_coord_daily_trend)
{
    return ducache::pg::coord_rows(fcinfo, "trend");
}
