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

KeyClass classify_key(const char *s, size_t len)
{
    auto is = [&](const char *lit) { return std::memcmp(s, lit, len) == 0; };
    auto metric = [](Metric m, int p) { return KeyClass{KeyKind::metric, m, int8_t(p)}; };
    switch (len) {
    case 4:
        if (is("cost")) return metric(kCost, 2);
        if (is("role")) return {KeyKind::role};
        break;
    case 5:
        if (is("spend")) return metric(kCost, 1);
        if (is("email")) return {KeyKind::email};
        break;
    case 6:
        if (is("tokens")) return metric(kTotalTokens, 2);
        break;
    case 7:
        if (is("metrics")) return {KeyKind::metrics_object};
        break;
    case 8:
        if (is("requests")) return metric(kRequests, 2);
        if (is("username")) return {KeyKind::username};
        break;
    case 9:
        if (is("totalCost")) return metric(kCost, 0);
        break;
    case 11:
        if (is("totalTokens")) return metric(kTotalTokens, 0);
        break;
    case 12:
        if (is("api_requests")) return metric(kRequests, 1);
        if (is("total_tokens")) return metric(kTotalTokens, 1);
        if (is("promptTokens")) return metric(kPromptTokens, 0);
        break;
    case 13:
        if (is("totalRequests")) return metric(kRequests, 0);
        if (is("prompt_tokens")) return metric(kPromptTokens, 1);
        break;
    case 14:
        if (is("failedRequests")) return metric(kFailedRequests, 0);
        break;
    case 15:
        if (is("failed_requests")) return metric(kFailedRequests, 1);
        break;
    case 16:
        if (is("completionTokens")) return metric(kCompletionTokens, 0);
        break;
    case 17:
        if (is("completion_tokens")) return metric(kCompletionTokens, 1);
        break;
    case 18:
        if (is("successfulRequests")) return metric(kSuccessfulRequests, 0);
        break;
    case 19:
        if (is("successful_requests")) return metric(kSuccessfulRequests, 1);
        break;
    }
    return {};
}

}  // namespace ducache::core
