// Reads the breakdown objects of daily_usage_cache ({key: entry, ...}) in their binary form.
// The rules (aliases, the nested "metrics" object, counts, numbers as strings) are the core's
// (core/entry_rules.hpp); this file walks JSONB and caches one plan per object layout. Bad
// values throw core::Error whose message names the date, the key and the field.
#pragma once

#include "core/aggregator.hpp"
#include "core/decimal.hpp"
#include "core/metrics.hpp"

#include "pg/boundary.hpp"
#include "pg/jsonb_view.hpp"
#include "pg/postgres.hpp"

#include <string_view>

namespace ducache::core {
struct EntryPlan;
struct EntrySite;
}

namespace ducache::pg {

class JsonbObjectView;

// The row being read, for messages and active days: a cached day, a month rollup
// (ducache_rollups, CONTRACT §7), or an input row of ducache_merge (then `where` describes it,
// "input row 3").
struct InputRow {
    DateADT date;        // the day; a rollup: the month's first day
    int32_t day_index;   // the row's day offset base (date - scan start; merge: its position):
                         // distinct per row, increasing; an entry covers base + bit of its days
    const char *column;  // for messages: "aggregated_by_user", ...
    const char *where = nullptr;  // names the row instead of `date` when there is none (aggregates)
    bool rollup = false;  // a rollup row: every entry and cell carries its "~days" mask
};

// The "~days" mask of a rollup entry or cell: a whole number of 1..2^31-1 (bit d-1: day d of
// the month), else 22023 naming the site. Read only in rollup rows (the user data of a day
// row may hold any key).
uint32_t read_days_mask(const JsonbObjectView &entry, const core::EntrySite &site);

// "2025-10-14", or the row's own description.
std::string row_text(const InputRow &day);

// The row of an entry for the core's messages, rendered only when an error is raised.
class DayLabel final : public core::RowLabel {
public:
    explicit DayLabel(const InputRow &day) : day_(day) {}
    std::string text() const override { return row_text(day_); }

private:
    const InputRow &day_;
};

// One entry's values (the core's: core/metrics.hpp).
using EntryValues = core::EntryValues;

// Parses one entry (the value under `key`) into out.
void read_entry(const JsonbItem &entry, const InputRow &day, std::string_view key, bool want_identity,
                EntryValues &out);
// The same with the row's parts already built (the loops below build them once per row, not
// per entry: the column's strlen, the label). rollup: the row is a rollup.
void read_entry_at(const JsonbItem &entry, std::string_view column, const core::RowLabel &row, std::string_view key,
                   bool rollup, bool want_identity, EntryValues &out);

// The layout plan (core::plan_entry) of the entry read_entry_at() read last, valid until the
// next read of an entry: its member indexes are the entry's own (e.g. a rollup user entry's
// "~identity", "~keycost", "~keymag", which the dashboard then does not search for).
const core::EntryPlan &last_entry_plan();

// Parses one usage cell below a user entry (level 1: models[M], 2: models[M].api_keys[A])
// with plan caches of its own; site names the cell in messages. No identity. rollup: the
// cell's row is a rollup (out.days is then its "~days", else 1).
void read_cell_entry(const JsonbItem &entry, const core::EntrySite &site, int level, bool rollup, EntryValues &out);
// A cell of a day row.
inline void read_cell_entry(const JsonbItem &entry, const core::EntrySite &site, int level, EntryValues &out)
{
    read_cell_entry(entry, site, level, false, out);
}

[[noreturn]] void throw_bad_shape(const InputRow &day, const char *what);

// A detoasted row is bigger than L2 and an entry is read in ~100 ns or more: ask for the next
// entry while this one is read. Its head (JEntries, keys) and its last bytes: members are
// stored by key length, so a nested entry's "metrics" and identity lie after its long "models".
inline void prefetch_next_entry(const ObjectWalker &walk)
{
    uint32 start, end;
    if (!walk.peek_value(start, end))
        return;
    const char *p = walk.data_area();
    __builtin_prefetch(p + start);
    __builtin_prefetch(p + start + 64);
    for (uint32 back = 64; back <= 256 && back < end - start; back += 64)
        __builtin_prefetch(p + end - back);
}

// Calls f(key, values, position, item) for every entry of a breakdown object; item is the
// entry itself (an object: read_entry checked it). obj may be NULL (no call).
template <typename F>
void for_each_entry_item(const Jsonb *obj, const InputRow &day, bool want_identity, F &&f)
{
    if (obj == nullptr)
        return;
    const JsonbContainer *root = &obj->root;
    if (!JsonContainerIsObject(root) || JsonContainerIsScalar(root))
        throw_bad_shape(day, "it is not a JSON object");
    ObjectWalker walk(root);
    JsonbItem key, val;
    EntryValues values;
    DayLabel row(day);
    std::string_view column(day.column);
    uint32 n = 0;
    while (walk.next(key, val)) {
        prefetch_next_entry(walk);
        std::string_view k(key.data, key.len);
        read_entry_at(val, column, row, k, day.rollup, want_identity, values);
        f(k, values, n, val);
        if ((++n & 4095) == 0)
            check_for_interrupts();
    }
}

// The same without the item: f(key, values, position).
template <typename F>
void for_each_entry(const Jsonb *obj, const InputRow &day, bool want_identity, F &&f)
{
    for_each_entry_item(obj, day, want_identity,
                        [&](std::string_view k, const EntryValues &v, uint32 n, const JsonbItem &) { f(k, v, n); });
}

// The common case: add every entry into a per-key aggregator (and mark the day active).
void accumulate_breakdown(core::KeyAggregator &agg, const Jsonb *obj, const InputRow &day,
                          bool want_identity);

}  // namespace ducache::pg
