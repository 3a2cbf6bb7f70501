// Lookups of keys that come in one known order, object after object: a merge by position
// instead of a hash lookup per key.
//
// A JSONB object stores its keys sorted (shorter first, then bytewise), so every row's
// user_totals lists its users in the same order, whatever subset of them it holds (a day holds
// ~85 % of a month's users). OrderedLookup keeps the keys seen so far in that order and a
// cursor into them: a key is found by stepping the cursor past the keys this object lacks and
// comparing once. Positional hints (KeyAggregator::find_or_insert_at) miss after every key an
// object lacks, and each miss hashes; a merge never hashes a key it has seen before.
//
// The order is a hint, never a rule: a key found out of order (an object not sorted by `cmp`,
// a pair met twice in one row) or not seen yet is looked up in the aggregator's hash table, so
// the slot returned is always the aggregator's slot of that key (and a key found further on
// moves the cursor there: the next keys are compared from it).
//
// How to use: OrderedLookup users(agg, jsonb_key_compare, mr); per object begin(), then
// find_or_insert(key) for its keys in object order.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"
#include "core/same_bytes.hpp"

#include <cstdint>
#include <memory_resource>
#include <string_view>
#include <vector>

namespace ducache::core {

// The order of a JSONB object's keys: shorter first, then bytewise (-1, 0, 1).
int jsonb_key_compare(std::string_view a, std::string_view b);
// The order of the dashboard's API key pairs ("alias\0user") as key_totals {user: {alias}}
// lists them: by user, then alias, each in JSONB key order.
int key_pair_compare(std::string_view a, std::string_view b);

// A key met in a row before the key at order[at], not placed in `order` yet.
struct OrderPending {
    size_t at;    // goes before order[at]; nondecreasing within a row
    uint32_t id;  // what `order` holds (a slot index, a user id)
};
// Merges a row's pending keys into `order` in one pass (scratch: reused storage) and renumbers
// place[id] = its index in `order`; empties `pending`. The row-end step of OrderedLookup and of
// PeriodUsers (core/period_users.hpp).
void merge_pending(std::pmr::vector<uint32_t> &order, std::pmr::vector<OrderPending> &pending,
                   std::pmr::vector<uint32_t> &scratch, std::pmr::vector<uint32_t> &place);

class OrderedLookup {
public:
    using Compare = int (*)(std::string_view, std::string_view);
    OrderedLookup(KeyAggregator &agg, Compare cmp, std::pmr::memory_resource *mr);

    // The next object: the cursor goes back to the first key (the keys the last object added
    // take their places in the order now).
    void begin();
    // The aggregator's slot of `key` (inserted when new).
    Slot &find_or_insert(std::string_view key)
    {
        std::pmr::vector<Slot> &slots = agg_.slots();
        while (pos_ < order_.size()) {
            Slot &s = slots[order_[pos_]];
            // The common case first, without the call: the key the cursor expects.
            if (s.key_len == key.size() && same_bytes(s.key, key.data(), key.size())) {
                pos_++;
                prefetch(pos_ + kAhead);
                return s;
            }
            int c = cmp_(s.key_view(), key);
            if (c == 0) {
                pos_++;
                return s;
            }
            if (c > 0)
                break;
            pos_++;  // a key this object lacks
        }
        return missed(key);
    }
    // The keys in the order (the last object's new keys placed too), as slot indexes. The
    // order is a hint: it need not hold every key of the aggregator, nor be sorted by `cmp`.
    const std::pmr::vector<uint32_t> &settled_order()
    {
        begin();
        return order_;
    }
    // Slots [first, first + n) are keys in this order, new to an empty lookup (a run of
    // ordered keys appended at once: DashboardBuilder::first_users); false when not empty.
    bool adopt_run(uint32_t first, uint32_t n);
    // The order becomes order[0..n) (slot indexes, each once, every slot of the aggregator: the
    // slots a run made, DashboardBuilder::run_slots), the cursor at its start; false (nothing
    // changed) while keys of an object are pending or when n is not the aggregator's size.
    bool adopt_order(const uint32_t *order, size_t n);
    // Keys in the order, and lookups that went to the hash table (tests).
    size_t ordered() const { return order_.size(); }
    uint64_t hashed() const { return hashed_; }

private:
    Slot &missed(std::string_view key);
    // 20K slots and their keys are far bigger than L2: ask for the slot (and key bytes) the
    // cursor expects a few keys ahead while this one is summed.
    static constexpr size_t kAhead = 4;
    void prefetch(size_t at) const
    {
        if (at < order_.size()) {
            const Slot &s = agg_.slots()[order_[at]];
            __builtin_prefetch(&s);
            __builtin_prefetch(&s.totals.cost);
            __builtin_prefetch(s.key);
        }
    }

    KeyAggregator &agg_;
    Compare cmp_;
    std::pmr::vector<uint32_t> order_;     // slot indexes in key order
    // By slot index: its index in order_, kPending while in pending_, kAbsent before.
    static constexpr uint32_t kAbsent = UINT32_MAX, kPending = UINT32_MAX - 1;
    std::pmr::vector<uint32_t> place_;
    std::pmr::vector<OrderPending> pending_;  // new keys of this object, `at` nondecreasing
    std::pmr::vector<uint32_t> scratch_;
    size_t pos_ = 0;
    uint64_t hashed_ = 0;
};

}  // namespace ducache::core
