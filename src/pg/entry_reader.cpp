#include "core/aggregator.hpp"
#include "core/entry_rules.hpp"
#include "core/error.hpp"
#include "core/error_text.hpp"
#include "core/metrics.hpp"
#include "core/same_bytes.hpp"

#include "pg/date_text.hpp"
#include "pg/entry_reader.hpp"
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

namespace {

// Entries of one breakdown almost always share their key set. Classifying keys is a switch per
// key; comparing the object's key bytes with the previous object's is one memcmp, so the core's
// plan is remembered per object layout and reused while the bytes match.
class ShapeCache {
public:
    const core::EntryPlan &plan(const JsonbObjectView &view)
    {
        const ObjectWalker &walk = view.walker();
        uint32 n = walk.size(), keys_len = walk.key_bytes_len();
        if (head_[0] == (JB_FOBJECT | n) && keys_len == keys_len_ &&
            core::same_bytes(walk.key_entries(), head_ + 1, n * sizeof(JEntry)) &&
            core::same_bytes(walk.key_bytes(), bytes_, keys_len))
            return plan_;
        if (n > kMaxKeys || keys_len > sizeof bytes_) {
            core::plan_entry(view, scratch_);  // too big to remember: planned for this object only
            return scratch_;
        }
        core::plan_entry(view, plan_);
        head_[0] = JB_FOBJECT | n;
        std::memcpy(head_ + 1, walk.key_entries(), n * sizeof(JEntry));
        std::memcpy(bytes_, walk.key_bytes(), keys_len);
        count_ = n;
        keys_len_ = keys_len;
        split_direct_reads();
        return plan_;
    }

    // Whether object c has the remembered layout (then plan_ is its plan): its header, then its
    // header and key JEntries (back to back: one compare), then its key bytes, compared without
    // building a view (no pass over the JEntries). Each compare reads only what the one before
    // showed to be c's: the member count its JEntries, the key JEntries where its key bytes end.
    bool matches(const JsonbContainer *c) const
    {
        return c->header == head_[0] && core::same_bytes(c, head_, (count_ + 1) * sizeof(uint32)) &&
               core::same_bytes(reinterpret_cast<const char *>(&c->children[2 * count_]), bytes_, keys_len_);
    }
    const core::EntryPlan &remembered() const { return plan_; }
    // plan_'s direct reads split for the fast path: the counts' members and metrics, the cost's
    // member (-1: none); direct_ is false when the layout has no direct reads.
    struct DirectReads {
        bool direct = false;
        int32 count_members = 0;
        int32 member[core::kCountMetrics];
        core::Metric metric[core::kCountMetrics];
        int32 cost_member = -1;
        // Every member is a direct read (direct_count == count_: a flat entry, a nested entry's
        // "metrics"): metric_at[j] is member j's metric, read in one pass (read_direct_dense).
        bool dense = false;
        core::Metric metric_at[core::kMetricCount];
    };
    const DirectReads &direct_reads() const { return direct_; }
    // The remembered layout has a username, email or role member.
    bool has_identity() const { return identity_; }
    uint32 count() const { return count_; }
    uint32 keys_len() const { return keys_len_; }

private:
    void split_direct_reads()
    {
        direct_ = DirectReads();
        identity_ = plan_.username >= 0 || plan_.email >= 0 || plan_.role >= 0;
        direct_.direct = plan_.direct_count >= 0;
        for (int32_t r = 0; r < plan_.direct_count; r++) {
            if (plan_.direct[r].metric == core::kCost) {
                direct_.cost_member = plan_.direct[r].member;
            } else {
                direct_.member[direct_.count_members] = plan_.direct[r].member;
                direct_.metric[direct_.count_members++] = plan_.direct[r].metric;
            }
        }
        // plan_.direct lists the members in order: all of them when there are count_.
        direct_.dense = plan_.direct_count >= 1 && uint32(plan_.direct_count) == count_;
        for (int32_t r = 0; direct_.dense && r < plan_.direct_count; r++)
            direct_.metric_at[r] = plan_.direct[r].metric;
    }

    static constexpr uint32 kMaxKeys = 32;
    uint32 count_ = 0, keys_len_ = 0;
    // The container's first 4 * (count_ + 1) bytes: its header (JB_FOBJECT | count_; 0, which
    // matches no object, until a layout is remembered) and its key JEntries (the same key bytes
    // split differently would be another key set).
    uint32 head_[kMaxKeys + 1] = {};
    char bytes_[512];
    core::EntryPlan plan_, scratch_;
    DirectReads direct_;
    bool identity_ = false;
};

ShapeCache entry_shapes, metrics_shapes;  // backend-local; validated byte for byte on each use
// The cell walker's levels (models[M], api_keys[A]) have layouts of their own.
ShapeCache cell_shapes[2], cell_metrics_shapes[2];

// The common entry read straight from its JSONB bytes. An entry almost always has the layout
// of the one before it, and its values are what the core's direct reads take without a second
// look (core::read_direct: each count a small whole number, the cost a finite number, the
// "metrics" object an object, a rollup's "~days" a valid mask). The general path builds an
// ObjectWalker and ObjectValues (two passes over the JEntries), classifies each value through
// ValueKind and reads it through the view: ~700 instructions a flat entry of five metrics
// (cachegrind). Here the layout is compared and the values read by the remembered plan's member
// indexes. Anything else returns false before `out` is trusted, and the caller reads the entry
// the general way, which gives the same values or raises the error.
class FastObject {
public:
    FastObject(const JsonbContainer *c, const ShapeCache &shape)
        : c_(c), n_(shape.count()), base_(reinterpret_cast<const char *>(&c->children[2 * n_]))
    {
        uint32 off = shape.keys_len();
        if (n_ <= JB_OFFSET_STRIDE / 2) {
            // Values' JEntries all below index JB_OFFSET_STRIDE: each holds its length.
            for (uint32 j = 0; j < n_; j++) {
                start_[j] = off;
                off += c->children[n_ + j] & JENTRY_OFFLENMASK;
            }
        } else {
            for (uint32 j = 0; j < n_; j++) {
                start_[j] = off;
                JBE_ADVANCE_OFFSET(off, c->children[n_ + j]);
            }
        }
        start_[n_] = off;
    }
    uint32 type(int32 i) const { return c_->children[n_ + uint32(i)] & JENTRY_TYPEMASK; }
    // Numerics and containers start int-aligned (the JEntry length counts the padding).
    const char *aligned(int32 i) const { return base_ + INTALIGN(start_[i]); }
    std::string_view text(int32 i) const { return {base_ + start_[i], start_[i + 1] - start_[i]}; }

private:
    const JsonbContainer *c_;
    uint32 n_;
    const char *base_;
    uint32 start_[33];
};

// What the breakdown's loop takes of an entry read on the fast path: EntryValues without the
// Decimal (the cost as decode_jsonb_cost gives it, added by DecimalSum::add_scaled); a cost the
// 64-bit form does not hold is decoded into cost_wide (cost_wide_used).
struct FastEntry {
    int64_t counts[core::kCountMetrics];
    int64_t cost_m = 0;
    int cost_scale = 0, cost_dscale = 0;
    bool cost_seen = false, cost_wide_used = false;
    core::Decimal cost_wide;
    std::string_view username, email, role;
    uint32_t days = 1;
};

// The cost at p into either output (false: not a number decode_numeric reads: NaN, Infinity).
inline __attribute__((always_inline)) bool read_cost(const char *p, EntryValues &out)
{
    return decode_jsonb_decimal(p, out.cost);
}
inline __attribute__((always_inline)) bool read_cost(const char *p, FastEntry &out)
{
    if (decode_jsonb_cost(p, out.cost_m, out.cost_scale, out.cost_dscale)) {
        out.cost_wide_used = false;
        return true;
    }
    out.cost_wide_used = true;
    return decode_numeric(p, out.cost_wide);
}

// A layout's direct reads (core::EntryPlan::direct), as core::read_direct reads them.
template <typename Out>
inline __attribute__((always_inline)) bool read_direct_fast(const ShapeCache::DirectReads &d, const FastObject &o, Out &out)
{
    if (!d.direct)
        return false;
    for (int m = 0; m < core::kCountMetrics; m++)
        out.counts[m] = 0;
    for (int32 r = 0; r < d.count_members; r++)
        if (o.type(d.member[r]) != JENTRY_ISNUMERIC ||
            decode_jsonb_count(o.aligned(d.member[r]), out.counts[d.metric[r]]) != core::CountFast::ok)
            return false;
    out.cost_seen = d.cost_member >= 0;
    return !out.cost_seen || (o.type(d.cost_member) == JENTRY_ISNUMERIC && read_cost(o.aligned(d.cost_member), out));
}

// read_direct_fast for a dense layout (DirectReads::dense; count_ <= kMetricCount members, so
// every value JEntry holds its length): one pass over the members computing each value's
// offset, checking its type and decoding it, without a FastObject (Round 7 of issue 13).
template <typename Out>
inline __attribute__((always_inline)) bool read_direct_dense(const JsonbContainer *c, const ShapeCache &shape, Out &out)
{
    const ShapeCache::DirectReads &d = shape.direct_reads();
    const uint32 n = shape.count();
    const JEntry *vje = &c->children[n];
    const char *base = reinterpret_cast<const char *>(&c->children[2 * n]);
    uint32 off = shape.keys_len();
    for (int m = 0; m < core::kCountMetrics; m++)
        out.counts[m] = 0;
    for (uint32 j = 0; j < n; j++) {
        JEntry e = vje[j];
        if ((e & JENTRY_TYPEMASK) != JENTRY_ISNUMERIC)
            return false;
        const char *p = base + INTALIGN(off);  // numerics start int-aligned (the length counts the padding)
        off += e & JENTRY_OFFLENMASK;
        core::Metric metric = d.metric_at[j];
        if (metric == core::kCost) {
            if (!read_cost(p, out))
                return false;
        } else if (decode_jsonb_count(p, out.counts[metric]) != core::CountFast::ok) {
            return false;
        }
    }
    out.cost_seen = d.cost_member >= 0;
    return true;
}

template <typename Out>
inline __attribute__((always_inline)) bool read_entry_fast(const JsonbContainer *c, ShapeCache &shapes, ShapeCache &metrics_shapes, bool rollup,
                     bool want_identity, Out &out)
{
    if (!shapes.matches(c))
        return false;
    if (shapes.direct_reads().dense) {  // a flat entry: no identity, no "~days", no "metrics"
        if (rollup)
            return false;  // a rollup entry without "~days": the general path's error
        out.username = out.email = out.role = {};
        out.days = 1;
        return read_direct_dense(c, shapes, out);
    }
    const core::EntryPlan &plan = shapes.remembered();
    FastObject o(c, shapes);
    out.username = out.email = out.role = {};
    if (want_identity) {
        auto text = [&](int32 i, std::string_view &dst) {
            if (i >= 0 && o.type(i) == JENTRY_ISSTRING)
                dst = o.text(i);
        };
        text(plan.username, out.username);
        text(plan.email, out.email);
        text(plan.role, out.role);
    }
    if (plan.metrics_object >= 0) {
        if (o.type(plan.metrics_object) != JENTRY_ISCONTAINER)
            return false;  // null (then the outer members count), or not an object: the general path
        auto inner = reinterpret_cast<const JsonbContainer *>(o.aligned(plan.metrics_object));
        if (!metrics_shapes.matches(inner))
            return false;
        if (metrics_shapes.direct_reads().dense ? !read_direct_dense(inner, metrics_shapes, out)
                                                : !read_direct_fast(metrics_shapes.direct_reads(), FastObject(inner, metrics_shapes), out))
            return false;
    } else if (!read_direct_fast(shapes.direct_reads(), o, out)) {
        return false;
    }
    out.days = 1;
    if (rollup) {
        int64_t mask;
        if (plan.days_mask < 0 || o.type(plan.days_mask) != JENTRY_ISNUMERIC ||
            decode_jsonb_count(o.aligned(plan.days_mask), mask) != core::CountFast::ok || mask <= 0 ||
            mask > INT32_MAX)
            return false;
        out.days = uint32_t(mask);
    }
    return true;
}

}  // namespace

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
[[gnu::noinline]] void read_entry_general(const JsonbItem &entry, std::string_view column, const core::RowLabel &row,
                                          std::string_view key, bool rollup, bool want_identity, EntryValues &out)
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
}
}  // namespace

void read_entry_at(const JsonbItem &entry, std::string_view column, const core::RowLabel &row, std::string_view key,
                   bool rollup, bool want_identity, EntryValues &out)
{
    if (entry.type == JENTRY_ISCONTAINER &&
        read_entry_fast(reinterpret_cast<const JsonbContainer *>(entry.data), entry_shapes, metrics_shapes, rollup,
                        want_identity, out))
        return;
    read_entry_general(entry, column, row, key, rollup, want_identity, out);
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
// here (each value's end computed once, for its read and for the prefetch before it), the cost
// added to the key's sum from its 64-bit decode (no Decimal), the identity skipped for layouts
// without one.
namespace {
// The key's identity: each non-empty value replaces the last one. The same value as the key's
// last one almost always: compared inline (a library memcmp call each was ~15 instructions a
// string of a nested entry).
inline void keep_identity(core::KeyAggregator &agg, core::Totals &t, std::string_view username,
                          std::string_view email, std::string_view role)
{
    auto keep = [&](std::string_view &dst, std::string_view src) {
        if (!src.empty() && (src.size() != dst.size() || !core::same_bytes(src.data(), dst.data(), src.size())))
            dst = agg.store(src.data(), src.size());
    };
    keep(t.username, username);
    keep(t.email, email);
    keep(t.role, role);
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
    const uint32 n = JsonContainerSize(root);
    if (n == 0)
        return;
    const JEntry *je = root->children;
    const char *base = reinterpret_cast<const char *>(&root->children[2 * n]);
    uint32 key_end = 0;
    for (uint32 i = 0; i < n; i++)  // the keys' lengths add up to where the values start
        JBE_ADVANCE_OFFSET(key_end, je[i]);
    uint32 key_start = 0, val_start = key_end, val_end = key_end;
    key_end = 0;
    JBE_ADVANCE_OFFSET(val_end, je[n]);
    FastEntry f;
    EntryValues v;
    for (uint32 position = 0; position < n; position++) {
        JBE_ADVANCE_OFFSET(key_end, je[position]);
        // The next entry, asked for while this one is read (prefetch_next_entry's lines).
        uint32 next_end = val_end;
        if (position + 1 < n) {
            JBE_ADVANCE_OFFSET(next_end, je[n + position + 1]);
            const char *p = base + val_end;
            uint32 len = next_end - val_end;
            __builtin_prefetch(p);
            __builtin_prefetch(p + 64);
            if (len > 64) {
                __builtin_prefetch(base + next_end - 64);
                if (len > 128) {
                    __builtin_prefetch(base + next_end - 128);
                    if (len > 192) {
                        __builtin_prefetch(base + next_end - 192);
                        if (len > 256)
                            __builtin_prefetch(base + next_end - 256);
                    }
                }
            }
        }
        const char *key = base + key_start;
        uint32 key_len = key_end - key_start;
        JEntry vje = je[n + position];
        agg.prefetch_at(position + 4);
        if ((vje & JENTRY_TYPEMASK) == JENTRY_ISCONTAINER &&
            read_entry_fast(reinterpret_cast<const JsonbContainer *>(base + INTALIGN(val_start)), entry_shapes,
                            metrics_shapes, rollup, want_identity, f)) {
            core::Slot &slot = agg.find_or_insert_at(key, key_len, position);
            core::add_counts_or_throw(slot.totals.counts, f.counts, column, {key, key_len}, row);
            if (f.cost_seen) {
                if (__builtin_expect(!f.cost_wide_used, 1))
                    slot.totals.cost.add_scaled(f.cost_m, f.cost_scale, f.cost_dscale);
                else
                    slot.totals.cost.add(f.cost_wide);
            }
            slot.totals.mark_days(day.day_index, f.days);
            if (want_identity && entry_shapes.has_identity())
                keep_identity(agg, slot.totals, f.username, f.email, f.role);
        } else {
            JsonbItem val;
            ObjectWalker::item(base, vje, val_start, val_end, val);
            std::string_view k(key, key_len);
            read_entry_general(val, column, row, k, rollup, want_identity, v);
            core::Slot &slot = agg.find_or_insert_at(key, key_len, position);
            slot.totals.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, column, k, row);
            slot.totals.mark_days(day.day_index, v.days);
            if (want_identity)
                keep_identity(agg, slot.totals, v.username, v.email, v.role);
        }
        key_start = key_end;
        val_start = val_end;
        val_end = next_end;
        if (((position + 1) & 4095) == 0)
            check_for_interrupts();
    }
}

}  // namespace ducache::pg
