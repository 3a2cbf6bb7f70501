// A rollup row's users as columns (a decoded user_pack, core/user_pack.hpp) and the column-wise
// rules the dashboard sums them by (docs/rollups.md "Round 15: the packs' users column-wise").
//
// The entry walk handed each user to the builder on its own (a lookup, six checked count adds
// and a cost add per sum, a call per bound and identity: ~900 instructions an entry). Here a
// row's users are first mapped to their accumulators once (an index array), then each column is
// added in a tight loop. The result is the entry walk's, errors included:
// * counts: added in wrapping arithmetic, entry after entry, each accumulator's running sum
//   checked at every step as add_counts checks it (the sign rule). Any step that passes bigint
//   makes the whole row undone (wrapping subtraction restores every sum exactly) and the caller
//   then adds the row entry by entry with the checked adds, which raise the entry walk's error
//   at its entry: a row whose columns all fit has every intermediate sum of the entry walk in
//   range (the same sums, in the same order per accumulator), so it raises nothing there;
// * costs: per accumulator DecimalSum::add_scaled (= add() of the entry's Decimal, in entry
//   order); a period total gets the row's exact sum (128 bits: 2^32 values below 2^63) at the
//   row's scale with the largest display scale of the row's costs, added once: the same value
//   and display scale as the adds one by one (a DecimalSum is exact);
// * an entry without a cost (display scale kPackNoCost) adds no cost, as the walk.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/decimal.hpp"
#include "core/metrics.hpp"

#include <cstdint>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ducache::core {

// One row's users, n of them, in the row's object order: the six counts (Metric order), the
// cost as integers at cost_scale with a display scale per entry (kColumnNoCost: no cost).
constexpr uint8_t kColumnNoCost = 255;  // = core/user_pack.hpp's kPackNoCost
struct UserColumns {
    uint32_t n = 0;
    const int64_t *counts[kCountMetrics] = {};
    // No count of column m has an absolute value above largest[m] (a pack's header, checked by
    // its decode; INT64_MAX: nothing known).
    int64_t largest[kCountMetrics] = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
    const int64_t *cost = nullptr;
    const uint8_t *cost_dscale = nullptr;
    int cost_scale = 0;
};

// True when no running sum of total can pass bigint while c's counts are added to it: for each
// column |total| + n x largest fits (every prefix sum is at most that far from zero). Then the
// total's steps need no check (round 16).
inline bool total_cannot_pass(const int64_t total[kCountMetrics], const UserColumns &c)
{
    for (int m = 0; m < kCountMetrics; m++) {
        const int64_t t = total[m];
        const unsigned __int128 mag = t < 0 ? (unsigned __int128)(uint64_t(0) - uint64_t(t)) : (unsigned __int128)t;
        if (mag + (unsigned __int128)c.n * (unsigned __int128)uint64_t(c.largest[m]) > (unsigned __int128)INT64_MAX)
            return false;
    }
    return true;
}

// The counts of every entry into its accumulator (acc(i): entry i's six sums; entries may share
// one) and into total: true when no step of any running sum passed bigint, every sum then as
// the entry-wise checked adds leave it; false with every sum as it was (see above).
// Entry by entry, the six counts two at a time in wrapping arithmetic; a sum passed bigint when
// its sign differs from both addends' (the sign bit of (a ^ s) & (v ^ s): add_counts' rule).
template <typename Acc>
bool add_count_columns(Acc &&acc, int64_t total[kCountMetrics], const UserColumns &c)
{
    static_assert(kCountMetrics == 6, "three pairs of counts below");
    // The columns in locals: the stores into the sums cannot change them (PostgreSQL builds
    // with -fno-strict-aliasing: through the struct every store would reload them).
    const int64_t *const c0 = c.counts[0], *const c1 = c.counts[1], *const c2 = c.counts[2],
                         *const c3 = c.counts[3], *const c4 = c.counts[4], *const c5 = c.counts[5];
    const uint32_t n = c.n;
#if defined(__SSE2__)
    __m128i t01 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(total)),
            t23 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(total + 2)),
            t45 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(total + 4)), bad = _mm_setzero_si128();
    auto step = [&bad](__m128i a, __m128i v) {
        const __m128i s = _mm_add_epi64(a, v);
        bad = _mm_or_si128(bad, _mm_and_si128(_mm_xor_si128(a, s), _mm_xor_si128(v, s)));
        return s;
    };
    // The total's steps checked unless total_cannot_pass() (the same outcome: then none passes).
    auto run = [&](auto check_total) {
        for (uint32_t i = 0; i < n; i++) {
            int64_t *const p = acc(i);
            const __m128i v01 = _mm_set_epi64x(c1[i], c0[i]), v23 = _mm_set_epi64x(c3[i], c2[i]),
                          v45 = _mm_set_epi64x(c5[i], c4[i]);
            _mm_storeu_si128(reinterpret_cast<__m128i *>(p),
                             step(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)), v01));
            _mm_storeu_si128(reinterpret_cast<__m128i *>(p + 2),
                             step(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p + 2)), v23));
            _mm_storeu_si128(reinterpret_cast<__m128i *>(p + 4),
                             step(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p + 4)), v45));
            if constexpr (decltype(check_total)::value) {
                t01 = step(t01, v01);
                t23 = step(t23, v23);
                t45 = step(t45, v45);
            } else {
                t01 = _mm_add_epi64(t01, v01);
                t23 = _mm_add_epi64(t23, v23);
                t45 = _mm_add_epi64(t45, v45);
            }
        }
    };
    if (total_cannot_pass(total, c))
        run(std::false_type{});
    else
        run(std::true_type{});
    if (_mm_movemask_pd(_mm_castsi128_pd(bad)) == 0) {
        _mm_storeu_si128(reinterpret_cast<__m128i *>(total), t01);
        _mm_storeu_si128(reinterpret_cast<__m128i *>(total + 2), t23);
        _mm_storeu_si128(reinterpret_cast<__m128i *>(total + 4), t45);
        return true;
    }
#else
    uint64_t bad = 0, t[kCountMetrics];
    for (int m = 0; m < kCountMetrics; m++)
        t[m] = uint64_t(total[m]);
    for (uint32_t i = 0; i < n; i++) {
        int64_t *const p = acc(i);
        const int64_t v[kCountMetrics] = {c0[i], c1[i], c2[i], c3[i], c4[i], c5[i]};
        for (int m = 0; m < kCountMetrics; m++) {
            const uint64_t a = uint64_t(p[m]), x = uint64_t(v[m]), s = a + x, ts = t[m] + x;
            bad |= ((a ^ s) & (x ^ s)) | ((t[m] ^ ts) & (x ^ ts));
            p[m] = int64_t(s);
            t[m] = ts;
        }
    }
    if (!(bad >> 63)) {
        for (int m = 0; m < kCountMetrics; m++)
            total[m] = int64_t(t[m]);
        return true;
    }
#endif
    // Undo: every entry's sum back to its value before the row (total was not stored).
    for (uint32_t i = 0; i < n; i++) {
        int64_t *const p = acc(i);
        const int64_t v[kCountMetrics] = {c0[i], c1[i], c2[i], c3[i], c4[i], c5[i]};
        for (int m = 0; m < kCountMetrics; m++)
            p[m] = int64_t(uint64_t(p[m]) - uint64_t(v[m]));
    }
    return false;
}

// The cost column into each entry's DecimalSum (acc(i); entries may share one) in entry order,
// and the row's exact sum into total (nullptr: none). Never fails (DecimalSum is exact).
template <typename Acc>
void add_cost_columns(Acc &&acc, DecimalSum *total, const UserColumns &c)
{
    __int128 sum = 0;
    int dscale = -1;
    const int64_t *const cost = c.cost;
    const uint8_t *const dscales = c.cost_dscale;
    const int scale = c.cost_scale;
    for (uint32_t i = 0, n = c.n; i < n; i++) {
        const uint8_t ds = dscales[i];
        if (ds == kColumnNoCost)
            continue;
        acc(i).add_scaled(cost[i], scale, ds);
        sum += cost[i];
        dscale = ds > dscale ? ds : dscale;
    }
    if (total != nullptr && dscale >= 0) {
        Decimal d;
        d.mantissa = sum;
        d.scale = c.cost_scale;
        d.dscale = dscale;
        total->add(d);
    }
}

// The period total's cost alone (the comparison period keeps no cost per user).
inline void add_cost_total(DecimalSum &total, const UserColumns &c)
{
    __int128 sum = 0;
    int dscale = -1;
    const int64_t *const cost = c.cost;
    const uint8_t *const dscales = c.cost_dscale;
    for (uint32_t i = 0, n = c.n; i < n; i++) {
        const uint8_t ds = dscales[i];
        if (ds == kColumnNoCost)
            continue;
        sum += cost[i];
        dscale = ds > dscale ? ds : dscale;
    }
    if (dscale >= 0) {
        Decimal d;
        d.mantissa = sum;
        d.scale = c.cost_scale;
        d.dscale = dscale;
        total.add(d);
    }
}

}  // namespace ducache::core
