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
#include <cstring>
#include <memory_resource>
#include <type_traits>
#include <vector>

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
    // No cost has an absolute value above cost_largest (the header's; INT64_MAX: nothing known).
    int64_t cost_largest = INT64_MAX;
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

#if defined(__SSE2__)
// An entry's six counts (three pairs) into its sums at p and into the total's pairs, unchecked:
// for callers that proved no step can pass bigint (CountBound, round 17).
__attribute__((always_inline)) inline void add_six_unchecked(int64_t *p, __m128i v01, __m128i v23, __m128i v45,
                                                             __m128i &t01, __m128i &t23, __m128i &t45)
{
    _mm_storeu_si128(reinterpret_cast<__m128i *>(p),
                     _mm_add_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)), v01));
    _mm_storeu_si128(reinterpret_cast<__m128i *>(p + 2),
                     _mm_add_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p + 2)), v23));
    _mm_storeu_si128(reinterpret_cast<__m128i *>(p + 4),
                     _mm_add_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p + 4)), v45));
    t01 = _mm_add_epi64(t01, v01);
    t23 = _mm_add_epi64(t23, v23);
    t45 = _mm_add_epi64(t45, v45);
}
#endif

// The counts of every entry into its accumulator (acc(i): entry i's six sums; entries may share
// one) and into total: true when no step of any running sum passed bigint, every sum then as
// the entry-wise checked adds leave it; false with every sum as it was (see above).
// Entry by entry, the six counts two at a time in wrapping arithmetic; a sum passed bigint when
// its sign differs from both addends' (the sign bit of (a ^ s) & (v ^ s): add_counts' rule).
// proven: CountBound::proves(c) (round 17): no step can pass, so none is checked.
template <typename Acc>
bool add_count_columns(Acc &&acc, int64_t total[kCountMetrics], const UserColumns &c, bool proven = false)
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
    if (proven) {  // no sum can pass bigint at any step: plain adds
        for (uint32_t i = 0; i < n; i++) {
            int64_t *const p = acc(i);
            const __m128i v01 = _mm_set_epi64x(c1[i], c0[i]), v23 = _mm_set_epi64x(c3[i], c2[i]),
                          v45 = _mm_set_epi64x(c5[i], c4[i]);
            add_six_unchecked(p, v01, v23, v45, t01, t23, t45);
        }
    } else if (total_cannot_pass(total, c)) {
        run(std::false_type{});
    } else {
        run(std::true_type{});
    }
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

// A bound on every count sum of one period (round 17): each user's six sums and the total
// start at zero, and a row's entry adds at most its header's largest in absolute value (decode
// checked every value against it), so after rows r1..rk no running sum, at any step, is
// farther from zero than the sum over them of n x largest, per column. proves(c): with row c
// added that bound still fits bigint, so no step of the entry walk can pass it, the checked
// adds can raise nothing, and the row's adds need no check at all (nor an order: the sums are
// exact integers in range). known: every count of the period came from such rows (an entry
// handed in any other way forgets the bound for the rest of the period).
struct CountBound {
    unsigned __int128 sum[kCountMetrics] = {};
    bool known = true;
    bool proves(const UserColumns &c) const
    {
        if (!known)
            return false;
        for (int m = 0; m < kCountMetrics; m++)
            if (sum[m] + (unsigned __int128)c.n * (unsigned __int128)uint64_t(c.largest[m]) >
                (unsigned __int128)INT64_MAX)
                return false;
        return true;
    }
    // Row c was added (checked or not; a row that raised ends the call).
    void add(const UserColumns &c)
    {
        // n < 2^32, largest < 2^63: a row adds < 2^95; the sum kept below 2^100 (never wraps).
        constexpr unsigned __int128 cap = (unsigned __int128)1 << 100;
        for (int m = 0; m < kCountMetrics; m++) {
            const unsigned __int128 next = sum[m] + (unsigned __int128)c.n * (unsigned __int128)uint64_t(c.largest[m]);
            sum[m] = next < cap ? next : cap;
        }
    }
    void forget() { known = false; }
};

// Rows of one period whose entries go to the same accumulators in the same order (the same
// index array: the months and blocks of a period list the same users, round 15), summed
// entry-wise first, column by column (vertical adds: no gather of the users' sums), and added
// to the accumulators once (flush()). Only rows CountBound proves are taken: then no step of
// the entry walk passes bigint, and every sum is an exact integer whatever the order of its
// adds; a cost sum (DecimalSum) is exact too: the same value and display scale (the largest
// of the costs added) from one add of the run's exact 128-bit sum per user as from the adds
// one by one. So the accumulators after flush() are what the rows' adds one by one leave.
class ColumnRun {
public:
    explicit ColumnRun(std::pmr::memory_resource *mr) : index_(mr), counts_(mr), cost_(mr), dscale_(mr) {}
    bool active() const { return active_; }
    // The run's accumulators (the caller's kind: range slots, comparison ids ...).
    int kind() const { return kind_; }
    // Row c (with index[i]: entry i's accumulator) continues the run: the same accumulators in
    // the same order, its costs at the run's scale, and each entry's cost sum still within
    // int64 (the sum of the rows' largest costs fits).
    bool continues(int kind, const uint32_t *index, const UserColumns &c) const
    {
        return active_ && kind == kind_ && c.n == n_ && c.cost_scale == cost_scale_ &&
               (unsigned __int128)cost_bound_ + uint64_t(c.cost_largest) <= (unsigned __int128)INT64_MAX &&
               (n_ == 0 || std::memcmp(index, index_.data(), sizeof(uint32_t) * n_) == 0);
    }
    // A run of row c alone.
    void start(int kind, const uint32_t *index, const UserColumns &c)
    {
        active_ = true;
        kind_ = kind;
        n_ = c.n;
        cost_scale_ = c.cost_scale;
        cost_bound_ = uint64_t(c.cost_largest);
        index_.assign(index, index + n_);
        counts_.clear();  // the columns copied (not zero-filled first)
        for (int m = 0; m < kCountMetrics; m++)
            counts_.insert(counts_.end(), c.counts[m], c.counts[m] + n_);
        cost_.resize(n_);
        dscale_.resize(n_);
        int64_t *const a = cost_.data();
        uint8_t *const top = dscale_.data();
        for (uint32_t i = 0, n = n_; i < n; i++) {
            const uint8_t d = c.cost_dscale[i];
            a[i] = d != kColumnNoCost ? c.cost[i] : 0;
            top[i] = uint8_t(d + 1);  // kColumnNoCost -> 0: none
        }
    }
    // Row c (continues()) into the run.
    void add(const UserColumns &c)
    {
        const uint32_t n = n_;
        cost_bound_ += uint64_t(c.cost_largest);
        for (int m = 0; m < kCountMetrics; m++)
            add_column(counts_.data() + size_t(m) * n, c.counts[m], n);
        int64_t *const a = cost_.data();
        const int64_t *const cost = c.cost;
        const uint8_t *const ds = c.cost_dscale;
        for (uint32_t i = 0; i < n; i++)  // |each sum| <= cost_bound_ <= INT64_MAX
            a[i] = int64_t(uint64_t(a[i]) + uint64_t(ds[i] != kColumnNoCost ? cost[i] : 0));
        uint8_t *const top = dscale_.data();
        uint32_t i = 0;
#if defined(__SSE2__)
        const __m128i one = _mm_set1_epi8(1);
        for (; i + 16 <= n; i += 16) {
            const __m128i up = _mm_add_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(ds + i)), one);
            _mm_storeu_si128(reinterpret_cast<__m128i *>(top + i),
                             _mm_max_epu8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(top + i)), up));
        }
#endif
        for (; i < n; i++) {
            const uint8_t up = uint8_t(ds[i] + 1);
            top[i] = up > top[i] ? up : top[i];
        }
    }
    // The run into the accumulators (acc(k): accumulator k's six sums; cost(k): its DecimalSum,
    // or nullptr: none kept per user) and the total, then no run.
    template <typename Acc, typename CostAcc>
    void flush(Acc &&acc, CostAcc &&cost, int64_t total[kCountMetrics], DecimalSum &total_cost)
    {
        active_ = false;
        const uint32_t n = n_;
        const uint32_t *const index = index_.data();
        const int64_t *const c0 = counts_.data(), *const c1 = c0 + n, *const c2 = c1 + n, *const c3 = c2 + n,
                             *const c4 = c3 + n, *const c5 = c4 + n;
        // In range (proven): plain adds.
#if defined(__SSE2__)
        __m128i t01 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(total)),
                t23 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(total + 2)),
                t45 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(total + 4));
        for (uint32_t i = 0; i < n; i++) {
            int64_t *const p = acc(index[i]);
            const __m128i v01 = _mm_set_epi64x(c1[i], c0[i]), v23 = _mm_set_epi64x(c3[i], c2[i]),
                          v45 = _mm_set_epi64x(c5[i], c4[i]);
            add_six_unchecked(p, v01, v23, v45, t01, t23, t45);
        }
        _mm_storeu_si128(reinterpret_cast<__m128i *>(total), t01);
        _mm_storeu_si128(reinterpret_cast<__m128i *>(total + 2), t23);
        _mm_storeu_si128(reinterpret_cast<__m128i *>(total + 4), t45);
#else
        for (uint32_t i = 0; i < n; i++) {
            int64_t *const p = acc(index[i]);
            const int64_t v[kCountMetrics] = {c0[i], c1[i], c2[i], c3[i], c4[i], c5[i]};
            for (int m = 0; m < kCountMetrics; m++) {
                p[m] = int64_t(uint64_t(p[m]) + uint64_t(v[m]));
                total[m] = int64_t(uint64_t(total[m]) + uint64_t(v[m]));
            }
        }
#endif
        __int128 sum = 0;
        int top = 0;  // the largest display scale + 1 (0: no cost in the run)
        const bool fast = cost_scale_ >= 0 && cost_scale_ <= kMaxFastScale;
        Decimal d;
        d.scale = cost_scale_;
        const int64_t *const costs = cost_.data();
        const uint8_t *const dscales = dscale_.data();
        for (uint32_t i = 0; i < n; i++) {
            const int ds = dscales[i];
            if (ds == 0)
                continue;
            sum += costs[i];
            top = ds > top ? ds : top;
            if (DecimalSum *const s = cost(index[i])) {
                if (fast) {
                    s->add_parts(costs[i], cost_scale_, ds - 1);
                } else {
                    d.mantissa = costs[i];
                    d.dscale = ds - 1;
                    s->add(d);
                }
            }
        }
        if (top > 0) {
            d.mantissa = sum;
            d.dscale = top - 1;
            total_cost.add(d);
        }
    }

private:
    static void add_column(int64_t *a, const int64_t *v, uint32_t n)
    {
        uint32_t i = 0;
#if defined(__SSE2__)
        for (; i + 4 <= n; i += 4) {
            const __m128i x = _mm_add_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i *>(a + i)),
                                            _mm_loadu_si128(reinterpret_cast<const __m128i *>(v + i)));
            const __m128i y = _mm_add_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i *>(a + i + 2)),
                                            _mm_loadu_si128(reinterpret_cast<const __m128i *>(v + i + 2)));
            _mm_storeu_si128(reinterpret_cast<__m128i *>(a + i), x);
            _mm_storeu_si128(reinterpret_cast<__m128i *>(a + i + 2), y);
        }
#endif
        for (; i < n; i++)
            a[i] = int64_t(uint64_t(a[i]) + uint64_t(v[i]));
    }
    bool active_ = false;
    int kind_ = 0;
    uint32_t n_ = 0;
    int cost_scale_ = 0;
    uint64_t cost_bound_ = 0;  // the run's rows' largest costs summed (<= INT64_MAX)
    std::pmr::vector<uint32_t> index_;
    std::pmr::vector<int64_t> counts_;  // column m of entry i at [m * n + i]
    std::pmr::vector<int64_t> cost_;    // each entry's cost sum at cost_scale_
    std::pmr::vector<uint8_t> dscale_;  // each entry's largest display scale + 1 (0: no cost)
};

}  // namespace ducache::core
