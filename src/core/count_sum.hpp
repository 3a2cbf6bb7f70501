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

// A layout's K counts, in its member order, into acc: count k is metric[k]'s (K <= kCountMetrics,
// the metrics distinct: core::plan_direct_reads never plans two members for one metric). All or
// nothing as add_counts: every sum first (the slots' loads, then the adds, each with a jump on
// its overflow), then the stores; false (acc unchanged) when a sum would pass bigint. The counts
// stay in registers: no array by metric to zero, fill and reload (round 12 of issue 13: a dense
// entry's counts, decoded straight into v by pg/entry_fast.hpp's read_dense_counts). On false
// the caller reads the entry again the other way, whose add_counts_or_throw raises the error
// (the first overflowing metric by metric order): nothing of v is needed for it.
template <int K>
inline __attribute__((always_inline)) bool add_counts_at(int64_t acc[kCountMetrics], const Metric metric[K],
                                                         const int64_t v[K])
{
    static_assert(K >= 1 && K <= kCountMetrics, "at most one count per metric");
    // Unrolled (-O2 does not), so the arrays below are registers. The addresses first: a store
    // through acc may alias metric's bytes (a char type).
    int64_t *at[K];
#pragma GCC unroll 8
    for (int k = 0; k < K; k++)
        at[k] = acc + metric[k];
    // Each sum's overflow tested by its own branch (round 14 of issue 13: an add and a jump on
    // its overflow flag, where ORing the flags was a set, a widening and an OR more a count).
    int64_t s[K];
#pragma GCC unroll 8
    for (int k = 0; k < K; k++)
        if (__builtin_expect(__builtin_add_overflow(*at[k], v[k], &s[k]), 0))
            return false;
#pragma GCC unroll 8
    for (int k = 0; k < K; k++)
        *at[k] = s[k];
    return true;
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
