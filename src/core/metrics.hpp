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
#include <cstring>
#include <string_view>

namespace ducache::core {

// Members a rollup's user_totals entry carries beside its metrics (CONTRACT §7): its identity
// (core/rollup_identity.hpp) and its key bounds (core/key_bounds.hpp).
constexpr std::string_view kIdentityMember = "~identity", kKeyCostMember = "~keycost", kKeyMagMember = "~keymag";
// The member in which ducache_merge outputs carry the days an entry stands for (CONTRACT §6,
// core/merge_days.hpp).
constexpr std::string_view kDaysField = "days";

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

// Switch on length, then compare a constant number of bytes (inlined by the compiler): no
// hashing, no allocation. It runs for every key of every entry, so it lives in the header.
inline KeyClass classify_key(const char *s, size_t len)
{
#define DUCACHE_IS(lit) (std::memcmp(s, lit, sizeof(lit) - 1) == 0)
    auto metric = [](Metric m, int p) { return KeyClass{KeyKind::metric, m, int8_t(p)}; };
    switch (len) {
    case 4:
        if (DUCACHE_IS("cost")) return metric(kCost, 2);
        if (DUCACHE_IS("role")) return {KeyKind::role};
        break;
    case 5:
        if (DUCACHE_IS("spend")) return metric(kCost, 1);
        if (DUCACHE_IS("email")) return {KeyKind::email};
        break;
    case 6:
        if (DUCACHE_IS("tokens")) return metric(kTotalTokens, 2);
        break;
    case 7:
        if (DUCACHE_IS("metrics")) return {KeyKind::metrics_object};
        break;
    case 8:
        if (DUCACHE_IS("requests")) return metric(kRequests, 2);
        if (DUCACHE_IS("username")) return {KeyKind::username};
        break;
    case 9:
        if (DUCACHE_IS("totalCost")) return metric(kCost, 0);
        break;
    case 11:
        if (DUCACHE_IS("totalTokens")) return metric(kTotalTokens, 0);
        break;
    case 12:
        if (DUCACHE_IS("api_requests")) return metric(kRequests, 1);
        if (DUCACHE_IS("total_tokens")) return metric(kTotalTokens, 1);
        if (DUCACHE_IS("promptTokens")) return metric(kPromptTokens, 0);
        break;
    case 13:
        if (DUCACHE_IS("totalRequests")) return metric(kRequests, 0);
        if (DUCACHE_IS("prompt_tokens")) return metric(kPromptTokens, 1);
        break;
    case 14:
        if (DUCACHE_IS("failedRequests")) return metric(kFailedRequests, 0);
        break;
    case 15:
        if (DUCACHE_IS("failed_requests")) return metric(kFailedRequests, 1);
        break;
    case 16:
        if (DUCACHE_IS("completionTokens")) return metric(kCompletionTokens, 0);
        break;
    case 17:
        if (DUCACHE_IS("completion_tokens")) return metric(kCompletionTokens, 1);
        break;
    case 18:
        if (DUCACHE_IS("successfulRequests")) return metric(kSuccessfulRequests, 0);
        break;
    case 19:
        if (DUCACHE_IS("successful_requests")) return metric(kSuccessfulRequests, 1);
        break;
    }
#undef DUCACHE_IS
    return {};
}

// The metric columns of the SQL results, in output order (CONTRACT §3: total_requests,
// total_tokens, prompt_tokens, completion_tokens, total_cost, successful_requests,
// failed_requests). ducache_daily_trend prints the first kTrendColumns of them.
constexpr Metric kOutputColumns[kMetricCount] = {kRequests,        kTotalTokens, kPromptTokens,
                                                 kCompletionTokens, kCost,        kSuccessfulRequests,
                                                 kFailedRequests};
constexpr int kTrendColumns = 5;

// One entry's values, as core/entry_rules.hpp reads them. cost_seen is false when no cost
// alias held a value.
struct EntryValues {
    int64_t counts[kCountMetrics];
    Decimal cost;
    bool cost_seen;
    std::string_view username, email, role;  // empty when absent or not a string
    // The days the entry covers, relative to its row: 1 in a day row (that day); in a rollup
    // row its "~days" (bit d-1: day d of the month). The adapter sets it.
    uint32_t days = 1;
};

// Checked bigint addition of one count (core/count_sum.hpp adds a whole entry's counts).
inline bool add_count(int64_t &acc, int64_t v)
{
    return !__builtin_add_overflow(acc, v, &acc);
}

}  // namespace ducache::core
