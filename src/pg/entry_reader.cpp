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
        if (n == count_ && keys_len == keys_len_ && core::same_bytes(walk.key_entries(), entries_, n * sizeof(JEntry)) &&
            core::same_bytes(walk.key_bytes(), bytes_, keys_len))
            return plan_;
        if (n > kMaxKeys || keys_len > sizeof bytes_) {
            core::plan_entry(view, scratch_);  // too big to remember: planned for this object only
            return scratch_;
        }
        core::plan_entry(view, plan_);
        std::memcpy(entries_, walk.key_entries(), n * sizeof(JEntry));
        std::memcpy(bytes_, walk.key_bytes(), keys_len);
        count_ = n;
        keys_len_ = keys_len;
        return plan_;
    }

private:
    static constexpr uint32 kMaxKeys = 32;
    uint32 count_ = UINT32_MAX, keys_len_ = 0;
    char bytes_[512];
    JEntry entries_[kMaxKeys];  // the same bytes split differently would be another key set
    core::EntryPlan plan_, scratch_;
};

ShapeCache entry_shapes, metrics_shapes;  // backend-local; validated byte for byte on each use
// The cell walker's levels (models[M], api_keys[A]) have layouts of their own.
ShapeCache cell_shapes[2], cell_metrics_shapes[2];

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

void read_entry_at(const JsonbItem &entry, std::string_view column, const core::RowLabel &row, std::string_view key,
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
}

void read_cell_entry(const JsonbItem &entry, const core::EntrySite &site, int level, bool rollup, EntryValues &out)
{
    if (!item_is_object(entry))
        core::throw_entry_not_object(site, JsonbObjectView::kind_of(entry));
    JsonbObjectView view(reinterpret_cast<const JsonbContainer *>(entry.data));
    int slot = level > 0 ? 1 : 0;
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

void accumulate_breakdown(core::KeyAggregator &agg, const Jsonb *obj, const InputRow &day, bool want_identity)
{
    DayLabel row(day);
    std::string_view column(day.column);  // once per row, not a strlen per entry
    for_each_entry(obj, day, want_identity, [&](std::string_view key, const EntryValues &v, uint32 position) {
        agg.prefetch_at(position + 4);
        core::Slot &slot = agg.find_or_insert_at(key.data(), key.size(), position);
        slot.totals.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, column, key, row);
        slot.totals.mark_days(day.day_index, v.days);
        if (want_identity) {
            auto keep = [&](std::string_view &dst, std::string_view src) {
                if (!src.empty() && src != dst)
                    dst = agg.store(src.data(), src.size());
            };
            keep(slot.totals.username, v.username);
            keep(slot.totals.email, v.email);
            keep(slot.totals.role, v.role);
        }
    });
}

}  // namespace ducache::pg
