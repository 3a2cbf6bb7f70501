// The top API key of an unfiltered dashboard from per-user upper bounds (docs/rollups.md,
// "Round 11: the top API key from per-user bounds").
//
// Stored: each rollup row's user_totals entry (month, block, day projection) carries, when the
// row's key_totals is not NULL, two members computed from the user's key_totals pairs of that
// row (pg/rollup_derived.cpp, with UserKeyBound below):
//   "~keycost"  max(0, the largest totalCost among the user's pairs of the row): no one key of
//               the user costs more in the row (a key absent from the row adds 0);
//   "~keymag"   the largest, over the count metrics, of the sum of |v| over the user's pairs.
//
// Read: over a range, B_u = sum of u's "~keycost" over the rows kept aside (their key_totals not
// walked), S^F = the exact sums of the pairs over everything walked (day rows, rows past the
// keep cap). U_u = max(0, max over u's pairs of S^F) + B_u bounds every pair of u from above.
// KeyBounds::select probes users by U_u descending: a probe sums the user's pairs exactly over
// the kept rows, L = the best exact cost found so far; it stops at the first user with U_u < L.
// Every pair of an unprobed user costs <= U_u < L, so it can neither win nor tie the first by
// cost (cost descending, then pair key): the winner is among the probed users' exact pairs.
// Overflow: when the magnitudes of every value summed into any pair (kept rows: sum of
// "~keymag"; walked values: max over counts of |v|) add up within bigint, no pair's running sum
// overflows in any order, so summing in another order than the rows' raises nothing the full
// walk would have raised (KeyMagnitude).
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"
#include "core/decimal.hpp"
#include "core/metrics.hpp"

#include <algorithm>
#include <cstdint>
#include <memory_resource>
#include <string>
#include <string_view>
#include <vector>

namespace ducache::core {

constexpr std::string_view kKeyCostMember = "~keycost", kKeyMagMember = "~keymag";

// One user's bound members of one row, from its key_totals pairs (add() each pair's sums).
struct UserKeyBound {
    std::string_view user;
    bool any = false;                        // a pair was added
    DecimalSum max_cost;                     // the largest pair cost (valid when any)
    unsigned __int128 mag[kCountMetrics] = {};

    void add(const Totals &pair);
    // "~keycost" and "~keymag" as JSON number text.
    std::string cost_text() const;
    std::string mag_text() const;
};

// Sum of magnitudes, saturating: fits() when every value summed into any pair fits bigint in
// any order.
class KeyMagnitude {
public:
    void add(unsigned __int128 v) { total_ = (v > kCap || total_ + v > kCap) ? kCap + 1 : total_ + v; }
    void add_values(const int64_t counts[kCountMetrics]);  // max over counts of |v|
    void add_unknown() { total_ = kCap + 1; }
    bool fits() const { return total_ <= kCap; }

private:
    static constexpr unsigned __int128 kCap = (unsigned __int128)(INT64_MAX);
    unsigned __int128 total_ = 0;
};

class KeyBounds {
public:
    explicit KeyBounds(std::pmr::memory_resource *mr);
    // A kept row's user entry: its "~keycost" (position: the entry's index, a lookup hint).
    void add_bound(std::string_view user, const Decimal &keycost, uint32_t position);
    // A pair summed exactly over the walked rows (S^F): its user and cost. slot: the caller's
    // index of the pair (handed back to the probe).
    void add_walked_pair(std::string_view user, const DecimalSum &cost, uint32_t slot);
    size_t users() const { return users_.size(); }

    // Probes users by U_u descending until the next U_u is below the best exact cost.
    // probe(user, walked_slots, n_walked, best) sums the user's pairs over the kept rows and
    // sets best to the best exact cost of the user's pairs (kept and walked), returning false
    // when the user has no pair at all. More than max_probes users needed: returns false with
    // the users probed so far marked (probed()); the caller then sums every other user's pairs.
    template <typename Probe>
    bool select(size_t max_probes, Probe &&probe);
    bool probed(std::string_view user) const;
    size_t probes() const { return probes_; }

private:
    struct User {
        explicit User(std::pmr::memory_resource *mr) : bound(mr), walked_max(mr) {}
        DecimalSum bound;       // B_u, then U_u
        DecimalSum walked_max;  // max S^F (when has_walked)
        bool has_walked = false;
        bool probed = false;
    };
    User &user(std::string_view name, uint32_t position);
    // U_u of every user, and the heap of users by it.
    void prepare();
    bool pop(uint32_t &index);

    std::pmr::memory_resource *mr_;
    KeyAggregator names_;           // user -> index (slot order)
    std::pmr::vector<User> users_;
    std::pmr::vector<std::pair<uint32_t, uint32_t>> walked_;  // (user, slot), sorted in prepare()
    std::pmr::vector<uint32_t> heap_;
    size_t probes_ = 0;
};

template <typename Probe>
bool KeyBounds::select(size_t max_probes, Probe &&probe)
{
    prepare();
    bool have_best = false;
    DecimalSum best(mr_), found(mr_);
    uint32_t u;
    while (pop(u)) {
        if (have_best && users_[u].bound.compare(best) < 0)
            return true;  // this and every later user: U_u < L
        if (probes_ == max_probes)
            return false;
        users_[u].probed = true;
        probes_++;
        auto range = std::equal_range(walked_.begin(), walked_.end(), std::pair<uint32_t, uint32_t>(u, 0),
                                      [](const auto &a, const auto &b) { return a.first < b.first; });
        std::pmr::vector<uint32_t> slots(mr_);
        for (auto it = range.first; it != range.second; ++it)
            slots.push_back(it->second);
        if (!probe(names_.slots()[u].key_view(), slots, found))
            continue;
        if (!have_best || found.compare(best) > 0) {
            best = found;
            have_best = true;
        }
    }
    return true;
}

}  // namespace ducache::core
