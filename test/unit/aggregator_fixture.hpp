// A usage into a KeyAggregator's slot for the aggregator's and ducache_merge's state tests:
// `requests` requests (10x as many tokens, as many successful), a cost from its JSON text, on
// day `day` (test/unit/aggregator_test.cpp, merge_state_test.cpp).
#pragma once

#include "core/aggregator.hpp"
#include "core/metrics.hpp"
#include "core/number.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ut_aggregator_fixture {

inline void add(ducache::core::KeyAggregator &agg, const std::string &key, int64_t requests, const char *cost, int day)
{
    using namespace ducache::core;
    Slot &s = agg.find_or_insert(key.data(), key.size());
    int64_t counts[kCountMetrics] = {requests, requests * 10, 0, 0, requests, 0};
    Decimal d;
    ASSERT_TRUE(parse_json_number(cost, d));
    ASSERT_EQ(s.totals.add(counts, &d), kMetricCount);
    s.totals.mark_day(day);
}

}  // namespace ut_aggregator_fixture
