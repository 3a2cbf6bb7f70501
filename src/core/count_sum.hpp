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

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ducache::core {

// Adds in[] into acc[], all or nothing. Returns the first metric whose sum would pass bigint
// (acc unchanged then), or kMetricCount when every count went in. Always inlined: it runs for
// every entry (~430K a 90-day dashboard), and GCC stopped inlining it into the dashboard's
// walks when the core's unity unit grew (round 15: +21 M instructions a call).
inline __attribute__((always_inline)) Metric add_counts(int64_t acc[kCountMetrics], const int64_t in[kCountMetrics])
{
    static_assert(kCountMetrics == 6, "three pairs of counts below");
#if defined(__SSE2__)
    // Every sum first, two a step in wrapping arithmetic, with one branch for all six (they
    // almost never overflow): a sum overflowed when its sign differs from both addends', i.e.
    // the sign bit of (a ^ s) & (b ^ s). The first metric that does is looked for only then.
    // (Round 6 of issue 13: ~25 instructions instead of ~60.)
    __m128i s[3], bad = _mm_setzero_si128();
    for (int k = 0; k < 3; k++) {
        __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(acc + 2 * k));
        __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(in + 2 * k));
        s[k] = _mm_add_epi64(a, b);
        bad = _mm_or_si128(bad, _mm_and_si128(_mm_xor_si128(a, s[k]), _mm_xor_si128(b, s[k])));
    }
    if (__builtin_expect(_mm_movemask_pd(_mm_castsi128_pd(bad)) != 0, 0)) {
        int64_t unused;
        for (int m = 0; m < kCountMetrics; m++)
            if (__builtin_add_overflow(acc[m], in[m], &unused))
                return Metric(m);
    }
    for (int k = 0; k < 3; k++)
        _mm_storeu_si128(reinterpret_cast<__m128i *>(acc + 2 * k), s[k]);
    return kMetricCount;
#else
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
#endif
}

// SQLSTATE 22003:
//   bigint out of range summing <what> for key "<key>", field "<metric>"
//   DETAIL:  The sum passes 9223372036854775807 on <where>.
[[noreturn]] void throw_count_overflow(std::string_view what, std::string_view key, Metric metric,
                                       const RowLabel &where);

// add_counts, raising the error above when a sum would pass bigint (always inlined, as it).
inline __attribute__((always_inline)) void add_counts_or_throw(int64_t acc[kCountMetrics], const int64_t in[kCountMetrics], std::string_view what,
                                std::string_view key, const RowLabel &where)
{
    Metric m = add_counts(acc, in);
    if (m != kMetricCount)
        throw_count_overflow(what, key, m, where);
}

}  // namespace ducache::core
