// The seven usage metrics and the JSON keys that name them. Two entry shapes exist (flat
// camelCase, LiteMaaS's snake_case inside "metrics"); the alias table is CONTRACT §2's,
// in priority order: when an entry has two aliases of one metric, the first listed wins.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/decimal.hpp"

#include <cstddef>
#include <cstdint>

namespace ducache::core {

enum Metric : int8_t {
    kRequests = 0,
    kTotalTokens,
    kPromptTokens,
    kCompletionTokens,
    kSuccessfulRequests,
    kFailedRequests,
    kCost,  // the only decimal metric; the others are bigint counts
    kMetricCount
};
constexpr int kCountMetrics = 6;  // metrics 0..5 are counts

// Contract names of the metrics, as ducache_merge prints them.
const char *metric_name(Metric m);

// What an entry key is. For metrics, `priority` is the alias's rank (0 = preferred).
enum class KeyKind : int8_t { none, metric, metrics_object, username, email, role };
struct KeyClass {
    KeyKind kind = KeyKind::none;
    Metric metric = kRequests;
    int8_t priority = 0;
};

// Switch on length, then compare bytes: no hashing, no allocation.
KeyClass classify_key(const char *s, size_t len);

// Checked bigint addition for counts.
inline bool add_count(int64_t &acc, int64_t v)
{
    return !__builtin_add_overflow(acc, v, &acc);
}

}  // namespace ducache::core
