// The metrics object every rollup entry carries: the seven metrics under their preferred
// alias names, counts as integers, the cost as its exact decimal text.
#include "core/rollup_builder.hpp"

namespace ducache::core {

const char *canonical_metric_name(Metric m)
{
    static const char *const names[] = {"totalRequests",      "totalTokens",    "promptTokens", "completionTokens",
                                        "successfulRequests", "failedRequests", "totalCost"};
    return m >= 0 && m < kMetricCount ? names[m] : "?";
}

void write_canonical_metrics(JsonSink &w, const int64_t counts[kCountMetrics], const DecimalSum &cost)
{
    w.begin_object();
    for (int m = 0; m < kCountMetrics; m++) {
        w.key(canonical_metric_name(Metric(m)));
        w.integer(counts[m]);
    }
    w.key(canonical_metric_name(kCost));
    w.decimal_sum(cost);
    w.end_object();
}

}  // namespace ducache::core
