// ducache_merge's input rows read into its aggregator: pg/merge_input.hpp.
#include "core/aggregator.hpp"
#include "core/error.hpp"
#include "core/merge_days.hpp"

#include "pg/merge_input.hpp"

#include "pg/boundary.hpp"
#include "pg/entry_fast.hpp"
#include "pg/entry_reader.hpp"
#include "pg/entry_walk.hpp"
#include "pg/jsonb_object_view.hpp"

#include <string_view>

namespace ducache::pg {
namespace {

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

// merge_entry out of line, for the entries merge_litemaas_loop's and merge_dense_loop's programs
// do not take.
[[gnu::noinline]] void merge_other_entry(const MergeRow &r, const WalkedEntry &e)
{
    merge_entry(r.agg, r.column, r.row, r.shapes, r.metrics_shapes, r.f, r.v, e);
}

// One entry of a day row into its slot from registers, for the merge's own loops
// (merge_litemaas_loop, merge_dense_loop): the day first (past kMaxDays the other path raises
// the error, nothing added here), the counts all or nothing, the cost, one day. False: nothing
// added.
template <typename Counts>
inline __attribute__((always_inline)) bool add_dense_day(core::Slot &slot, const Counts &counts,
                                                         const entry_fast::DenseCost &cost)
{
    const int32_t days = slot.totals.active_days;
    if (__builtin_expect(days >= core::kMaxDays, 0))
        return false;
    if (!counts.add_to(slot.totals.counts))
        return false;
    slot.totals.cost.add_scaled(cost.m, cost.scale, cost.dscale);
    slot.totals.active_days = days + 1;
    return true;
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
                                                        return add_dense_day(slot, counts, cost);
                                                    }),
                                 1))
                return;
        }
        const WalkedEntry copy = kKnown ? entry_key(root, e) : e;
        merge_other_entry(r, copy);
    });
}

// A row read while the remembered layout is dense5 or dense7 (a flat entry of five or seven
// metrics; round 16 of issue 13): the user breakdown's dense loop (pg/entry_reader.cpp's
// accumulate_dense_loop) with the merge's adds, as merge_litemaas_loop is its nested one. The
// layout compared with its length known, the slot found first (kKnown: by the row's key list),
// the counts and cost decoded into registers (read_dense_regs), one day added (a dense layout has
// no "days" member: every member is a metric). Anything else goes to merge_other_entry before
// anything of it is added, which adds it or raises its error.
template <int N, bool kKnown>
[[gnu::noinline]] void merge_dense_loop(const MergeRow &r, const JsonbContainer *root, const uint32_t *known)
{
    core::KeyAggregator &agg = r.agg;
    entry_fast::ShapeCache &shapes = r.shapes;
    walk_entries<!kKnown>(root, [&](const WalkedEntry &e) __attribute__((always_inline)) {
        if (__builtin_expect(e.is_container() && shapes.program() == entry_fast::ShapeCache::dense_program<N>() &&
                                 shapes.matches_n<N>(e.container()),
                             1)) {
            core::Slot &slot =
                kKnown ? agg.slot_at(known[e.position]) : agg.find_or_insert_at(e.key, e.key_len, e.position);
            if (__builtin_expect(entry_fast::read_dense_regs<N>(e.container(), shapes.keys_len(), shapes.count_metrics(),
                                                    [&](const auto &counts, const entry_fast::DenseCost &cost)
                                                        __attribute__((always_inline)) {
                                                        return add_dense_day(slot, counts, cost);
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

}  // namespace

// Adds one input object's entries (merge_entry), a LiteMaaS row by merge_litemaas_loop, a row
// read while the remembered layout is a dense flat one by merge_dense_loop.
void accumulate_merge_input(core::KeyAggregator &agg, const Jsonb *obj, const InputRow &day)
{
    const JsonbContainer *root = &obj->root;
    if (!JsonContainerIsObject(root) || JsonContainerIsScalar(root))
        throw_bad_shape(day, "it is not a JSON object");
    DayLabel row(day);
    std::string_view column(day.column);  // once per row, not a strlen per entry
    entry_fast::ShapeCache &shapes = entry_fast::entry_shape_cache();
    entry_fast::ShapeCache &metrics_shapes = entry_fast::metrics_shape_cache();
    using Program = entry_fast::ShapeCache::Program;
    const bool litemaas = shapes.litemaas_entry() && metrics_shapes.litemaas_metrics();
    const bool dense = shapes.program() == Program::dense5 || shapes.program() == Program::dense7;
    if ((litemaas || dense) && JsonContainerSize(root) > 0) {
        entry_fast::FastEntry f;
        EntryValues v;
        const MergeRow r{agg, column, row, shapes, metrics_shapes, f, v};
        const ObjectKeys keys = object_keys(root);
        const uint32_t *known = keys.known(agg);
        if (litemaas)
            known ? merge_litemaas_loop<true>(r, root, known) : merge_litemaas_loop<false>(r, root, nullptr);
        else if (shapes.program() == Program::dense5)
            known ? merge_dense_loop<5, true>(r, root, known) : merge_dense_loop<5, false>(r, root, nullptr);
        else
            known ? merge_dense_loop<7, true>(r, root, known) : merge_dense_loop<7, false>(r, root, nullptr);
        if (!known)
            keys.remember(agg);
        return;
    }
    merge_general_row(agg, root, column, row, shapes, metrics_shapes);
}

}  // namespace ducache::pg
