#include "core/ordered_lookup.hpp"

#include <algorithm>
#include <cstring>

namespace ducache::core {

int jsonb_key_compare(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return a.size() < b.size() ? -1 : 1;
    int c = a.empty() ? 0 : std::memcmp(a.data(), b.data(), a.size());
    return (c > 0) - (c < 0);
}

int key_pair_compare(std::string_view a, std::string_view b)
{
    size_t na = a.find('\0'), nb = b.find('\0');
    // No NUL: the whole text is the alias of an empty user (never made by the dashboard).
    std::string_view alias_a = a.substr(0, na), alias_b = b.substr(0, nb);
    std::string_view user_a = na == a.npos ? std::string_view() : a.substr(na + 1);
    std::string_view user_b = nb == b.npos ? std::string_view() : b.substr(nb + 1);
    int c = jsonb_key_compare(user_a, user_b);
    return c != 0 ? c : jsonb_key_compare(alias_a, alias_b);
}

OrderedLookup::OrderedLookup(KeyAggregator &agg, Compare cmp, std::pmr::memory_resource *mr)
    : agg_(agg), cmp_(cmp), order_(mr), place_(mr), pending_(mr), scratch_(mr)
{
}

void merge_pending(std::pmr::vector<uint32_t> &order, std::pmr::vector<OrderPending> &pending,
                   std::pmr::vector<uint32_t> &scratch, std::pmr::vector<uint32_t> &place)
{
    scratch.clear();
    scratch.reserve(order.size() + pending.size());
    size_t i = 0;
    for (const OrderPending &p : pending) {
        while (i < p.at)
            scratch.push_back(order[i++]);
        scratch.push_back(p.id);
    }
    while (i < order.size())
        scratch.push_back(order[i++]);
    order.swap(scratch);
    pending.clear();
    for (size_t at = 0; at < order.size(); at++)
        place[order[at]] = uint32_t(at);
}

void OrderedLookup::begin()
{
    pos_ = 0;
    if (pending_.empty())
        return;
    merge_pending(order_, pending_, scratch_, place_);
}

bool OrderedLookup::adopt_run(uint32_t first, uint32_t n)
{
    if (!order_.empty() || !pending_.empty() || pos_ != 0)
        return false;
    order_.resize(n);
    if (place_.size() < size_t(first) + n)
        place_.resize(size_t(first) + n, kAbsent);
    for (uint32_t i = 0; i < n; i++) {
        order_[i] = first + i;
        place_[first + i] = i;
    }
    pos_ = n;  // as after the run's lookups: the cursor past its keys
    return true;
}

bool OrderedLookup::adopt_order(const uint32_t *order, size_t n)
{
    if (!pending_.empty() || n != agg_.size())
        return false;
    order_.assign(order, order + n);
    place_.assign(std::max(place_.size(), n), kAbsent);
    for (size_t at = 0; at < n; at++)
        place_[order[at]] = uint32_t(at);
    pos_ = 0;
    return true;
}

Slot &OrderedLookup::missed(std::string_view key)
{
    hashed_++;
    Slot &s = agg_.find_or_insert(key.data(), key.size());
    uint32_t index = uint32_t(&s - agg_.slots().data());
    if (index >= place_.size())
        place_.resize(std::max<size_t>(size_t(index) + 1, place_.size() * 2), kAbsent);
    uint32_t at = place_[index];
    if (at == kAbsent) {  // new to the order: placed where the cursor stands
        place_[index] = kPending;
        pending_.push_back(OrderPending{pos_, index});
    } else if (at != kPending && at >= pos_) {  // found further on: continue from there
        pos_ = size_t(at) + 1;
    }  // (found behind the cursor: out of order, the cursor stays)
    return s;
}

}  // namespace ducache::core
