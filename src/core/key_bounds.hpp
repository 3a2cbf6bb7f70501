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
// Read (two passes in one snapshot, pg/dashboard_top_key.hpp): over a range, B_u = sum of u's
// "~keycost" over the rollup rows (pass 1 reads user_totals, not key_totals), S^F = the exact
// sums of the pairs over the day rows' key cells. U_u = max(0, max over u's pairs of S^F) + B_u
// bounds every pair of u from above. KeyBounds::select probes users by U_u descending, a round
// of them per read of the rollup rows' key_totals (pass 2, maybe 3): a probe sums the user's
// pairs exactly over the rollup rows, L = the best exact cost found; it stops at the first user
// with U_u < L.
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
#include "core/user_directory.hpp"
#include "core/decimal.hpp"
#include "core/metrics.hpp"
#include "core/user_columns.hpp"

#include <algorithm>
#include <cstdint>
#include <memory_resource>
#include <string>
#include <string_view>
#include <vector>

namespace ducache::core {

// kKeyCostMember, kKeyMagMember: core/metrics.hpp.

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
    // add() of each value of a column, add_unknown() for a negative one (a "~keymag" the reader
    // does not take): the same total (the sum saturates the same way added at once).
    void add_column(const int64_t *v, uint32_t n)
    {
        unsigned __int128 sum = 0;  // n < 2^32 values below 2^63: no wrap
        int64_t low = 0;
        for (uint32_t i = 0; i < n; i++) {
            sum += (unsigned __int128)(uint64_t(v[i]) & uint64_t(INT64_MAX));
            low = v[i] < low ? v[i] : low;
        }
        if (low < 0)
            add_unknown();
        else
            add(sum);
    }
    bool fits() const { return total_ <= kCap; }

private:
    static constexpr unsigned __int128 kCap = (unsigned __int128)(INT64_MAX);
    unsigned __int128 total_ = 0;
};

class KeyBounds {
public:
    explicit KeyBounds(std::pmr::memory_resource *mr);
    // A rollup row's user entry: its "~keycost" (position: the entry's index, a lookup hint).
    void add_bound(std::string_view user, const Decimal &keycost, uint32_t position);
    // The same with the caller's index of the user (the dashboard's users slot: the same user,
    // the same index): a user met before under that index is reached without a lookup (its
    // name compared); any other index or name is looked up by name, so the bounds are
    // add_bound()'s whatever the indexes.
    void add_bound_at(uint32_t index, std::string_view user, const Decimal &keycost);
    // add_bound_at() for each entry of a rollup row in order (core/user_columns.hpp): index[i]
    // and names[i] its index and user, its "~keycost" keycost[i] at `scale` printed with
    // dscale[i] digits (kColumnNoCost: the entry had none, i.e. 0). Unlike add_bound_at(), an
    // index met before is trusted to name the same user (the caller's promise: the dashboard's
    // slot index names one user for the whole read), so names are read only for indexes not met
    // yet; names nullptr: every index was met before (a row repeating the previous row's users),
    // else false (the bounds are then incomplete: the caller takes the full walk).
    bool add_bound_columns(const uint32_t *index, const std::string_view *names, const int64_t *keycost,
                           const uint8_t *dscale, int scale, uint32_t n);
    // add_bound_columns() of a row whose users are the first (index[i] = i): the run's names
    // and hashes (core/user_directory.hpp; the names not copied: they outlive this). False
    // (nothing done) when users were met before or the run is not ordered.
    bool first_bound_columns(const UserRun &run, const int64_t *keycost, const uint8_t *dscale, int scale);
    // A pair summed exactly over the walked rows (S^F: the day rows): its user and cost. slot:
    // the caller's index of the pair (handed back with the candidate).
    void add_walked_pair(std::string_view user, const DecimalSum &cost, uint32_t slot);
    size_t users() const { return users_.size(); }
    // The range's rows list about n users: room for them made once, before the first bound
    // (the tables and vectors then do not grow, and copy, while the first row is read).
    void expect_users(size_t n);

    // A user to sum exactly: its name and its walked pairs' slots.
    struct Candidate {
        std::string_view user;
        const std::pair<uint32_t, uint32_t> *walked;  // (user, slot) pairs: .second is the slot
        size_t n_walked;
    };
    // Probes users by U_u descending, in rounds: first the first_batch users of highest bound;
    // once L (the best exact cost found) is known, every user not probed whose U_u >= L, all at
    // once. Each round is one call of batch(candidates, best): it sums the candidates' pairs
    // over the rollup rows (one read of them) and sets best to the best exact cost of their
    // pairs (rollup and walked), returning false when none of them has a pair. Stops when the
    // next user's U_u is below L: true. A round that would take the probes past max_probes is
    // not run: false, with the users probed so far marked (probed()); the caller then sums
    // every other user's pairs. After the first round L only grows, so the second round takes
    // every user that can still reach it: at most two rounds once a pair was found.
    template <typename Batch>
    bool select(size_t first_batch, size_t max_probes, Batch &&batch);
    bool probed(std::string_view user) const;
    size_t probes() const { return probes_; }
    size_t rounds() const { return rounds_; }

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
    std::pmr::vector<uint32_t> by_index_;  // add_bound_at's index -> users_ index (UINT32_MAX: none)
    std::pmr::vector<std::pair<uint32_t, uint32_t>> walked_;  // (user, slot), sorted in prepare()
    std::pmr::vector<uint32_t> heap_;
    size_t probes_ = 0, rounds_ = 0;
};

template <typename Batch>
bool KeyBounds::select(size_t first_batch, size_t max_probes, Batch &&batch)
{
    prepare();
    if (first_batch == 0)
        first_batch = 1;
    bool have_best = false;
    DecimalSum best(mr_), found(mr_);
    std::pmr::vector<uint32_t> round(mr_);
    std::pmr::vector<Candidate> candidates(mr_);
    const auto by_user = [](const std::pair<uint32_t, uint32_t> &a, const std::pair<uint32_t, uint32_t> &b) {
        return a.first < b.first;
    };
    for (;;) {
        round.clear();
        while (!heap_.empty()) {
            const User &top = users_[heap_.front()];
            if (have_best && top.bound.compare(best) < 0)
                break;  // this and every later user: U_u < L
            if (!have_best && round.size() == first_batch)
                break;
            uint32_t u;
            pop(u);
            round.push_back(u);
        }
        if (round.empty())
            return true;  // every user probed, or the rest below L
        if (probes_ + round.size() > max_probes)
            return false;  // the round's users stay unprobed: the caller sums them with the rest
        candidates.clear();
        for (uint32_t u : round) {
            users_[u].probed = true;
            auto range = std::equal_range(walked_.begin(), walked_.end(), std::pair<uint32_t, uint32_t>(u, 0), by_user);
            candidates.push_back(Candidate{names_.slots()[u].key_view(), walked_.data() + (range.first - walked_.begin()),
                                           size_t(range.second - range.first)});
        }
        probes_ += round.size();
        rounds_++;
        if (!batch(candidates, found))
            continue;
        if (!have_best || found.compare(best) > 0) {
            best = found;
            have_best = true;
        }
    }
}

}  // namespace ducache::core
