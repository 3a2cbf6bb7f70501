// The dashboard's comparison period, unfiltered at the user level: of its users the document
// shows only how many have summed requests != 0 (trends.usersTrend.previous), so a user needs
// six bigint sums, not a builder slot (no cost, identity, days or hash table entry).
//
// Its rows list their users in one order (JSONB object keys: shorter first, then bytewise;
// core/ordered_lookup.hpp), and the months, blocks and projections of a period mostly list the
// same users: entry i of a row is first tried as the user of entry i of the previous row (one
// compare of the key), then by a merge cursor over the users seen so far in key order, and a new
// user is placed at the cursor (merged into the order when the next row begins). Only input not
// in that order (never a JSONB object; unit tests) goes to a hash index.
//
// The sums are checked exactly as DashboardBuilder::user_usage() checks a user's slot
// (add_counts_or_throw with the caller's `what` and row label), entry by entry in call order, so
// the error raised (and where) is the one the slot path raises.
//
// How to use: PeriodUsers users(mr); per row begin_row(), then add() for its entries in object
// order; nonzero_requests() at the end.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/count_sum.hpp"
#include "core/error_text.hpp"
#include "core/metrics.hpp"
#include "core/ordered_lookup.hpp"
#include "core/user_directory.hpp"

#include <cstdint>
#include <memory_resource>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ducache::core {

class PeriodUsers {
public:
    explicit PeriodUsers(std::pmr::memory_resource *mr);

    // The next row (its entries' positions start at 0).
    void begin_row();
    // The entry of `user` (the row's next entry): its counts into the user's sums.
    void add(std::string_view user, const int64_t counts[kCountMetrics], std::string_view what, const RowLabel &where)
    {
        const uint32_t id = map(user);
        add_counts_or_throw(sums_[id].counts, counts, what, user, where);
    }
    // add() in two steps: the user of the row's next entry (its id), then (add_at or by
    // column, core/user_columns.hpp) its counts into sums_at(id).
    uint32_t map(std::string_view user)
    {
        uint32_t pos = row_pos_++;
        uint32_t id;
        if (pos < last_row_.size() && same_key(last_row_[pos], user) && in_order_after_last(pos, user)) {
            id = last_row_[pos];  // the previous row's user at this position
            if (place_[id] < kPending)
                cursor_ = size_t(place_[id]) + 1;
        } else {
            id = find_or_insert(user);
        }
        row_.push_back(id);
        return id;
    }
    // map() of each of a row's users when they are the period's first (ids[i] = i): the run's
    // names not copied (they outlive this). False (nothing done) when users were seen before.
    bool first_run(const UserRun &run, uint32_t *ids);
    // map() of each of a row's users by their index in the run first_run() took (at[i]; at
    // nullptr: the run itself), when every id is still the run's (no other user seen: ids are
    // run indexes) and the row has no entry yet: ids[i] = at[i], the row's positions and cursor
    // as map() leaves them. False (nothing done) otherwise: then map() for each.
    bool run_ids(const UserRun &run, const uint32_t *at, uint32_t m, uint32_t *ids);
    int64_t *sums_at(uint32_t id) { return sums_[id].counts; }
    std::string_view key(uint32_t id) const { return keys_[id]; }
    // Users whose summed requests are not 0.
    int64_t nonzero_requests() const;
    // Distinct users seen; whether input out of key order sent the lookups to the hash index (tests).
    size_t size() const { return keys_.size(); }
    bool hashing() const { return hashing_; }
    // One user's sums (tests): nullptr when unseen.
    const int64_t *sums_of(std::string_view user) const;

private:
    struct Sums {
        int64_t counts[kCountMetrics];
    };
    bool same_key(uint32_t id, std::string_view key) const
    {
        std::string_view k = keys_[id];
        return k.size() == key.size() && std::char_traits<char>::compare(k.data(), key.data(), k.size()) == 0;
    }
    // The row's keys must come in key order for the cursor (checked, else hashing from then on).
    // A key taken by position after the previous row's key at the position before is in order
    // when that row was (every row read before hashing began was); otherwise compared.
    bool in_order_after_last(uint32_t pos, std::string_view user) const
    {
        if (hashing_ || row_.empty() || row_.back() == last_row_[pos - 1])
            return true;
        return jsonb_key_compare(keys_[row_.back()], user) < 0;
    }
    uint32_t find_or_insert(std::string_view user);
    uint32_t insert(std::string_view user);
    void start_hashing();

    std::pmr::monotonic_buffer_resource arena_;  // key bytes
    std::pmr::vector<std::string_view> keys_;    // by id
    std::pmr::vector<Sums> sums_;                 // by id
    // Ids in key order; by id its index there (kPending: new in this row, kNone: hashing mode).
    static constexpr uint32_t kPending = UINT32_MAX - 1, kNone = UINT32_MAX;
    std::pmr::vector<uint32_t> order_, place_, scratch_;
    std::pmr::vector<OrderPending> pending_;
    std::pmr::vector<uint32_t> row_, last_row_;  // ids by position: this row's, the previous row's
    const std::string_view *run_names_ = nullptr;  // the run first_run() took
    size_t cursor_ = 0;
    uint32_t row_pos_ = 0;
    // Input met out of key order: every lookup by hash from then on.
    bool hashing_ = false;
    std::pmr::unordered_map<std::string_view, uint32_t> index_;
};

}  // namespace ducache::core
