#include "core/cost_order.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace ducache::core {

namespace {

// A slot's place in the radix sort: its cost as an unsigned key whose ascending order is the
// costs' descending one (less the smallest key, so only the range's digits are sorted).
struct CostRadixItem {
    uint64_t key;
    uint32_t slot;
};

constexpr int kCostRadixBits = 11;  // 2,048 buckets: three passes for a range below 2^33
constexpr uint32_t kCostRadixBuckets = 1u << kCostRadixBits;

bool cost_tie_before(const Slot *a, const Slot *b)
{
    return a->key_view() < b->key_view();  // byte order
}

// The slots' costs at the largest scale among them (`scaled`, in slot order). False when a cost
// is past 128 bits or its value at that scale would be.
bool costs_at_one_scale(const std::pmr::vector<Slot> &slots, std::vector<__int128> &scaled, bool &fit64)
{
    int top = 0;
    for (const Slot &s : slots) {
        __int128 acc;
        int scale, dscale;
        if (!s.totals.cost.fast_parts(acc, scale, dscale))
            return false;
        top = std::max(top, scale);
    }
    scaled.resize(slots.size());
    fit64 = true;
    for (size_t i = 0; i < slots.size(); i++) {
        __int128 acc = 0;
        int scale = 0, dscale = 0;
        slots[i].totals.cost.fast_parts(acc, scale, dscale);  // true: checked above
        int up = top - scale;
        if (up > 0 && (up > 18 || __builtin_mul_overflow(acc, __int128(DecimalSum::kPow10_64[up]), &acc)))
            return false;
        scaled[i] = acc;
        fit64 &= acc >= INT64_MIN && acc <= INT64_MAX;
    }
    return true;
}

// LSD radix sort of 64-bit costs, stable, then every run of equal costs by key bytes.
void radix_by_cost(const std::pmr::vector<Slot> &slots, const std::vector<__int128> &scaled,
                   std::vector<const Slot *> &out)
{
    const size_t n = slots.size();
    if (n == 0)
        return;
    std::vector<CostRadixItem> items(n), spare(n);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        // Sign bit flipped: ascending as unsigned = ascending as signed; inverted: descending.
        uint64_t k = ~(uint64_t(int64_t(scaled[i])) ^ (uint64_t(1) << 63));
        items[i] = {k, uint32_t(i)};
        lo = std::min(lo, k);
        hi = std::max(hi, k);
    }
    const uint64_t range = hi - lo;
    const int passes = range == 0 ? 0 : (64 - __builtin_clzll(range) + kCostRadixBits - 1) / kCostRadixBits;
    if (passes > 0) {
        std::vector<uint32_t> counts(size_t(passes) * kCostRadixBuckets, 0);
        for (CostRadixItem &it : items) {
            it.key -= lo;
            for (int p = 0; p < passes; p++)
                counts[size_t(p) * kCostRadixBuckets + ((it.key >> (p * kCostRadixBits)) & (kCostRadixBuckets - 1))]++;
        }
        for (int p = 0; p < passes; p++) {
            uint32_t *c = &counts[size_t(p) * kCostRadixBuckets];
            const int shift = p * kCostRadixBits;
            if (c[(items[0].key >> shift) & (kCostRadixBuckets - 1)] == n)
                continue;  // one bucket holds every key: the pass would keep the order
            uint32_t sum = 0;
            for (uint32_t b = 0; b < kCostRadixBuckets; b++) {
                uint32_t k = c[b];
                c[b] = sum;
                sum += k;
            }
            for (const CostRadixItem &it : items)
                spare[c[(it.key >> shift) & (kCostRadixBuckets - 1)]++] = it;
            items.swap(spare);
        }
    }
    out.resize(n);
    const Slot **o = out.data();
    for (size_t i = 0; i < n; i++)
        o[i] = &slots[items[i].slot];
    // Ties: equal costs by key bytes (most runs are one slot long).
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && items[j].key == items[i].key)
            j++;
        if (j - i > 1)
            std::sort(out.begin() + ptrdiff_t(i), out.begin() + ptrdiff_t(j), cost_tie_before);
        i = j;
    }
}

}  // namespace

void order_by_cost(const std::pmr::vector<Slot> &slots, std::vector<const Slot *> &out)
{
    std::vector<__int128> scaled;
    bool fit64 = false;
    if (costs_at_one_scale(slots, scaled, fit64)) {
        if (fit64) {
            radix_by_cost(slots, scaled, out);
            return;
        }
        // (cost, slot) pairs: one array, a 128-bit compare, the key bytes only on a tie.
        struct Ranked {
            __int128 cost;
            const Slot *slot;
        };
        std::vector<Ranked> ranked;
        ranked.reserve(slots.size());
        for (size_t i = 0; i < slots.size(); i++)
            ranked.push_back({scaled[i], &slots[i]});
        std::sort(ranked.begin(), ranked.end(), [](const Ranked &a, const Ranked &b) {
            if (a.cost != b.cost)
                return a.cost > b.cost;
            return cost_tie_before(a.slot, b.slot);
        });
        for (const Ranked &r : ranked)
            out.push_back(r.slot);
        return;
    }
    for (const Slot &s : slots)
        out.push_back(&s);
    std::sort(out.begin(), out.end(), [](const Slot *a, const Slot *b) {
        int c = a->totals.cost.compare(b->totals.cost);
        if (c != 0)
            return c > 0;
        return cost_tie_before(a, b);
    });
}

}  // namespace ducache::core
