#include "core/metrics.hpp"

#include <cstring>

namespace ducache::core {

const char *metric_name(Metric m)
{
    static const char *const names[] = {"requests",           "total_tokens",    "prompt_tokens",
                                        "completion_tokens", "successful_requests",
                                        "failed_requests",   "cost"};
    return m >= 0 && m < kMetricCount ? names[m] : "?";
}

}  // namespace ducache::core
