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
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
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
    // The sum in two 64-bit halves (each value's high and low 32 bits: n < 2^32 of them cannot
    // wrap either), a negative value seen by its sign bit: no 128-bit add or compare a value
    // (two values a step by SSE2).
    void add_column(const int64_t *v, uint32_t n)
    {
        uint64_t high = 0, low = 0, signs = 0;
        uint32_t i = 0;
#if defined(__SSE2__)
        __m128i h = _mm_setzero_si128(), l = h, s = h;
        const __m128i low_half = _mm_set1_epi64x(0xFFFFFFFF);
        for (; i + 2 <= n; i += 2) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i *>(v + i));
            s = _mm_or_si128(s, x);
            h = _mm_add_epi64(h, _mm_srli_epi64(x, 32));
            l = _mm_add_epi64(l, _mm_and_si128(x, low_half));
        }
        uint64_t lanes[6];
        _mm_storeu_si128(reinterpret_cast<__m128i *>(lanes), h);
        _mm_storeu_si128(reinterpret_cast<__m128i *>(lanes + 2), l);
        _mm_storeu_si128(reinterpret_cast<__m128i *>(lanes + 4), s);
        high = lanes[0] + lanes[1];
        low = lanes[2] + lanes[3];
        signs = lanes[4] | lanes[5];
#endif
        for (; i < n; i++) {
            const uint64_t x = uint64_t(v[i]);
            signs |= x;
            high += x >> 32;
            low += x & 0xFFFFFFFFu;
        }
        if (signs >> 63)
            add_unknown();
        else
            add(((unsigned __int128)(high) << 32) + low);
    }
    bool fits() const { return total_ <= kCap; }

private:
    static constexpr unsigned __int128 kCap = (unsigned __int128)(INT64_MAX);
    unsigned __int128 total_ = 0;
};

// The users' bounds, by user (docs/rollups.md "Round 17: the bounds, the top key and the
// fetch"). A user is known by the caller's index of it (the dashboard's users slot): an index
// names one user for the whole read and distinct indexes name distinct users (the caller's
// promise), so a bound is added to its user by the index alone, with no name hashed or
// compared; a name is copied once, at the user's first sight (the names of a UserRun not at
// all: they outlive this). Names are looked up only by add_bound() (no index),
// add_walked_pair() and probed(): a table of them is built then, once, from the names kept.
// B_u is a 128-bit integer at one scale for all users (raised, all bounds with it, when a value
// comes at a larger one): exact, so the users compare and are probed as exact sums would be;
// a value it cannot hold (a scale past kMaxFastScale, a value past 128 bits, an arbitrary-
// precision one) turns every bound into a DecimalSum, exactly, and the read goes on with those.
class KeyBounds {
public:
    explicit KeyBounds(std::pmr::memory_resource *mr);
    // A rollup row's user entry: its "~keycost" (position: the entry's index, ignored). Not
    // mixed with the calls below that take an index.
    void add_bound(std::string_view user, const Decimal &keycost, uint32_t position);
    // The same with the caller's index of the user (above: the same user, the same index;
    // another user, another index); the name is read only at the index's first sight.
    // UINT32_MAX: no index (add_bound()).
    void add_bound_at(uint32_t index, std::string_view user, const Decimal &keycost);
    // add_bound_at() for each entry of a rollup row in order (core/user_columns.hpp): index[i]
    // and names[i] its index and user, its "~keycost" keycost[i] at `scale` printed with
    // dscale[i] digits (kColumnNoCost: the entry had none, i.e. 0). Names are read only for
    // indexes not met yet; names nullptr: every index was met before (a row repeating the
    // previous row's users), else false (the bounds are then incomplete: the caller takes the
    // full walk).
    bool add_bound_columns(const uint32_t *index, const std::string_view *names, const int64_t *keycost,
                           const uint8_t *dscale, int scale, uint32_t n);
    // add_bound_columns() of a row whose users are the first (index[i] = i): the run's names
    // (core/user_directory.hpp; not copied: they outlive this). False (nothing done) when users
    // were met before or the run is not ordered.
    bool first_bound_columns(const UserRun &run, const int64_t *keycost, const uint8_t *dscale, int scale);
    // A pair summed exactly over the walked rows (S^F: the day rows): its user and cost. slot:
    // the caller's index of the pair (handed back with the candidate).
    void add_walked_pair(std::string_view user, const DecimalSum &cost, uint32_t slot);
    size_t users() const { return run_n_ + names_.size(); }
    // The range's rows list about n users: room for them made once, before the first bound.
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
    // The bounds are DecimalSums (a value the 128-bit bounds could not hold): tests.
    bool exact_path() const { return slow_; }

private:
    // The user of a caller's index, UINT32_MAX when the index is new.
    uint32_t user_at(uint32_t index) const
    {
        if (index_is_user_)  // (every index so far its own user's number)
            return index < users() ? index : UINT32_MAX;
        return index < by_index_.size() ? by_index_[index] : UINT32_MAX;
    }
    // A new user: its name (kept as given: the caller copied it or it outlives this).
    uint32_t new_user(std::string_view kept_name);
    // A new user for a caller's index, its name copied.
    uint32_t new_user_at(uint32_t index, std::string_view name);
    // The user of a name (UINT32_MAX: none), the table of names brought up to date first.
    uint32_t lookup(std::string_view name) const;
    // The same, a new user (its name copied) when none.
    uint32_t find_user(std::string_view name);
    // B_u += m * 10^-scale (m within 128 bits, 0 <= scale).
    void add_value(uint32_t u, __int128 m, int scale);
    void add_decimal(uint32_t u, const Decimal &v);
    void add_sum(uint32_t u, const DecimalSum &v);
    // The 128-bit bounds at scale s (> scale_): false when one cannot be held.
    bool raise_scale(int s);
    // Every bound as a DecimalSum from now on.
    void to_exact();
    bool less(uint32_t a, uint32_t b) const
    {
        return slow_ ? exact_[a].compare(exact_[b]) < 0 : acc_[a] < acc_[b];
    }
    int compare_bound(uint32_t u, const DecimalSum &v) const;
    // U_u of every user, and the heap of users by it.
    void prepare();
    bool pop(uint32_t &index);

    std::pmr::memory_resource *mr_;
    // Each user's name, in first-sight order: users [0, run_n_) are a directory's run (its
    // names not copied: they outlive this), the others names_[u - run_n_].
    std::string_view name_of(uint32_t u) const { return u < run_n_ ? run_names_[u] : names_[u - run_n_]; }
    const std::string_view *run_names_ = nullptr;
    uint32_t run_n_ = 0;
    std::pmr::vector<std::string_view> names_;
    std::pmr::vector<__int128> acc_;             // B_u * 10^scale_ (not slow_)
    int scale_ = 0;
    bool slow_ = false;
    std::pmr::vector<DecimalSum> exact_;         // B_u (slow_)
    std::pmr::vector<uint8_t> probed_;
    std::pmr::vector<uint32_t> by_index_;        // the caller's index -> user (UINT32_MAX: none)
    bool index_is_user_ = true;                  // by_index_[i] == i for every i < users() (no other entry)
    // No bound's magnitude is above cap_ (saturating at kCapSaturated): a row whose adds cannot
    // take any bound past 2^126 (cap_ + its n x 2^63) is added without an overflow check an entry.
    static constexpr unsigned __int128 kCapSaturated = (unsigned __int128)(1) << 126;
    unsigned __int128 cap_ = 0;
    void grow_cap(unsigned __int128 by)
    {
        cap_ = by >= kCapSaturated || cap_ >= kCapSaturated - by ? kCapSaturated : cap_ + by;
    }
    mutable KeyAggregator lookup_;               // name -> user, built when asked; its arena holds copied names
    mutable size_t looked_up_ = 0;               // users [0, looked_up_) are in lookup_
    std::pmr::vector<std::pair<uint32_t, DecimalSum>> walked_max_;  // (user, max S^F), a user once
    std::pmr::vector<uint32_t> walked_max_at_;   // by user: walked_max_ index + 1 (0: none)
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
            if (have_best && compare_bound(heap_.front(), best) < 0)
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
            probed_[u] = 1;
            auto range = std::equal_range(walked_.begin(), walked_.end(), std::pair<uint32_t, uint32_t>(u, 0), by_user);
            candidates.push_back(Candidate{name_of(u), walked_.data() + (range.first - walked_.begin()),
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
