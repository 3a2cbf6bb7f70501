// On a coordinator: the shards' binary partials (core/shard_partial.hpp) merged into the rows
// of a model or provider breakdown, or a period summary's row. The adapter only moves bytes: decoding, the unions and the
// sums are the core's. src/sql/62_coordinator_reads.sql calls these after
// ducache_coord_partials_bin gathered every shard's partial in one statement.
#include "core/error.hpp"
#include "core/aggregator.hpp"
#include "core/entry_rules.hpp"
#include "core/cell_reducers.hpp"
#include "core/filters.hpp"
#include "core/shard_partial.hpp"

#include "pg/boundary.hpp"
#include "pg/breakdown_output.hpp"
#include "pg/context_resource.hpp"
#include "pg/range_aggregate.hpp"
#include "pg/srf_output.hpp"

extern "C" {
#include "access/htup_details.h"
#include "utils/array.h"
}

namespace ducache::pg {

namespace {

using core::ShardPartial;

// Decodes every non-NULL element of the bytea[] argument 0 into p (the k-th for messages).
void merge_parts(FunctionCallInfo fcinfo, ShardPartial &p)
{
    if (PG_ARGISNULL(0))
        return;
    Datum *elems = nullptr;
    bool *nulls = nullptr;
    int n = 0;
    pg_call([&] {
        ArrayType *a = PG_GETARG_ARRAYTYPE_P(0);
        deconstruct_array(a, BYTEAOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
    });
    for (int k = 0; k < n; k++) {
        if (nulls[k])
            continue;
        const bytea *b = pg_call([&] { return (const bytea *)PG_DETOAST_DATUM_PACKED(elems[k]); });
        p.merge_encoded(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), k + 1);
        check_for_interrupts();
    }
    p.finish();
}

// The common columns: key, the seven metrics, active_days. Returns the next column.
int put_common(const core::Slot &s, Datum *values, bool *nulls)
{
    values[0] = text_datum(s.key_view());
    put_metric_columns(s.totals, values + 1);
    values[8] = Int32GetDatum(s.totals.active_days);
    for (int c = 0; c < 9; c++)
        nulls[c] = false;
    return 9;
}

Datum merge_models(FunctionCallInfo fcinfo)
{
    init_materialized_srf(fcinfo);
    MemoryContext work = new_work_context("ducache coordinator merge");
    {
        ContextResource memory(work);
        ShardPartial p(core::PartialKind::model, &memory);
        merge_parts(fcinfo, p);
        Datum values[11];
        bool nulls[11];
        uint32 n = 0;
        for (const core::Slot *s : p.keys().sorted()) {
            if ((++n & 1023) == 0)
                check_for_interrupts();
            size_t i = slot_index(p.keys(), *s);
            const ShardPartial::Extra &x = p.extra(i);
            if (!x.row)
                continue;  // only a provider field: not a row
            int col = put_common(*s, values, nulls);
            values[col] = text_datum(p.model_provider(i));
            nulls[col++] = false;
            values[col] = Int32GetDatum(int32(x.users.size()));
            nulls[col] = !x.has_users;
            put_row(fcinfo, values, nulls);
        }
    }
    delete_context(work);
    return (Datum)0;
}

// grouped: the parts are filtered model partials, summed here by their merged provider.
Datum merge_providers(FunctionCallInfo fcinfo)
{
    init_materialized_srf(fcinfo);
    bool grouped = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
    MemoryContext work = new_work_context("ducache coordinator merge");
    {
        ContextResource memory(work);
        ShardPartial models(core::PartialKind::model, &memory), providers(core::PartialKind::provider, &memory);
        if (grouped) {
            merge_parts(fcinfo, models);
            models.group_by_provider(providers);
        } else {
            merge_parts(fcinfo, providers);
        }
        Datum values[11];
        bool nulls[11];
        uint32 n = 0;
        for (const core::Slot *s : providers.keys().sorted()) {
            if ((++n & 1023) == 0)
                check_for_interrupts();
            const ShardPartial::Extra &x = providers.extra(slot_index(providers.keys(), *s));
            if (!x.row)
                continue;
            int col = put_common(*s, values, nulls);
            values[col] = Int32GetDatum(int32(x.models.size()));
            nulls[col++] = x.models.empty();
            values[col] = Int32GetDatum(int32(x.users.size()));
            nulls[col] = !x.has_users;
            put_row(fcinfo, values, nulls);
        }
    }
    delete_context(work);
    return (Datum)0;
}

// ducache_coord_merge_summary(parts, with_top, period): ducache_period_summary's row from the
// shards' summary partials; period false (a NULL date): a row of NULLs.
Datum merge_summary(FunctionCallInfo fcinfo)
{
    bool with_top = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
    bool period = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
    TupleDesc desc = pg_call([&] {
        TupleDesc d;
        if (get_call_result_type(fcinfo, nullptr, &d) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "ducache_coord_merge_summary must return a record");
        return BlessTupleDesc(d);
    });
    Datum values[11] = {};
    bool nulls[11];
    for (bool &n : nulls)
        n = true;
    MemoryContext work = new_work_context("ducache coordinator merge");
    if (period) {
        ContextResource memory(work);
        ShardPartial p(core::PartialKind::summary, &memory);
        merge_parts(fcinfo, p);
        const ShardPartial::Summary &m = p.summary();
        if (m.active_users > INT32_MAX)
            throw core::Error("22003", "active users out of range for type integer");
        values[0] = Int32GetDatum(m.cached.count());
        values[1] = Int32GetDatum(int32(m.active_users));
        put_metric_columns(m.all, values + 2);
        for (int c = 0; c < 9; c++)
            nulls[c] = false;
        if (with_top && m.has_top) {
            values[9] = text_datum(m.top_user);
            nulls[9] = false;
            for (const core::Slot *s : p.keys().sorted()) {
                values[10] = text_datum(s->key_view());
                nulls[10] = false;
                break;
            }
        }
    }
    HeapTuple tuple = pg_call([&] { return heap_form_tuple(desc, values, nulls); });
    delete_context(work);
    return HeapTupleGetDatum(tuple);
}

}  // namespace

}  // namespace ducache::pg

DUCACHE_FUNCTION(ducache_coord_merge_models)
{
    return ducache::pg::merge_models(fcinfo);
}

DUCACHE_FUNCTION(ducache_coord_merge_summary)
{
    return ducache::pg::merge_summary(fcinfo);
}

DUCACHE_FUNCTION(ducache_coord_merge_providers)
{
    return ducache::pg::merge_providers(fcinfo);
}
