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

namespace ducache::core {

// One row's users, n of them, in the row's object order: the six counts (Metric order), the
// cost as integers at cost_scale with a display scale per entry (kColumnNoCost: no cost).
constexpr uint8_t kColumnNoCost = 255;  // = core/user_pack.hpp's kPackNoCost
struct UserColumns {
    uint32_t n = 0;
    const int64_t *counts[kCountMetrics] = {};
    const int64_t *cost = nullptr;
    const uint8_t *cost_dscale = nullptr;
    int cost_scale = 0;
};

namespace user_columns_detail {

// acc[m] += v[m] for the six counts in wrapping arithmetic; the sign bit of the result is set
// when a sum passed bigint (its sign differs from both addends').
inline uint64_t add6_wrapping(int64_t *acc, const int64_t *const col[kCountMetrics], uint32_t i)
{
    uint64_t bad = 0;
    for (int m = 0; m < kCountMetrics; m++) {
        const uint64_t a = uint64_t(acc[m]), v = uint64_t(col[m][i]), s = a + v;
        bad |= (a ^ s) & (v ^ s);
        acc[m] = int64_t(s);
    }
    return bad;
}

inline void sub6_wrapping(int64_t *acc, const int64_t *const col[kCountMetrics], uint32_t i)
{
    for (int m = 0; m < kCountMetrics; m++)
        acc[m] = int64_t(uint64_t(acc[m]) - uint64_t(col[m][i]));
}

}  // namespace user_columns_detail

// The counts of every entry into its accumulator (acc(i): entry i's six sums; entries may share
// one) and into total: true when no step of any running sum passed bigint, every sum then as
// the entry-wise checked adds leave it; false with every sum as it was (see above).
template <typename Acc>
bool add_count_columns(Acc &&acc, int64_t total[kCountMetrics], const UserColumns &c)
{
    using namespace user_columns_detail;
    uint64_t bad = 0;
    uint32_t i = 0;
    for (; i < c.n; i++) {
        bad |= add6_wrapping(acc(i), c.counts, i);
        bad |= add6_wrapping(total, c.counts, i);
    }
    if (!(bad >> 63))
        return true;
    while (i-- > 0) {  // undo: every sum back to its value before the row
        sub6_wrapping(acc(i), c.counts, i);
        sub6_wrapping(total, c.counts, i);
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
    for (uint32_t i = 0; i < c.n; i++) {
        const uint8_t ds = c.cost_dscale[i];
        if (ds == kColumnNoCost)
            continue;
        acc(i).add_scaled(c.cost[i], c.cost_scale, ds);
        sum += c.cost[i];
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
    for (uint32_t i = 0; i < c.n; i++) {
        const uint8_t ds = c.cost_dscale[i];
        if (ds == kColumnNoCost)
            continue;
        sum += c.cost[i];
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
