// ducache_merge(jsonb): an aggregate that sums breakdown objects key by key. Its state is a C++
// object living in the aggregate's memory context, destroyed by that context's reset callback;
// serialize/deserialize carry it between parallel workers; the whole wire format, row count
// included, is core/merge_state's.
#include "core/aggregator.hpp"
#include "core/merge_days.hpp"
#include "core/merge_state.hpp"

#include "pg/boundary.hpp"
#include "pg/context_resource.hpp"
#include "pg/entry_reader.hpp"
#include "pg/jsonb_object_view.hpp"
#include "pg/srf_output.hpp"

#include <new>
#include <string>

namespace {

using namespace ducache;
using namespace ducache::pg;

struct MergeState {
    explicit MergeState(MemoryContext cxt) : memory(cxt), agg(&memory) {}
    ContextResource memory;
    core::KeyAggregator agg;
    int32 rows = 0;  // input rows seen, to name a row in messages
};

// The index of the entry's "days" member, -1 when absent. JSONB keeps an object's keys sorted
// by length first, so the look stops at the first key longer than "days".
int32 find_days(const ObjectWalker &w)
{
    const JEntry *je = w.key_entries();
    const char *base = w.key_bytes();
    constexpr size_t len = core::kDaysField.size();
    uint32 off = 0;
    for (uint32 i = 0; i < w.size(); i++) {
        uint32 start = off;
        JBE_ADVANCE_OFFSET(off, je[i]);
        if (off - start > len)
            break;
        if (off - start == len && memcmp(base + start, core::kDaysField.data(), len) == 0)
            return int32(i);
    }
    return -1;
}

// Adds one input object: each entry's metrics, and its days (CONTRACT §6: an entry with a
// numeric "days", as ducache_merge outputs carry, stands for that many days, others for one).
void accumulate_merge_input(core::KeyAggregator &agg, const Jsonb *obj, const InputRow &day)
{
    DayLabel row(day);
    std::string_view column(day.column);  // once per row, not a strlen per entry
    for_each_entry_item(obj, day, false, [&](std::string_view key, const EntryValues &v, uint32 position,
                                             const JsonbItem &item) {
        // Day rows carry no "days": only the key walk is needed to see that (the value table
        // of a full view is built only when there is one to read).
        const auto *c = reinterpret_cast<const JsonbContainer *>(item.data);
        int32 at = find_days(ObjectWalker(c));
        int32_t days = 1;
        if (at >= 0) {
            core::EntrySite site{column, row, key};
            days = core::entry_days(JsonbObjectView(c), at, site);
        }
        core::Slot &slot = agg.find_or_insert_at(key.data(), key.size(), position);
        int32_t day_sum = slot.totals.active_days;
        core::add_days_or_throw(day_sum, days, key, row);
        slot.totals.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, column, key, row);
        slot.totals.active_days = day_sum;
    });
}

MemoryContext aggregate_context(FunctionCallInfo fcinfo, const char *fn)
{
    MemoryContext cxt = nullptr;
    if (!AggCheckCallContext(fcinfo, &cxt))
        pg_call([&] {
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("%s called in non-aggregate context", fn)));
        });
    return cxt;
}

MergeState *new_state(MemoryContext cxt)
{
    void *mem = palloc_or_throw(cxt, sizeof(MergeState));
    auto *state = new (mem) MergeState(cxt);
    // The destructor runs when the aggregate's context is reset or deleted.
    auto *cb = static_cast<MemoryContextCallback *>(palloc_or_throw(cxt, sizeof(MemoryContextCallback)));
    cb->func = [](void *arg) { static_cast<MergeState *>(arg)->~MergeState(); };
    cb->arg = state;
    pg_call([&] { MemoryContextRegisterResetCallback(cxt, cb); });
    return state;
}

MergeState *state_arg(FunctionCallInfo fcinfo, int n)
{
    return PG_ARGISNULL(n) ? nullptr : reinterpret_cast<MergeState *>(PG_GETARG_POINTER(n));
}

}  // namespace

DUCACHE_FUNCTION(ducache_merge_trans)
{
    MemoryContext cxt = aggregate_context(fcinfo, "ducache_merge_trans");
    MergeState *state = state_arg(fcinfo, 0);
    if (PG_ARGISNULL(1))  // a NULL row adds nothing (like sum)
        PG_RETURN_POINTER(state);
    const Jsonb *obj = pg_call([&] { return (const Jsonb *)PG_GETARG_JSONB_P(1); });
    if (!state)
        state = new_state(cxt);
    // ducache_merge(jsonb, date) passes the row's date, so an error names it; the one-argument
    // form only knows the row's position in its input.
    bool dated = PG_NARGS() > 2 && !PG_ARGISNULL(2);
    std::string where = dated ? std::string() : "input row " + std::to_string(state->rows + 1);
    InputRow day{dated ? PG_GETARG_DATEADT(2) : 0, state->rows++, "ducache_merge input",
                   dated ? nullptr : where.c_str()};
    accumulate_merge_input(state->agg, obj, day);
    PG_RETURN_POINTER(state);
}

DUCACHE_FUNCTION(ducache_merge_combine)
{
    MemoryContext cxt = aggregate_context(fcinfo, "ducache_merge_combine");
    MergeState *a = state_arg(fcinfo, 0), *b = state_arg(fcinfo, 1);
    if (!b)
        PG_RETURN_POINTER(a);
    if (!a) {
        a = new_state(cxt);
    }
    core::combine_merge_states(a->agg, b->agg);
    a->rows += b->rows;
    PG_RETURN_POINTER(a);
}

DUCACHE_FUNCTION(ducache_merge_serialize)
{
    aggregate_context(fcinfo, "ducache_merge_serialize");
    MergeState *state = state_arg(fcinfo, 0);
    core::MergeStateHeader header;
    header.rows = state->rows;
    std::string bytes = core::serialize_merge_state(state->agg, header);
    const char *data = bytes.data();
    size_t len = bytes.size();
    bytea *out = pg_call([&] {
        bytea *b = (bytea *)palloc(VARHDRSZ + len);
        SET_VARSIZE(b, VARHDRSZ + len);
        memcpy(VARDATA(b), data, len);
        return b;
    });
    PG_RETURN_BYTEA_P(out);
}

DUCACHE_FUNCTION(ducache_merge_deserialize)
{
    MemoryContext cxt = aggregate_context(fcinfo, "ducache_merge_deserialize");
    bytea *in = pg_call([&] { return PG_GETARG_BYTEA_PP(0); });
    const char *data = VARDATA_ANY(in);
    size_t len = VARSIZE_ANY_EXHDR(in);
    MergeState *state = new_state(cxt);
    state->rows = core::deserialize_merge_state(data, len, state->agg).rows;
    PG_RETURN_POINTER(state);
}

DUCACHE_FUNCTION(ducache_merge_final)
{
    aggregate_context(fcinfo, "ducache_merge_final");
    MergeState *state = state_arg(fcinfo, 0);
    if (!state)
        PG_RETURN_NULL();
    // Build {key: {metric: value, ..., "days": n}} with pushJsonbValue: no text round trip.
    JsonbParseState *ps = nullptr;
    pg_call([&] { pushJsonbValue(&ps, WJB_BEGIN_OBJECT, nullptr); });
    uint32 n = 0;
    for (const core::Slot &s : state->agg.slots()) {
        if ((++n & 1023) == 0)
            check_for_interrupts();
        std::string cost = s.totals.cost.to_string();
        const char *cost_text = cost.c_str();
        pg_call([&] {
            JsonbValue v;
            v.type = jbvString;
            v.val.string.val = const_cast<char *>(s.key);
            v.val.string.len = int(s.key_len);
            pushJsonbValue(&ps, WJB_KEY, &v);
            pushJsonbValue(&ps, WJB_BEGIN_OBJECT, nullptr);
            auto put_key = [&](const char *name) {
                JsonbValue k;
                k.type = jbvString;
                k.val.string.val = const_cast<char *>(name);
                k.val.string.len = int(strlen(name));
                pushJsonbValue(&ps, WJB_KEY, &k);
            };
            auto put_numeric = [&](Numeric num) {
                JsonbValue x;
                x.type = jbvNumeric;
                x.val.numeric = num;
                pushJsonbValue(&ps, WJB_VALUE, &x);
            };
            for (int m = 0; m < core::kCountMetrics; m++) {
                put_key(core::metric_name(core::Metric(m)));
                put_numeric(int64_to_numeric(s.totals.counts[m]));
            }
            put_key("cost");
            put_numeric(DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(cost_text),
                                                            ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1))));
            put_key("days");
            put_numeric(int64_to_numeric(s.totals.active_days));
            pushJsonbValue(&ps, WJB_END_OBJECT, nullptr);
        });
    }
    Jsonb *out = pg_call([&] {
        JsonbValue *root = pushJsonbValue(&ps, WJB_END_OBJECT, nullptr);
        return JsonbValueToJsonb(root);
    });
    PG_RETURN_JSONB_P(out);
}
