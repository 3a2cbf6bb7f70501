#include "core/aggregator.hpp"
#include "core/entry_rules.hpp"
#include "core/error.hpp"
#include "core/error_text.hpp"
#include "core/metrics.hpp"
#include "core/same_bytes.hpp"

#include "pg/date_text.hpp"
#include "pg/entry_reader.hpp"
#include "pg/entry_fast.hpp"
#include "pg/entry_identity.hpp"
#include "pg/entry_walk.hpp"
#include "pg/jsonb_object_view.hpp"

#include <cstring>
#include <string>

namespace ducache::pg {

using core::Error;

std::string row_text(const InputRow &day)
{
    if (day.where)
        return day.where;
    return day.rollup ? "the rollup of " + date_text(day.date) : date_text(day.date);
}

using namespace entry_fast;

namespace {

ShapeCache entry_shapes, metrics_shapes;  // backend-local; validated byte for byte on each use
// The cell walker's levels (models[M], api_keys[A]) have layouts of their own.
ShapeCache cell_shapes[2], cell_metrics_shapes[2];

}  // namespace

ShapeCache &entry_fast::entry_shape_cache()
{
    return entry_shapes;
}

ShapeCache &entry_fast::metrics_shape_cache()
{
    return metrics_shapes;
}

void throw_bad_shape(const InputRow &day, const char *what)
{
    throw Error("22023", "invalid " + std::string(day.column) + " on " + row_text(day),
                std::string(day.column) + " on " + row_text(day) + ": " + what + ".");
}

namespace {
// The day mask at member `at` (-1: none), as read_days_mask reads it.
uint32_t read_days_mask_at(const JsonbObjectView &entry, int32 at, const core::EntrySite &site)
{
    if (at < 0)
        core::throw_bad_value(site, "~days", "22023", "a rollup entry has no day mask");
    int64_t mask = 0;
    if (entry.kind(uint32(at)) != core::ValueKind::number)
        core::throw_bad_value(site, "~days", "22023", "the day mask is not a number");
    core::read_count(entry, uint32(at), site, mask);
    if (mask <= 0 || mask > INT32_MAX)
        core::throw_bad_value(site, "~days", "22023", "the day mask is not a whole number of 1 to 2147483647");
    return uint32_t(mask);
}
}  // namespace

uint32_t read_days_mask(const JsonbObjectView &entry, const core::EntrySite &site)
{
    int32 at = -1;
    for (uint32 i = 0; i < entry.size(); i++)
        if (entry.key(i) == "~days") {
            at = int32(i);
            break;
        }
    return read_days_mask_at(entry, at, site);
}

void read_entry(const JsonbItem &entry, const InputRow &day, std::string_view key, bool want_identity,
                EntryValues &out)
{
    DayLabel row(day);
    read_entry_at(entry, day.column, row, key, day.rollup, want_identity, out);
}

namespace {
// read_entry_at past its fast path: the core's rules through a view (every layout, every value,
// every error). Out of line: the loops that call it keep their registers for the fast path.
// Returns the entry's plan (valid until the next plan of an entry).
[[gnu::noinline]] const core::EntryPlan *read_entry_general(const JsonbItem &entry, std::string_view column,
                                                            const core::RowLabel &row, std::string_view key,
                                                            bool rollup, bool want_identity, EntryValues &out)
{
    core::EntrySite site{column, row, key};
    if (!item_is_object(entry))
        core::throw_entry_not_object(site, JsonbObjectView::kind_of(entry));
    JsonbObjectView view(reinterpret_cast<const JsonbContainer *>(entry.data));
    const core::EntryPlan *outer = nullptr;  // the entry's own plan: it knows where "~days" is
    core::read_entry_values(
        view,
        [&outer](const JsonbObjectView &v, bool nested) -> const core::EntryPlan & {
            const core::EntryPlan &p = (nested ? metrics_shapes : entry_shapes).plan(v);
            if (!nested)
                outer = &p;
            return p;
        },
        site, want_identity, out);
    out.days = rollup ? read_days_mask_at(view, outer->days_mask, site) : 1;
    return outer;
}
}  // namespace

namespace {
const core::EntryPlan *last_plan = nullptr;  // read_entry_at's last entry's (last_entry_plan())
}

const core::EntryPlan &last_entry_plan()
{
    return *last_plan;
}

void read_entry_at(const JsonbItem &entry, std::string_view column, const core::RowLabel &row, std::string_view key,
                   bool rollup, bool want_identity, EntryValues &out)
{
    if (entry.type == JENTRY_ISCONTAINER &&
        read_entry_fast(reinterpret_cast<const JsonbContainer *>(entry.data), entry_shapes, metrics_shapes, rollup,
                        want_identity, out)) {
        last_plan = &entry_shapes.remembered();
        return;
    }
    last_plan = read_entry_general(entry, column, row, key, rollup, want_identity, out);
}

void read_cell_entry(const JsonbItem &entry, const core::EntrySite &site, int level, bool rollup, EntryValues &out)
{
    int slot = level > 0 ? 1 : 0;
    if (entry.type == JENTRY_ISCONTAINER &&
        read_entry_fast(reinterpret_cast<const JsonbContainer *>(entry.data), cell_shapes[slot],
                        cell_metrics_shapes[slot], rollup, false, out))
        return;
    if (!item_is_object(entry))
        core::throw_entry_not_object(site, JsonbObjectView::kind_of(entry));
    JsonbObjectView view(reinterpret_cast<const JsonbContainer *>(entry.data));
    const core::EntryPlan *outer = nullptr;
    core::read_entry_values(
        view,
        [slot, &outer](const JsonbObjectView &v, bool nested) -> const core::EntryPlan & {
            const core::EntryPlan &p = (nested ? cell_metrics_shapes[slot] : cell_shapes[slot]).plan(v);
            if (!nested)
                outer = &p;
            return p;
        },
        site, false, out);
    out.days = rollup ? read_days_mask_at(view, outer->days_mask, site) : 1;
}

// for_each_entry's loop with read_entry_at's fast path inlined and the adds in the same loop
// (Round 6 of issue 13): no call and no lambda per entry. The entries read and added, their
// order and every error are for_each_entry's + read_entry_at's: an entry the fast path does not
// take is read by read_entry_general before anything of it is added. Round 7: the object walked
// here (each value's end computed once, for its read and for the prefetch before it; since round
// 11 by walk_entries, pg/entry_walk.hpp, which the other two such loops share), the cost
// added to the key's sum from its 64-bit decode (no Decimal), the identity skipped for layouts
// without one.

namespace {
// One row's reading state, for the entries the dense programs do not take.
struct BreakdownRow {
    core::KeyAggregator &agg;
    const InputRow &day;
    const DayLabel &row;
    std::string_view column;
    bool want_identity;
    FastEntry &f;
    EntryValues &v;
};

// An entry that read_entry_dense did not take: read_entry_matched's fast read when its layout is
// the remembered one (matched), else (or when that fails) the general path. Out of line (round
// 12 of issue 13): the loop keeps its registers for the dense entries.
[[gnu::noinline]] void add_other_entry(const BreakdownRow &r, const WalkedEntry &e, bool matched)
{
    core::KeyAggregator &agg = r.agg;
    FastEntry &f = r.f;
    const bool rollup = r.day.rollup;
    if (matched && read_entry_matched(e.container(), entry_shapes, metrics_shapes, rollup, r.want_identity, f)) {
        core::Slot &slot = agg.find_or_insert_at(e.key, e.key_len, e.position);
        core::add_counts_or_throw(slot.totals.counts, f.counts, r.column, {e.key, e.key_len}, r.row);
        if (f.cost_seen) {
            add_fast_cost(slot.totals.cost, f);
        }
        if (rollup)
            slot.totals.mark_days(r.day.day_index, f.days);
        else  // a day row's entry: its mask is 1 (read_entry_fast), no popcount or clz
            slot.totals.mark_day(r.day.day_index);
        if (r.want_identity && entry_shapes.has_identity())
            keep_identity(agg, slot.totals, f.username, f.email, f.role);
        return;
    }
    EntryValues &v = r.v;
    JsonbItem val;
    e.item(val);
    std::string_view k(e.key, e.key_len);
    read_entry_general(val, r.column, r.row, k, rollup, r.want_identity, v);
    core::Slot &slot = agg.find_or_insert_at(e.key, e.key_len, e.position);
    slot.totals.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, r.column, k, r.row);
    slot.totals.mark_days(r.day.day_index, v.days);
    if (r.want_identity)
        keep_identity(agg, slot.totals, v.username, v.email, v.role);
}
// A dense program's counts (and cost, day, identity) into the key's slot: the breakdown's add
// for read_entry_dense / read_nested_dense (false: nothing added, a sum would pass bigint).
template <typename Counts>
inline __attribute__((always_inline)) bool add_dense_entry(core::KeyAggregator &agg, core::Slot &slot, const FastEntry &f,
                                                           int32 day_index, bool want_identity, const Counts &counts)
{
    if (!counts.add_to(slot.totals.counts))
        return false;
    add_fast_cost(slot.totals.cost, f);
    slot.totals.mark_day(day_index);  // not a rollup row: its mask is 1
    // A nested entry's identity, from its object (a dense one has none).
    if constexpr (Counts::kLiteMaaSEntry) {
        if (want_identity)
            keep_identity_object(agg, slot.totals, *f.object, LiteMaaSEntry::username, LiteMaaSEntry::email,
                                 LiteMaaSEntry::role);
    } else if (want_identity && entry_shapes.program() == ShapeCache::Program::nested) {
        const core::EntryPlan &plan = entry_shapes.remembered();
        keep_identity_object(agg, slot.totals, *f.object, plan.username, plan.email, plan.role);
    }
    return true;
}

// A nested entry (the remembered layout's program is nested), as accumulate_breakdown's loop
// reads a flat one: the layout compared (LiteMaaS' at its sizes), the slot found first, the dense
// read and add, else add_other_entry. kDayRow: the caller knows the row is a day row (not a
// rollup), and r's fields are passed read once a row (round 14 of issue 13: accumulate_nested_row
// reloaded them through r for every entry).
template <bool kDayRow>
inline __attribute__((always_inline)) void add_nested(const BreakdownRow &r, core::KeyAggregator &agg,
                                                      const int32 day_index, const bool want_identity,
                                                      const WalkedEntry &e)
{
    // add_other_entry's argument: a copy made only where it is called, so the loop's entry is
    // not kept in memory for it (round 14 of issue 13).
    auto other = [&](bool matched) __attribute__((always_inline)) {
        const WalkedEntry copy = e;
        add_other_entry(r, copy, matched);
    };
    const JsonbContainer *c = e.container();
    const bool litemaas = entry_shapes.litemaas_entry();
    if (!(litemaas ? entry_shapes.matches_nk<kLiteMaaSEntryMembers, kLiteMaaSEntryKeys>(c) : entry_shapes.matches(c)))
        return other(false);
    if (!kDayRow && r.day.rollup)
        return other(true);
    // LiteMaaS' user ids are UUIDs: the position hint's compare at their 36 bytes.
    core::Slot &slot = litemaas ? agg.find_or_insert_at_len<kLiteMaaSKeyLen>(e.key, e.key_len, e.position)
                                : agg.find_or_insert_at(e.key, e.key_len, e.position);
    FastEntry &f = r.f;
    if (litemaas && metrics_shapes.litemaas_metrics()) {
        // LiteMaaS' layouts (round 14 of issue 13): the cost added from registers, the identity
        // from the outer object as read_litemaas_regs hands it over.
        if (!read_litemaas_regs(c, metrics_shapes, f,
                                [&](const auto &counts, const DenseCost &cost, const LiteMaaSObject &o)
                                    __attribute__((always_inline)) {
                                        if (!counts.add_to(slot.totals.counts))
                                            return false;
                                        slot.totals.cost.add_scaled(cost.m, cost.scale, cost.dscale);
                                        slot.totals.mark_day(day_index);
                                        if (want_identity)
                                            keep_identity_object(agg, slot.totals, o, LiteMaaSEntry::username,
                                                                 LiteMaaSEntry::email, LiteMaaSEntry::role);
                                        return true;
                                    }))
            other(true);
        return;
    }
    if (!read_nested_dense<false>(c, entry_shapes, metrics_shapes, want_identity, f,
                                  [&](const auto &counts) __attribute__((always_inline)) {
                                      return add_dense_entry(agg, slot, f, day_index, want_identity, counts);
                                  }))
        other(true);
}

// A row read while the remembered layout is a nested one (a LiteMaaS day after its first
// entry): a loop of its own, out of line (its own registers), with the nested program inline;
// any other entry by the other ways. Round 13 of issue 13.
// Round 15 of issue 13: the walk asks for the entry 4 places on (kNestedPrefetchAhead; a nested
// row is larger than L2, and the next entry alone came too late from the last level: -17 ms a
// nested year at L). Its slots come by their keys' hints, not by core::KeyAggregator::known_keys
// as the flat dense5 loop's: that compare of the whole key list (36-byte UUIDs: ~400 KB a row,
// both copies read) cost more memory traffic than the hints' compares it saved (+3.5 ms).
[[gnu::noinline]] void accumulate_nested_row(const BreakdownRow &r, const JsonbContainer *root)
{
    core::KeyAggregator &agg = r.agg;
    const int32 day_index = r.day.day_index;
    const bool want_identity = r.want_identity;
    walk_entries<true, kNestedPrefetchAhead>(root, [&](const WalkedEntry &e) __attribute__((always_inline)) {
        if (!e.is_container() || __builtin_expect(entry_shapes.program() != ShapeCache::Program::nested, 0)) {
            const WalkedEntry copy = e;  // the layout changed in the row (or not an object)
            return add_other_entry(r, copy, e.is_container() && entry_shapes.matches(e.container()));
        }
        add_nested<true>(r, agg, day_index, want_identity, e);
    });
}

// add_nested out of line, for a nested entry in the flat entries' loop (round 13 of issue 13:
// that loop keeps its registers and its code as it was).
[[gnu::noinline]] void add_nested_entry(const BreakdownRow &r, const WalkedEntry &e)
{
    add_nested<false>(r, r.agg, r.day.day_index, r.want_identity, e);
}

// add_other_entry for an entry of accumulate_dense_loop that its program did not take: the
// layout compared here (out of line, as the rest of the read).
[[gnu::noinline]] void add_undense_entry(const BreakdownRow &r, const WalkedEntry &e)
{
    add_other_entry(r, e, e.is_container() && entry_shapes.matches(e.container()));
}

// accumulate_breakdown's loop for a row read while the remembered layout is dense5 or dense7 (a
// flat entry of five or seven metrics: round 13 of issue 13; dense7 since round 16). Its own
// function, so the loop holds only the dense program (the general loop holds the nested one and
// four instances of the add, and GCC kept base, the key and agg in stack slots for them): the
// layout compared with its length known, the cost and counts decoded into registers
// (dense_offsets: no pass per member), the cost added from its 64-bit form. Any other entry
// (another layout, a value the program does not take, a cost past 64 bits, a count sum past
// bigint) goes to add_undense_entry, which reads it as the general loop does, adds it or raises
// its error; should the layout change within the row (the general path remembers another),
// every later entry goes there too (the program is tested per entry).
// Round 14 of issue 13: when the row's key list is the last one of its kind (core::KeyAggregator::
// known_keys: one compare of the row's key bytes), each entry's slot is its position's hint,
// with no compare of its key, and the walk does not find the keys (kKnown; an entry the program
// does not take gets its key for add_undense_entry).
// Round 16 of issue 13: seven-metric flat entries read through the general loop (no key lists,
// each decode through FastEntry) cost ~10 ns an entry more than five-metric ones at L.
template <int N, bool kKnown>
[[gnu::noinline]] void accumulate_dense_loop(const BreakdownRow &r, const JsonbContainer *root, const uint32_t *known)
{
    core::KeyAggregator &agg = r.agg;
    const int32_t day_index = r.day.day_index;
    walk_entries<!kKnown>(root, [&](const WalkedEntry &e) __attribute__((always_inline)) {
        if (__builtin_expect(e.is_container() && entry_shapes.program() == ShapeCache::dense_program<N>() &&
                                 entry_shapes.matches_n<N>(e.container()),
                             1)) {
            // The slot first (as the general loop): no call between the decodes and the adds.
            core::Slot &slot =
                kKnown ? agg.slot_at(known[e.position]) : agg.find_or_insert_at(e.key, e.key_len, e.position);
            if (__builtin_expect(read_dense_regs<N>(e.container(), entry_shapes.keys_len(), entry_shapes.count_metrics(),
                                                    [&](const auto &counts, const DenseCost &cost)
                                                        __attribute__((always_inline)) {
                                                            if (!counts.add_to(slot.totals.counts))
                                                                return false;
                                                            slot.totals.cost.add_scaled(cost.m, cost.scale, cost.dscale);
                                                            slot.totals.mark_day(day_index);
                                                            return true;
                                                        }),
                                 1))
                return;
        }
        const WalkedEntry copy = kKnown ? entry_key(root, e) : e;
        add_undense_entry(r, copy);
    });
}
template <int N>
void accumulate_dense(const BreakdownRow &r, const JsonbContainer *root)
{
    if (JsonContainerSize(root) == 0)
        return;
    const ObjectKeys keys = object_keys(root);
    if (const uint32_t *known = keys.known(r.agg))
        return accumulate_dense_loop<N, true>(r, root, known);
    accumulate_dense_loop<N, false>(r, root, nullptr);
    keys.remember(r.agg);
}
}  // namespace

void accumulate_breakdown(core::KeyAggregator &agg, const Jsonb *obj, const InputRow &day, bool want_identity)
{
    if (obj == nullptr)
        return;
    const JsonbContainer *root = &obj->root;
    if (!JsonContainerIsObject(root) || JsonContainerIsScalar(root))
        throw_bad_shape(day, "it is not a JSON object");
    DayLabel row(day);
    std::string_view column(day.column);  // once per row, not a strlen per entry
    const bool rollup = day.rollup;
    if (agg.size() == 0)  // the first row: room for its keys and more (round 14 of issue 13)
        agg.reserve_from_first_object(JsonContainerSize(root));
    FastEntry f;
    EntryValues v;
    const BreakdownRow r{agg, day, row, column, want_identity, f, v};
    if (!rollup && entry_shapes.program() == ShapeCache::Program::dense5)
        return accumulate_dense<5>(r, root);
    if (!rollup && entry_shapes.program() == ShapeCache::Program::dense7)
        return accumulate_dense<7>(r, root);
    // add_other_entry's argument: a copy made only where it is called, so the loop's entry is
    // not kept in memory for it.
    auto other = [&](const WalkedEntry &e, bool matched) __attribute__((always_inline)) {
        const WalkedEntry copy = e;
        add_other_entry(r, copy, matched);
    };
    // A row read while the remembered layout is a nested one (a LiteMaaS day after its first
    // entry): a loop of its own with the nested program inline (any other entry by the other
    // ways, as below). Round 13 of issue 13.
    if (!rollup && entry_shapes.program() == ShapeCache::Program::nested)
        return accumulate_nested_row(r, root);
    walk_entries(root, [&](const WalkedEntry &e) __attribute__((always_inline)) {
        if (!e.is_container())
            return other(e, false);
        if (entry_shapes.program() == ShapeCache::Program::nested) {
            const WalkedEntry copy = e;
            return add_nested_entry(r, copy);
        }
        if (!entry_shapes.matches(e.container()))
            return other(e, false);
        if (rollup || entry_shapes.program() == ShapeCache::Program::general)
            return other(e, true);
        // Round 12 of issue 13: a dense entry, its counts added from registers. The key's slot
        // is found first, so no call lies between the decodes and the adds. Should the fast
        // read fail (or a sum pass bigint), add_other_entry finds the same slot again (the
        // position's hint) and reads the entry the other ways, which add it or raise its error;
        // a slot found for an entry whose read then raises an error is no change, since the
        // error ends the statement (a rollup call's retry starts from a new aggregator).
        core::Slot &slot = agg.find_or_insert_at(e.key, e.key_len, e.position);
        if (!read_entry_dense<false, false>(e.container(), entry_shapes, metrics_shapes, false, want_identity, f,
                                            [&](const auto &counts) __attribute__((always_inline)) {
                                                return add_dense_entry(agg, slot, f, day.day_index, want_identity,
                                                                       counts);
                                            }))
            other(e, true);
    });
}

}  // namespace ducache::pg
