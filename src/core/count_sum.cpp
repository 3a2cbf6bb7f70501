#include "core/count_sum.hpp"

#include "core/error.hpp"

namespace ducache::core {

void throw_count_overflow(std::string_view what, std::string_view key, Metric metric, const RowLabel &where)
{
    throw Error("22003",
                "bigint out of range summing " + std::string(what) + " for key " + quoted(key) + ", field \"" +
                    metric_name(metric) + "\"",
                "The sum passes 9223372036854775807 on " + where.text() + ".");
}

}  // namespace ducache::core
