// A dense entry's values (issue 13): the members of an object whose every member is a number the
// direct reads take (a flat entry's five metrics, a nested "metrics" object), read without a
// pass per member. Internal to the fast read (pg/entry_fast.hpp, pg/entry_reader.cpp).
#pragma once

#include "core/count_sum.hpp"
#include "core/metrics.hpp"

#include "pg/numeric_decode.hpp"
#include "pg/postgres.hpp"

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ducache::pg::entry_fast {

// A dense program's counts as read_dense_counts decodes them: v[k] is metric[k]'s, in member
// order (kept in registers: added by core::add_counts_at, no array by metric). kOrder: the
// metrics' order when it is known at compile time (then `metric` is not read: the slot's
// addresses are constants, round 13 of issue 13).
template <int K, const core::Metric *kOrder = nullptr, bool kLiteMaaS = false>
struct DenseCounts {
    // Read from a LiteMaaS entry (ShapeCache::litemaas_entry): its identity at LiteMaaSEntry's indexes.
    static constexpr bool kLiteMaaSEntry = kLiteMaaS;
    int64_t v[K];
    const core::Metric *metric;
    // Into acc, all or nothing; false (acc unchanged): a sum would pass bigint, and the caller
    // reads the entry the other way, whose add_counts_or_throw raises the error.
    __attribute__((always_inline)) bool add_to(int64_t acc[core::kCountMetrics]) const
    {
        if constexpr (kOrder != nullptr)
            return core::add_counts_at<K>(acc, kOrder, v);
        else
            return core::add_counts_at<K>(acc, metric, v);
    }
    // Whether every count is >= 0 (core::BreakdownPartial::counts_order_free's rule).
    __attribute__((always_inline)) bool none_negative() const
    {
        int64_t any = 0;
#pragma GCC unroll 8
        for (int k = 0; k < K; k++)
            any |= v[k];
        return any >= 0;
    }
};

// Where the N values of a dense object start (each int-aligned: numerics are, and their JEntry
// length counts the padding before them), from `base` (the object's data area), the first at
// keys_len; false when any value is not a numeric. 5 <= N <= 8, so every value JEntry (indexes N
// to 2N - 1, below JB_OFFSET_STRIDE) holds its length. Round 13 of issue 13: with SSE2 the types
// are checked in two compares and the starts are prefix sums of the lengths (8 lanes, the
// second vector's starting from the first's), no pass per member (~10 instructions a member:
// its JEntry's load, type test and branch, the offset's add and alignment).
template <int N>
inline __attribute__((always_inline)) bool dense_offsets(const JEntry *vje, uint32 keys_len, uint32 (&at)[N])
{
    static_assert(N >= 5 && N <= 8, "two 4-lane vectors, every JEntry a length");
    at[0] = INTALIGN(keys_len);
#if defined(__SSE2__)
    const __m128i type_mask = _mm_set1_epi32(int(JENTRY_TYPEMASK));
    const __m128i numeric = _mm_set1_epi32(int(JENTRY_ISNUMERIC));
    const __m128i len_mask = _mm_set1_epi32(int(JENTRY_OFFLENMASK));
    // a: values 0-3; b: values N-4 to N-1 (overlapping a when N < 8): every value's type seen.
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(vje));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(vje + N - 4));
    __m128i ok = _mm_and_si128(_mm_cmpeq_epi32(_mm_and_si128(a, type_mask), numeric),
                               _mm_cmpeq_epi32(_mm_and_si128(b, type_mask), numeric));
    if (_mm_movemask_epi8(ok) != 0xFFFF)
        return false;
    // Lane j of ea: the end of value j (0-3) from the first value's start (inclusive prefix sums).
    __m128i ea = _mm_and_si128(a, len_mask);
    ea = _mm_add_epi32(ea, _mm_slli_si128(ea, 4));
    ea = _mm_add_epi32(ea, _mm_slli_si128(ea, 8));
    // INTALIGN(keys_len + end): the start of value j + 1.
    const __m128i k3 = _mm_set1_epi32(int(keys_len + 3)), align = _mm_set1_epi32(~3);
    uint32 lanes[8];
    _mm_storeu_si128(reinterpret_cast<__m128i *>(lanes), _mm_and_si128(_mm_add_epi32(ea, k3), align));
    if constexpr (N > 5) {
        // Lane i of eb: the end of value N - 4 + i = the end of value N - 5 (ea's lane N - 5)
        // plus the lengths of values N - 4 to N - 4 + i.
        __m128i eb = _mm_and_si128(b, len_mask);
        eb = _mm_add_epi32(eb, _mm_slli_si128(eb, 4));
        eb = _mm_add_epi32(eb, _mm_slli_si128(eb, 8));
        constexpr int kLane = N - 5;
        eb = _mm_add_epi32(eb, _mm_shuffle_epi32(ea, kLane * 0x55));
        _mm_storeu_si128(reinterpret_cast<__m128i *>(lanes + 4), _mm_and_si128(_mm_add_epi32(eb, k3), align));
    }
#pragma GCC unroll 8
    for (int j = 1; j < N; j++)
        at[j] = j <= 4 ? lanes[j - 1] : lanes[4 + j - (N - 3)];
    return true;
#else
    uint32 off = keys_len;
    for (int j = 0; j < N; j++) {
        if ((vje[j] & JENTRY_TYPEMASK) != JENTRY_ISNUMERIC)
            return false;
        at[j] = INTALIGN(off);
        off += vje[j] & JENTRY_OFFLENMASK;
    }
    return true;
#endif
}

// A dense program's cost as decode_jsonb_cost gives it (its 64-bit form: value = m * 10^-scale).
struct DenseCost {
    int64_t m;
    int scale, dscale;
};

// The dense program of the breakdown's own loop (pg/entry_reader.cpp, accumulate_dense): object
// c of N members, the cost first, its values at dense_offsets: the cost into registers (its
// 64-bit form only: a wider cost returns false, and the caller reads the entry the other way),
// the N - 1 counts into registers, then add(counts, cost), which returns whether it added the
// entry. False: nothing added.
template <int N, typename Add>
inline __attribute__((always_inline)) bool read_dense_regs(const JsonbContainer *c, uint32 keys_len,
                                                           const core::Metric *count_metrics, Add &&add)
{
    uint32 at[N];
    if (!dense_offsets<N>(&c->children[N], keys_len, at))
        return false;
    const char *base = reinterpret_cast<const char *>(&c->children[2 * N]);
    DenseCost cost;
    if (!decode_jsonb_cost(base + at[0], cost.m, cost.scale, cost.dscale))
        return false;
    DenseCounts<N - 1> counts;
#pragma GCC unroll 8
    for (int j = 1; j < N; j++)
        if (decode_dense_count(base + at[j], counts.v[j - 1]) != core::CountFast::ok)
            return false;
    counts.metric = count_metrics;
    return add(counts, cost);
}

}  // namespace ducache::pg::entry_fast
