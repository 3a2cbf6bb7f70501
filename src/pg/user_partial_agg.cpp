// ducache_user_partial(jsonb, date, date): the aggregate behind the parallel user breakdown
// (pg/parallel_breakdown.hpp). Its state is a core::BreakdownPartial in the aggregate's
// memory context, destroyed by that context's reset callback; the final function returns the
// state serialized (core/breakdown_partial.hpp), which the breakdown reads back. Rows may
// come in any order. A ducache error in a row marks the state failed instead of raising: the
// breakdown then reads the days serially and raises the error the date order finds first.
#include "core/breakdown_partial.hpp"
#include "core/error.hpp"

#include "pg/boundary.hpp"
#include "pg/context_resource.hpp"
#include "pg/entry_reader.hpp"

extern "C" {
#include "access/parallel.h"
}

#include <new>
#include <string>

namespace {

using namespace ducache;
using namespace ducache::pg;

struct PartialState {
    explicit PartialState(MemoryContext cxt) : memory(cxt), partial(&memory) {}
    ContextResource memory;
    core::BreakdownPartial partial;
};

MemoryContext aggregate_context(FunctionCallInfo fcinfo, const char *fn)
{
    MemoryContext cxt = nullptr;
    if (!AggCheckCallContext(fcinfo, &cxt))
        pg_call([&] {
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("%s called in non-aggregate context", fn)));
        });
    return cxt;
}

PartialState *new_state(MemoryContext cxt)
{
    void *mem = palloc_or_throw(cxt, sizeof(PartialState), "the user breakdown's partial state");
    auto *state = new (mem) PartialState(cxt);
    auto *cb = static_cast<MemoryContextCallback *>(palloc_or_throw(cxt, sizeof(MemoryContextCallback), "the user breakdown's partial state"));
    cb->func = [](void *arg) { static_cast<PartialState *>(arg)->~PartialState(); };
    cb->arg = state;
    pg_call([&] { MemoryContextRegisterResetCallback(cxt, cb); });
    return state;
}

PartialState *state_arg(FunctionCallInfo fcinfo, int n)
{
    return PG_ARGISNULL(n) ? nullptr : reinterpret_cast<PartialState *>(PG_GETARG_POINTER(n));
}

// Thrown to stop reading a row whose values the serial order must judge.
struct OrderMatters {};

void accumulate(core::BreakdownPartial &p, const Jsonb *obj, const InputRow &day)
{
    DayLabel row(day);
    std::string_view column(day.column);
    core::KeyAggregator &agg = p.agg;
    for_each_entry(obj, day, true, [&](std::string_view key, const EntryValues &v, uint32 position) {
        if (!core::BreakdownPartial::order_free(v))
            throw OrderMatters{};
        agg.prefetch_at(position + 4);
        core::Slot &slot = agg.find_or_insert_at(key.data(), key.size(), position);
        p.add(slot, v, day.day_index, row, column, key);
    });
}

bytea *to_bytea(const std::string &bytes)
{
    const char *data = bytes.data();
    size_t len = bytes.size();
    check_alloc_size(VARHDRSZ + len, "the user breakdown's serialized partial state (bytea)");
    return pg_call([&] {
        bytea *b = (bytea *)palloc(VARHDRSZ + len);
        SET_VARSIZE(b, VARHDRSZ + len);
        memcpy(VARDATA(b), data, len);
        return b;
    });
}

}  // namespace

// (state, aggregated_by_user, date, start): the row's day offset is date - start.
DUCACHE_FUNCTION(ducache_user_partial_trans)
{
    MemoryContext cxt = aggregate_context(fcinfo, "ducache_user_partial_trans");
    PartialState *state = state_arg(fcinfo, 0);
    if (!state)
        state = new_state(cxt);
    if (state->partial.failed || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
        PG_RETURN_POINTER(state);
    const Jsonb *obj = pg_call([&] { return (const Jsonb *)PG_GETARG_JSONB_P(1); });
    DateADT date = PG_GETARG_DATEADT(2), start = PG_GETARG_DATEADT(3);
    InputRow day{date, int32(date - start), "aggregated_by_user"};
    if (IsParallelWorker())
        state->partial.worker_days++;
    try {
        accumulate(state->partial, obj, day);
    } catch (const core::Error &) {
        state->partial.failed = true;
    } catch (const OrderMatters &) {
        state->partial.failed = true;
    }
    PG_RETURN_POINTER(state);
}

DUCACHE_FUNCTION(ducache_user_partial_combine)
{
    MemoryContext cxt = aggregate_context(fcinfo, "ducache_user_partial_combine");
    PartialState *a = state_arg(fcinfo, 0), *b = state_arg(fcinfo, 1);
    if (!b)
        PG_RETURN_POINTER(a);
    if (!a)
        a = new_state(cxt);
    a->partial.combine(b->partial);
    PG_RETURN_POINTER(a);
}

DUCACHE_FUNCTION(ducache_user_partial_serialize)
{
    aggregate_context(fcinfo, "ducache_user_partial_serialize");
    PG_RETURN_BYTEA_P(to_bytea(core::serialize_breakdown_partial(state_arg(fcinfo, 0)->partial)));
}

DUCACHE_FUNCTION(ducache_user_partial_deserialize)
{
    MemoryContext cxt = aggregate_context(fcinfo, "ducache_user_partial_deserialize");
    bytea *in = pg_call([&] { return PG_GETARG_BYTEA_PP(0); });
    PartialState *state = new_state(cxt);
    core::deserialize_breakdown_partial(VARDATA_ANY(in), VARSIZE_ANY_EXHDR(in), state->partial);
    PG_RETURN_POINTER(state);
}

DUCACHE_FUNCTION(ducache_user_partial_final)
{
    aggregate_context(fcinfo, "ducache_user_partial_final");
    PartialState *state = state_arg(fcinfo, 0);
    if (!state)
        PG_RETURN_NULL();
    PG_RETURN_BYTEA_P(to_bytea(core::serialize_breakdown_partial(state->partial)));
}
