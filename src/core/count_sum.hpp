// The one overflow-checked sum of bigint counts, and its one error. Every path that adds
// counts (per-key breakdowns, the daily trend, the period totals, merging partial states)
// goes through add_counts and reports with throw_count_overflow.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/error_text.hpp"
#include "core/metrics.hpp"

#include <cstdint>
#include <string_view>

namespace ducache::core {

// Adds in[] into acc[], all or nothing. Returns the first metric whose sum would pass bigint
// (acc unchanged then), or kMetricCount when every count went in.
inline Metric add_counts(int64_t acc[kCountMetrics], const int64_t in[kCountMetrics])
{
    // Every sum first with one branch for all six (they almost never overflow); the first
    // metric that does is looked for only then.
    int64_t next[kCountMetrics];
    bool over = false;
    for (int m = 0; m < kCountMetrics; m++)
        over |= __builtin_add_overflow(acc[m], in[m], &next[m]);
    if (__builtin_expect(over, 0)) {
        for (int m = 0; m < kCountMetrics; m++)
            if (__builtin_add_overflow(acc[m], in[m], &next[m]))
                return Metric(m);
    }
    for (int m = 0; m < kCountMetrics; m++)
        acc[m] = next[m];
    return kMetricCount;
}

// SQLSTATE 22003:
//   bigint out of range summing <what> for key "<key>", field "<metric>"
//   DETAIL:  The sum passes 9223372036854775807 on <where>.
[[noreturn]] void throw_count_overflow(std::string_view what, std::string_view key, Metric metric,
                                       const RowLabel &where);

// add_counts, raising the error above when a sum would pass bigint.
inline void add_counts_or_throw(int64_t acc[kCountMetrics], const int64_t in[kCountMetrics], std::string_view what,
                                std::string_view key, const RowLabel &where)
{
    Metric m = add_counts(acc, in);
    if (m != kMetricCount)
        throw_count_overflow(what, key, m, where);
}

}  // namespace ducache::core
