// How many days one ducache_merge input entry stands for (CONTRACT §6: merging is closed under
// composition). ducache_merge writes {"days": n} into every entry it outputs, so an entry that
// carries a "days" member is a partial result standing for n days, and merging such outputs
// (per month, per shard, any grouping of disjoint day sets) must add n, not 1.
//
// The rule, over any ObjectView (core/object_view.hpp):
//  - only the entry's own top-level "days" member counts (where ducache_merge writes it; a
//    "days" inside a nested "metrics" object is not a day count);
//  - absent or JSON null: the entry is one day (a row of daily_usage_cache);
//  - a JSON number, or a string holding a JSON number literal (as for the metrics, §2), that
//    is a whole number from 0 to 2147483647 (12.0 is 12): that many days;
//  - anything else is an error naming the row, the key and the field "days": a fractional,
//    negative or larger value, a boolean, object or array (22023); a string that is not a
//    number literal (22P02, as for the metrics).
// Sums of days that pass 2147483647 (the integer the breakdowns report active_days in) are
// 22003, like the count sums.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"
#include "core/decimal.hpp"
#include "core/entry_rules.hpp"
#include "core/error_text.hpp"
#include "core/object_view.hpp"

#include <cstdint>
#include <string_view>

namespace ducache::core {

constexpr int64_t kMaxDays = INT32_MAX;

// 22023: the "days" member is a whole number outside 0..kMaxDays (value known), or a number
// too large to name.
[[noreturn]] void throw_days_out_of_range(const EntrySite &site, const int64_t *value);
// 22003: adding `days` to the key's running sum `acc` passes kMaxDays.
[[noreturn]] void throw_days_overflow(std::string_view key, int64_t acc, int64_t days, const RowLabel &where);

// The member index of "days" in `entry`, -1 when absent (a linear look: entries are small).
template <typename View>
int32_t find_days_member(const View &entry)
{
    uint32_t n = entry.size();
    for (uint32_t i = 0; i < n; i++)
        if (entry.key(i) == kDaysField)
            return int32_t(i);
    return -1;
}

// The day count of an entry whose "days" member sits at index `at` (-1: absent).
template <typename View>
int32_t entry_days(const View &entry, int32_t at, const EntrySite &site)
{
    if (at < 0 || entry.is_null(uint32_t(at)))
        return 1;
    uint32_t i = uint32_t(at);
    int64_t n = 0;
    if (!(entry.kind(i) == ValueKind::number && entry.count(i, n) == CountFast::ok)) {
        Decimal d;
        read_decimal(entry, i, site, d);  // 22023 / 22P02 for what is not a number at all
        switch (d.to_int64(n)) {
        case Decimal::IntStatus::ok:
            break;
        case Decimal::IntStatus::fractional:
            throw_bad_value(site, kDaysField, "22023", "a day count must be a whole number");
        case Decimal::IntStatus::out_of_range:
            throw_days_out_of_range(site, nullptr);
        }
    }
    if (n < 0 || n > kMaxDays)
        throw_days_out_of_range(site, &n);
    return int32_t(n);
}

// Adds `days` to a key's day sum (Totals::active_days), or raises throw_days_overflow.
inline void add_days_or_throw(int32_t &acc, int64_t days, std::string_view key, const RowLabel &where)
{
    int64_t sum = int64_t(acc) + days;
    if (days < 0 || sum > kMaxDays)
        throw_days_overflow(key, acc, days, where);
    acc = int32_t(sum);
}

// Adds every key of `from` into `into` (partial states cover disjoint rows: counts, costs and
// days add), with the count and day overflow checks. The merge aggregate's combine step.
void combine_merge_states(KeyAggregator &into, const KeyAggregator &from);

}  // namespace ducache::core
