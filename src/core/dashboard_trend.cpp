#include "core/dashboard_trend.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace ducache::core {

namespace {

// Plain decimal text -> mantissa * 10^-scale; false when it does not fit 36 digits.
bool parse_fixed(std::string_view s, __int128 &mantissa, int &scale)
{
    bool neg = !s.empty() && s[0] == '-';
    if (neg)
        s.remove_prefix(1);
    mantissa = 0;
    scale = 0;
    int digits = 0;
    bool frac = false;
    for (char c : s) {
        if (c == '.') {
            frac = true;
            continue;
        }
        if (c < '0' || c > '9')
            return false;
        if (mantissa == 0 && c == '0' && !frac)
            ;  // leading zero
        else if (++digits > 36)
            return false;
        mantissa = mantissa * 10 + (c - '0');
        if (frac)
            scale++;
    }
    if (scale > 36)
        return false;
    if (neg)
        mantissa = -mantissa;
    return true;
}

bool scale_up(__int128 &v, int by)
{
    for (int i = 0; i < by; i++)
        if (__builtin_mul_overflow(v, __int128(10), &v))
            return false;
    return true;
}

std::string int128_text(__int128 v)
{
    if (v == 0)
        return "0";
    bool neg = v < 0;
    unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
    std::string s;
    while (u) {
        s.insert(s.begin(), char('0' + int(u % 10)));
        u /= 10;
    }
    return neg ? "-" + s : s;
}

// hundredths (a rounded percentage * 100) as "12.35".
std::string hundredths_text(__int128 q)
{
    bool neg = q < 0;
    __int128 a = neg ? -q : q;
    std::string frac = int128_text(a % 100);
    if (frac.size() < 2)
        frac.insert(frac.begin(), '0');
    return (neg ? "-" : "") + int128_text(a / 100) + "." + frac;
}

TrendChange approximate(std::string_view current, std::string_view previous)
{
    long double c = std::strtold(std::string(current).c_str(), nullptr);
    long double p = std::strtold(std::string(previous).c_str(), nullptr);
    long double change = (c - p) / p * 100;
    const char *dir = std::fabs((double)change) <= 1.0 ? "stable" : (change > 0 ? "up" : "down");
    long double r = std::round(change * 100) / 100;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2Lf", r);
    return {buf, dir};
}

}  // namespace

TrendChange trend_change(std::string_view current, std::string_view previous)
{
    __int128 a, b;
    int sa, sb;
    if (!parse_fixed(current, a, sa) || !parse_fixed(previous, b, sb))
        return approximate(current, previous);
    if (b == 0)
        return a > 0 ? TrendChange{"100", "up"} : TrendChange{"0", "stable"};
    int scale = sa > sb ? sa : sb;
    if (!scale_up(a, scale - sa) || !scale_up(b, scale - sb))
        return approximate(current, previous);
    __int128 d, d100, d10000;
    if (__builtin_sub_overflow(a, b, &d) || __builtin_mul_overflow(d, __int128(100), &d100) ||
        __builtin_mul_overflow(d, __int128(10000), &d10000))
        return approximate(current, previous);
    __int128 abs_b = b < 0 ? -b : b;
    __int128 abs_d100 = d100 < 0 ? -d100 : d100;
    bool positive = (d > 0) == (b > 0);
    const char *dir = abs_d100 <= abs_b ? "stable" : (positive ? "up" : "down");
    // change * 100 = d * 10000 / b, rounded half away from zero
    __int128 q = d10000 / b, r = d10000 % b;
    if (r != 0) {
        __int128 abs_r = r < 0 ? -r : r;
        if (abs_r >= abs_b - abs_r)
            q += positive ? 1 : -1;
    }
    return {hundredths_text(q), dir};
}

void write_empty_dashboard(JsonSink &w, std::string_view start, std::string_view end)
{
    w.begin_object();
    w.key("period"), w.begin_object(), w.key("startDate"), w.string(start), w.key("endDate"), w.string(end);
    w.end_object();
    w.key("totalUsers"), w.integer(0);
    w.key("activeUsers"), w.integer(0);
    w.key("totalRequests"), w.integer(0);
    w.key("totalTokens"), w.begin_object();
    for (const char *k : {"total", "prompt", "completion"})
        w.key(k), w.integer(0);
    w.end_object();
    w.key("totalCost"), w.begin_object(), w.key("total"), w.integer(0);
    for (const char *k : {"byProvider", "byModel", "byUser"})
        w.key(k), w.begin_object(), w.end_object();
    w.end_object();
    w.key("successRate"), w.integer(0);
    w.key("averageLatency"), w.integer(0);
    w.key("topMetrics"), w.begin_object();
    for (const char *k : {"topUser", "topModel", "topApiKey"})
        w.key(k), w.null();
    w.end_object();
    w.key("trends"), w.begin_object();
    const char *names[][2] = {{"requestsTrend", "requests"},        {"costTrend", "cost"},
                              {"usersTrend", "users"},              {"totalTokensTrend", "totalTokens"},
                              {"promptTokensTrend", "promptTokens"}, {"completionTokensTrend", "completionTokens"}};
    for (auto &n : names) {
        w.key(n[0]), w.begin_object(), w.key("metric"), w.string(n[1]);
        w.key("current"), w.integer(0), w.key("previous"), w.integer(0);
        w.key("percentageChange"), w.integer(0), w.key("direction"), w.string("stable");
        w.end_object();
    }
    w.end_object();
    for (const char *k : {"dailyUsage", "dailyModelUsage", "topModels", "topUsers"})
        w.key(k), w.begin_array(), w.end_array();
    w.end_object();
}

}  // namespace ducache::core
