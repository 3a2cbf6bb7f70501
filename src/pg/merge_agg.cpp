// ducache_merge(jsonb): an aggregate that sums breakdown objects key by key. Its state is a C++
// object living in the aggregate's memory context, destroyed by that context's reset callback;
// serialize/deserialize carry it between parallel workers; the whole wire format, row count
// included, is core/merge_state's.
#include "core/aggregator.hpp"
#include "core/error.hpp"
#include "core/merge_days.hpp"
#include "core/merge_state.hpp"

#include "pg/boundary.hpp"
#include "pg/context_resource.hpp"
#include "pg/entry_fast.hpp"
#include "pg/entry_reader.hpp"
#include "pg/entry_walk.hpp"
#include "pg/jsonb_object_view.hpp"
#include "pg/settings.hpp"
#include "pg/srf_output.hpp"

#include <algorithm>
#include <array>
#include <cstring>
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

// The day count of an entry read by the fast path whose layout has a "days" member at `at` (a
// merge output): a whole number 0..kMaxDays decoded inline; anything else (null, a string, 12.0,
// a bad value) by core::entry_days, which gives the same count or the error.
[[gnu::noinline]] int32_t fast_entry_days(const JsonbContainer *c, const entry_fast::ShapeCache &shapes, int32 at,
                                          const core::EntrySite &site)
{
    entry_fast::FastObject o(c, shapes);
    int64_t n;
    if (o.type(at) == JENTRY_ISNUMERIC && decode_jsonb_count(o.aligned(at), n) == core::CountFast::ok && n >= 0 &&
        n <= core::kMaxDays)
        return int32_t(n);
    return core::entry_days(JsonbObjectView(c), at, site);
}

// The adds of an entry the fast path read whose layout has "days" (a merge output) or whose
// cost is past the 64-bit form: out of line, so the day rows' loop keeps one branch for both.
[[gnu::noinline]] void add_fast_entry_rare(core::KeyAggregator &agg, uint32 position, const entry_fast::FastEntry &f,
                                           const JsonbContainer *c, const entry_fast::ShapeCache &shapes, int32 at,
                                           std::string_view column, const core::RowLabel &row, std::string_view key)
{
    int32_t days = at < 0 ? 1 : fast_entry_days(c, shapes, at, core::EntrySite{column, row, key});
    core::Slot &slot = agg.find_or_insert_at(key.data(), uint32(key.size()), position);
    int32_t day_sum = slot.totals.active_days;
    core::add_days_or_throw(day_sum, days, key, row);
    core::add_counts_or_throw(slot.totals.counts, f.counts, column, key, row);
    if (f.cost_seen) {
        if (!f.cost_wide_used)
            slot.totals.cost.add_scaled(f.cost_m, f.cost_scale, f.cost_dscale);
        else
            slot.totals.cost.add(f.cost_wide);
    }
    slot.totals.active_days = day_sum;
}

// One input row's reading state.
struct MergeRow {
    core::KeyAggregator &agg;
    std::string_view column;
    const DayLabel &row;
    entry_fast::ShapeCache &shapes;
    entry_fast::ShapeCache &metrics_shapes;
    entry_fast::FastEntry &f;
    EntryValues &v;
};

// Adds one entry (CONTRACT §6: an entry with a numeric "days", as ducache_merge outputs carry,
// stands for that many days, others for one). The user breakdown's reads with the merge's adds:
// an entry of the previous entry's layout read by read_entry_dense / read_entry_fast
// (pg/entry_fast.hpp: the layout's plan, dense layouts in one pass, the cost as its 64-bit
// decode, added by add_scaled) into the key's slot found by its position hint; its "days" member
// found once per layout (core::EntryPlan::days). Anything else is read by read_entry_at, which
// gives the same values or the error. The checks (days first, then the counts) and every message
// are the same on every path.
// Its state as separate arguments (not a MergeRow): in the general loop GCC keeps them in
// registers (through a MergeRow it reloaded them every entry: +19 instructions a flat entry).
inline __attribute__((always_inline)) void merge_entry(core::KeyAggregator &agg, const std::string_view column,
                                                       const DayLabel &row, entry_fast::ShapeCache &shapes,
                                                       entry_fast::ShapeCache &metrics_shapes,
                                                       entry_fast::FastEntry &f, EntryValues &v, const WalkedEntry &e)
{
    std::string_view key(e.key, e.key_len);
    const JsonbContainer *c = e.container();
    if (e.is_container() && shapes.matches(c) &&
        entry_fast::read_entry_dense(c, shapes, metrics_shapes, false, false, f,
                                     [&](const auto &counts) __attribute__((always_inline)) {
            // Round 12 of issue 13: a dense entry's counts added from registers (false: the
            // loop's other path below reads it again and adds it or raises its error).
            int32 at = shapes.remembered().days;  // -1 on a day row
            if (__builtin_expect(at >= 0 || f.cost_wide_used, 0))
                return false;  // add_fast_entry_rare's cases, by the path below
            core::Slot &slot = agg.find_or_insert_at(e.key, e.key_len, e.position);
            int32_t day_sum = slot.totals.active_days;
            core::add_days_or_throw(day_sum, 1, key, row);
            if (!counts.add_to(slot.totals.counts))
                return false;
            slot.totals.cost.add_scaled(f.cost_m, f.cost_scale, f.cost_dscale);
            slot.totals.active_days = day_sum;
            return true;
        }))
        return;
    if (e.is_container() && entry_fast::read_entry_fast(c, shapes, metrics_shapes, false, false, f)) {
        int32 at = shapes.remembered().days;  // -1 on a day row
        if (__builtin_expect(at < 0 && !f.cost_wide_used, 1)) {  // a day row's entry, a 64-bit cost
            core::Slot &slot = agg.find_or_insert_at(e.key, e.key_len, e.position);
            int32_t day_sum = slot.totals.active_days;
            core::add_days_or_throw(day_sum, 1, key, row);
            core::add_counts_or_throw(slot.totals.counts, f.counts, column, key, row);
            if (f.cost_seen)
                slot.totals.cost.add_scaled(f.cost_m, f.cost_scale, f.cost_dscale);
            slot.totals.active_days = day_sum;
        } else {
            add_fast_entry_rare(agg, e.position, f, c, shapes, at, column, row, key);
        }
    } else {
        JsonbItem val;
        e.item(val);
        read_entry_at(val, column, row, key, false, false, v);  // an entry that is not an object throws
        int32 at = last_entry_plan().days;
        int32_t days = 1;
        if (at >= 0)  // val is an object: read_entry_at checked it
            days = core::entry_days(JsonbObjectView(reinterpret_cast<const JsonbContainer *>(val.data)), at,
                                    core::EntrySite{column, row, key});
        core::Slot &slot = agg.find_or_insert_at(e.key, e.key_len, e.position);
        int32_t day_sum = slot.totals.active_days;
        core::add_days_or_throw(day_sum, days, key, row);
        slot.totals.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, column, key, row);
        slot.totals.active_days = day_sum;
    }
}

// merge_entry out of line, for the entries merge_litemaas_loop's program does not take.
[[gnu::noinline]] void merge_other_entry(const MergeRow &r, const WalkedEntry &e)
{
    merge_entry(r.agg, r.column, r.row, r.shapes, r.metrics_shapes, r.f, r.v, e);
}

// A row read while the remembered layout is LiteMaaS' nested entry (round 15 of issue 13): the
// user breakdown's nested path (pg/entry_reader.cpp's accumulate_nested_row) with the merge's
// adds, a loop of its own, out of line (its own registers). The layout compared at LiteMaaS'
// sizes, the slot found first (kKnown: the row's key list is the last one of its kind,
// core::KeyAggregator::known_keys, so each entry's slot is its position's hint and the walk does
// not find the keys), the entry read by read_litemaas_regs (counts and cost from registers), one
// day added (LiteMaaS' layout has no "days" member). Anything else (another layout, a value the
// program does not take, a cost past 64 bits, a sum past bigint or kMaxDays) goes to
// merge_other_entry before anything of it is added, which adds it or raises its error.
template <bool kKnown>
[[gnu::noinline]] void merge_litemaas_loop(const MergeRow &r, const JsonbContainer *root, const uint32_t *known)
{
    core::KeyAggregator &agg = r.agg;
    entry_fast::ShapeCache &shapes = r.shapes;
    entry_fast::ShapeCache &metrics_shapes = r.metrics_shapes;
    // The entry 4 places on asked for (pg/entry_walk.hpp's kAhead: a nested row is larger than L2).
    walk_entries<!kKnown, kNestedPrefetchAhead>(root, [&](const WalkedEntry &e) __attribute__((always_inline)) {
        const JsonbContainer *c = e.container();
        if (__builtin_expect(e.is_container() && shapes.litemaas_entry() && metrics_shapes.litemaas_metrics() &&
                                 shapes.matches_nk<entry_fast::kLiteMaaSEntryMembers, entry_fast::kLiteMaaSEntryKeys>(c),
                             1)) {
            core::Slot &slot = kKnown ? agg.slot_at(known[e.position])
                                      : agg.find_or_insert_at_len<entry_fast::kLiteMaaSKeyLen>(e.key, e.key_len, e.position);
            if (__builtin_expect(entry_fast::read_litemaas_regs(c, metrics_shapes, r.f,
                                                    [&](const auto &counts, const entry_fast::DenseCost &cost,
                                                        const auto &) __attribute__((always_inline)) {
                                                        // Days first: past kMaxDays the other path
                                                        // raises the error, nothing added here.
                                                        const int32_t days = slot.totals.active_days;
                                                        if (__builtin_expect(days >= core::kMaxDays, 0))
                                                            return false;
                                                        if (!counts.add_to(slot.totals.counts))
                                                            return false;
                                                        slot.totals.cost.add_scaled(cost.m, cost.scale, cost.dscale);
                                                        slot.totals.active_days = days + 1;
                                                        return true;
                                                    }),
                                 1))
                return;
        }
        const WalkedEntry copy = kKnown ? entry_key(root, e) : e;
        merge_other_entry(r, copy);
    });
}

// Any other row: merge_entry for each entry, in a loop of its own (out of line: the LiteMaaS
// test and key list above cost the flat loop ~3 instructions an entry in registers when inline).
[[gnu::noinline]] void merge_general_row(core::KeyAggregator &agg, const JsonbContainer *root,
                                         const std::string_view column, const DayLabel &row,
                                         entry_fast::ShapeCache &shapes, entry_fast::ShapeCache &metrics_shapes)
{
    entry_fast::FastEntry f;
    EntryValues v;
    walk_entries(root, [&](const WalkedEntry &e) __attribute__((always_inline)) {
        merge_entry(agg, column, row, shapes, metrics_shapes, f, v, e);
    });
}

// Adds one input object's entries (merge_entry), a LiteMaaS row by merge_litemaas_loop.
void accumulate_merge_input(core::KeyAggregator &agg, const Jsonb *obj, const InputRow &day)
{
    const JsonbContainer *root = &obj->root;
    if (!JsonContainerIsObject(root) || JsonContainerIsScalar(root))
        throw_bad_shape(day, "it is not a JSON object");
    DayLabel row(day);
    std::string_view column(day.column);  // once per row, not a strlen per entry
    entry_fast::ShapeCache &shapes = entry_fast::entry_shape_cache();
    entry_fast::ShapeCache &metrics_shapes = entry_fast::metrics_shape_cache();
    if (shapes.litemaas_entry() && metrics_shapes.litemaas_metrics() && JsonContainerSize(root) > 0) {
        entry_fast::FastEntry f;
        EntryValues v;
        const MergeRow r{agg, column, row, shapes, metrics_shapes, f, v};
        const ObjectKeys keys = object_keys(root);
        if (const uint32_t *known = keys.known(agg))
            return merge_litemaas_loop<true>(r, root, known);
        merge_litemaas_loop<false>(r, root, nullptr);
        keys.remember(agg);
        return;
    }
    merge_general_row(agg, root, column, row, shapes, metrics_shapes);
}

// JSONB's key order (lengthCompareJsonbPair): shorter first, then bytewise.
inline bool jsonb_key_less(const char *a, uint32 la, const char *b, uint32 lb)
{
    return la != lb ? la < lb : memcmp(a, b, la) < 0;
}

// An output entry's members: the counts by their metric names, "cost", "days" (in
// out_members(): in JSONB's key order).
constexpr int kOutCost = core::kCountMetrics, kOutDays = core::kCountMetrics + 1, kOutMembers = core::kCountMetrics + 2;
struct OutMember {
    const char *name;
    int len;
    int what;  // a count metric, kOutCost or kOutDays
};
using OutMembers = std::array<OutMember, kOutMembers>;

const OutMembers &out_members()
{
    static const OutMembers members = [] {
        OutMembers m{};
        for (int i = 0; i < kOutMembers; i++) {
            const char *name = i < core::kCountMetrics ? core::metric_name(core::Metric(i)) : i == kOutCost ? "cost" : "days";
            m[i] = OutMember{name, int(strlen(name)), i};
        }
        std::sort(m.begin(), m.end(), [](const OutMember &a, const OutMember &b) {
            return jsonb_key_less(a.name, uint32(a.len), b.name, uint32(b.len));
        });
        return m;
    }();
    return members;
}

// The bytes of the jsonb {key: {member: numeric, ...}} (keys in `order`, members in `members`
// order, both in JSONB's key order; nums[i * kOutMembers + j]: entry i's member j), as
// JsonbValueToJsonb lays out that tree in PostgreSQL 15 (convertJsonbObject, convertJsonbScalar):
// a container is its header (JB_FOBJECT | pairs), the keys' JEntries then the values' (the
// JB_OFFSET_STRIDE-th ones hold the end offset of their element with JENTRY_HAS_OFF, the others
// its length), the key bytes, then the values; numerics and containers start int-aligned, their
// padding (zeros) counted in their length. Writes at out when kWrite (a varlena: its header left
// to the caller) and returns the length, header included.
template <bool kWrite>
size_t merge_result_layout(char *out, const core::Slot *const *order, size_t n, const Numeric *nums,
                           const OutMembers &members)
{
    size_t pos = VARHDRSZ;
    auto put_u32 = [&](size_t at, uint32 v) {
        if (kWrite)
            memcpy(out + at, &v, sizeof v);
    };
    auto pad = [&] {  // before a value (4 bytes or more: its bytes overwrite the rest of the zeros)
        if (kWrite)
            memset(out + pos, 0, sizeof(uint32));
        pos = INTALIGN(pos);
    };
    auto entry = [](uint32 type, uint32 index, uint32 len, uint32 end) {
        return index % JB_OFFSET_STRIDE == 0 ? type | end | JENTRY_HAS_OFF : type | len;
    };
    const size_t root = pos;
    put_u32(root, JB_FOBJECT | uint32(n));
    pos += sizeof(uint32) * (1 + 2 * n);
    const size_t data = pos;
    for (size_t i = 0; i < n; i++) {
        uint32 len = order[i]->key_len;
        if (kWrite)
            memcpy(out + pos, order[i]->key, len);
        pos += len;
        put_u32(root + sizeof(uint32) * (1 + i), entry(JENTRY_ISSTRING, uint32(i), len, uint32(pos - data)));
    }
    constexpr uint32 m = kOutMembers;
    for (size_t i = 0; i < n; i++) {
        const size_t start = pos;
        pad();
        const size_t inner = pos;
        put_u32(inner, JB_FOBJECT | m);
        pos += sizeof(uint32) * (1 + 2 * m);
        const size_t inner_data = pos;
        for (uint32 j = 0; j < m; j++) {
            uint32 len = uint32(members[j].len);
            if (kWrite)
                memcpy(out + pos, members[j].name, len);
            pos += len;
            put_u32(inner + sizeof(uint32) * (1 + j), entry(JENTRY_ISSTRING, j, len, uint32(pos - inner_data)));
        }
        for (uint32 j = 0; j < m; j++) {
            const size_t value = pos;
            pad();
            const Numeric num = nums[i * m + j];
            size_t len = VARSIZE_ANY(num);
            if (kWrite)
                memcpy(out + pos, num, len);
            pos += len;
            put_u32(inner + sizeof(uint32) * (1 + m + j),
                    entry(JENTRY_ISNUMERIC, m + j, uint32(pos - value), uint32(pos - inner_data)));
        }
        put_u32(root + sizeof(uint32) * (1 + n + i),
                entry(JENTRY_ISCONTAINER, uint32(n + i), uint32(pos - start), uint32(pos - data)));
    }
    return pos;
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
    void *mem = palloc_or_throw(cxt, sizeof(MergeState), "ducache_merge's state");
    auto *state = new (mem) MergeState(cxt);
    // The destructor runs when the aggregate's context is reset or deleted.
    auto *cb = static_cast<MemoryContextCallback *>(palloc_or_throw(cxt, sizeof(MemoryContextCallback), "ducache_merge's state"));
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
    auto *out = static_cast<bytea *>(palloc_or_throw(CurrentMemoryContext, VARHDRSZ + len, "ducache_merge's serialized state (bytea)"));
    SET_VARSIZE(out, VARHDRSZ + len);
    memcpy(VARDATA(out), data, len);
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
    // {key: {metric: value, ..., "cost": c, "days": n}}: the keys sorted into JSONB's key order,
    // each member's numeric made, then the bytes laid out here (merge_result_layout). Before:
    // pushJsonbValue, which copied every value into its parse state and sorted the 10,000-key
    // object as it closed (qsort and its compares ~70 % of the final, ~15,000 instructions a key),
    // then JsonbValueToJsonb (~2,700 a key).
    const std::pmr::vector<core::Slot> &slots = state->agg.slots();
    const size_t n = slots.size();
    auto **order = static_cast<const core::Slot **>(palloc_or_throw(CurrentMemoryContext, (n + 1) * sizeof(core::Slot *), "the key order of ducache_merge's result"));
    for (size_t i = 0; i < n; i++)
        order[i] = &slots[i];
    std::sort(order, order + n, [](const core::Slot *a, const core::Slot *b) {
        return jsonb_key_less(a->key, a->key_len, b->key, b->key_len);
    });
    // Each entry's members' numerics in out_members() order: the cost's from its digits
    // (numeric_sum_datum, bytes equal to numeric_in's of the sum's text; it may throw, so not
    // inside pg_call), the counts' and days' by int64_to_numeric.
    const OutMembers &members = out_members();
    auto *nums = static_cast<Numeric *>(palloc_or_throw(CurrentMemoryContext, (n + 1) * kOutMembers * sizeof(Numeric), "the member values of ducache_merge's result"));
    for (size_t i = 0; i < n; i++) {
        if (((i + 1) & 1023) == 0)
            check_for_interrupts();
        for (int j = 0; j < kOutMembers; j++)
            if (members[j].what == kOutCost)
                nums[i * kOutMembers + j] = DatumGetNumeric(numeric_sum_datum(order[i]->totals.cost));
    }
    pg_call([&] {
        for (size_t i = 0; i < n; i++) {
            if (((i + 1) & 1023) == 0)
                CHECK_FOR_INTERRUPTS();
            const core::Totals &t = order[i]->totals;
            for (int j = 0; j < kOutMembers; j++) {
                int what = members[j].what;
                if (what != kOutCost)
                    nums[i * kOutMembers + j] = int64_to_numeric(what < core::kCountMetrics ? t.counts[what] : t.active_days);
            }
        }
    });
    size_t len = merge_result_layout<false>(nullptr, order, n, nums, members);
    // convertJsonbObject's limit (an object's JEntry offsets have 28 bits), and its message.
    const int test_limit = test_jsonb_limit_setting();
    const size_t limit = test_limit > 0 ? std::min(size_t(test_limit), size_t(JENTRY_OFFLENMASK)) : JENTRY_OFFLENMASK;
    if (len - VARHDRSZ > limit)
        throw core::Error("54000", "total size of jsonb object elements exceeds the maximum of " +
                                       std::to_string(limit) + " bytes",
                          "ducache_merge's result has " + std::to_string(n) + " keys and would take " +
                              std::to_string(len - VARHDRSZ) + " bytes.",
                          "Merge a shorter range of dates or fewer keys.");
    char *out = static_cast<char *>(palloc_or_throw(CurrentMemoryContext, len, "ducache_merge's result (jsonb)"));
    merge_result_layout<true>(out, order, n, nums, members);
    SET_VARSIZE(out, len);
    PG_RETURN_JSONB_P(reinterpret_cast<Jsonb *>(out));
}
