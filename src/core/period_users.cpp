#include "core/period_users.hpp"

#include <cstring>

namespace ducache::core {

PeriodUsers::PeriodUsers(std::pmr::memory_resource *mr)
    : arena_(mr), keys_(mr), sums_(mr), order_(mr), place_(mr), scratch_(mr), pending_(mr), row_(mr),
      last_row_(mr), index_(mr)
{
}

void PeriodUsers::begin_row()
{
    // A row without entries keeps the last one's positions (the next row is tried against it).
    if (!row_.empty()) {
        last_row_.swap(row_);
        row_.clear();
    }
    row_pos_ = 0;
    cursor_ = 0;
    if (hashing_ || pending_.empty())
        return;
    merge_pending(order_, pending_, scratch_, place_);  // one merge of the new users into the order
}

uint32_t PeriodUsers::insert(std::string_view user)
{
    char *bytes = static_cast<char *>(arena_.allocate(user.size() + 1, 1));
    if (!user.empty())
        std::memcpy(bytes, user.data(), user.size());
    uint32_t id = uint32_t(keys_.size());
    keys_.emplace_back(bytes, user.size());
    sums_.push_back(Sums{});
    place_.push_back(hashing_ ? kNone : kPending);
    if (hashing_)
        index_.emplace(keys_.back(), id);
    return id;
}

void PeriodUsers::start_hashing()
{
    hashing_ = true;
    pending_.clear();
    index_.reserve(keys_.size() * 2);
    for (uint32_t id = 0; id < keys_.size(); id++)
        index_.emplace(keys_[id], id);
}

uint32_t PeriodUsers::find_or_insert(std::string_view user)
{
    // Sorted so far: the row's previous key is smaller (else the cursor could pass this key).
    if (!hashing_ && !row_.empty() && jsonb_key_compare(keys_[row_.back()], user) >= 0)
        start_hashing();
    if (hashing_) {
        auto it = index_.find(user);
        return it != index_.end() ? it->second : insert(user);
    }
    while (cursor_ < order_.size()) {
        uint32_t id = order_[cursor_];
        int c = jsonb_key_compare(keys_[id], user);
        if (c == 0) {
            cursor_++;
            return id;
        }
        if (c > 0)
            break;
        cursor_++;  // a user this row lacks
    }
    uint32_t id = insert(user);  // new: placed where the cursor stands
    pending_.push_back(OrderPending{cursor_, id});
    return id;
}

bool PeriodUsers::first_run(const UserRun &run, uint32_t *ids)
{
    if (!keys_.empty() || hashing_ || !run.ordered || row_pos_ != 0 || !row_.empty())
        return false;
    // What map() leaves after a first row of ordered users: each inserted at the cursor (the
    // order empty), the row's ids in order; begin_row() then merges them as the order.
    keys_.assign(run.names, run.names + run.n);
    sums_.assign(run.n, Sums{});
    place_.assign(run.n, kPending);
    pending_.resize(run.n);
    row_.resize(run.n);
    for (uint32_t i = 0; i < run.n; i++) {
        pending_[i] = OrderPending{0, i};
        row_[i] = i;
        ids[i] = i;
    }
    row_pos_ = run.n;
    run_names_ = run.names;
    return true;
}

bool PeriodUsers::run_ids(const UserRun &run, const uint32_t *at, uint32_t m, uint32_t *ids)
{
    if (run_names_ == nullptr || run.names != run_names_ || keys_.size() != run.n || hashing_ || row_pos_ != 0 ||
        !row_.empty() || !pending_.empty() || (at == nullptr && m > run.n))
        return false;
    for (uint32_t i = 0; i < m; i++)
        if (at != nullptr && at[i] >= run.n)
            return false;
    row_.resize(m);
    for (uint32_t i = 0; i < m; i++)
        row_[i] = ids[i] = at == nullptr ? i : at[i];
    row_pos_ = m;
    // (every id is in the order: pending_ is empty, so place_ holds each one's index there)
    cursor_ = m == 0 ? 0 : size_t(place_[row_[m - 1]]) + 1;
    return true;
}

int64_t PeriodUsers::nonzero_requests() const
{
    int64_t n = 0;
    for (const Sums &s : sums_)
        n += s.counts[kRequests] != 0;
    return n;
}

const int64_t *PeriodUsers::sums_of(std::string_view user) const
{
    for (uint32_t id = 0; id < keys_.size(); id++)
        if (keys_[id] == user)
            return sums_[id].counts;
    return nullptr;
}

}  // namespace ducache::core
