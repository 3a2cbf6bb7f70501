#include "core/merge_days.hpp"

#include "core/count_sum.hpp"
#include "core/error.hpp"

#include <string>

namespace ducache::core {

void throw_days_out_of_range(const EntrySite &site, const int64_t *value)
{
    std::string problem = "a day count must be a whole number from 0 to " + std::to_string(kMaxDays);
    if (value)
        problem += ", not " + std::to_string(*value);
    throw_bad_value(site, kDaysField, "22023", problem);
}

void throw_days_overflow(std::string_view key, int64_t acc, int64_t days, const RowLabel &where)
{
    throw Error("22003", "integer out of range summing days for key " + quoted(key),
                "The day count " + std::to_string(acc) + " + " + std::to_string(days) + " passes " +
                    std::to_string(kMaxDays) + " on " + where.text() + ".");
}

void combine_merge_states(KeyAggregator &into, const KeyAggregator &from)
{
    const FixedLabel where("the combine of parallel partial results");  // named only on overflow
    for (const Slot &o : from.slots()) {
        Slot &s = into.find_or_insert(o.key, o.key_len);
        // Check the days first: an error leaves the counts of this key unchanged too.
        int32_t days = s.totals.active_days;
        add_days_or_throw(days, o.totals.active_days, o.key_view(), where);
        add_counts_or_throw(s.totals.counts, o.totals.counts, "partial results", o.key_view(), where);
        s.totals.cost.add(o.totals.cost);
        s.totals.active_days = days;
    }
}

}  // namespace ducache::core
