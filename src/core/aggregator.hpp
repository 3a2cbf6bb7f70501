// Per-key running totals over many days: the heart of every breakdown. Tuned for ~10K keys
// looked up once per day each: open addressing over a precomputed hash, keys copied once
// into an arena, lookups by (pointer, length) without building a string.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/count_sum.hpp"
#include "core/decimal.hpp"
#include "core/error_text.hpp"
#include "core/metrics.hpp"
#include "core/same_bytes.hpp"

#include <cstdint>
#include <cstring>
#include <memory_resource>
#include <string_view>
#include <vector>

namespace ducache::core {

struct Totals {
    explicit Totals(std::pmr::memory_resource *mr) : cost(mr) {}
    // What every entry touches comes first (counts, days, then the cost's 128-bit sum), so an
    // entry's update stays within the slot's first cache lines.
    int64_t counts[kCountMetrics] = {};
    int32_t active_days = 0;
    int32_t last_day = INT32_MIN;  // the latest day counted in active_days (a day offset)
    // The days counted so far of the row being read: bit b = day day_base + b. Rows come in
    // date order and cover disjoint days (a day row: one day; a rollup row: a month), so only
    // the current row's bits need keeping.
    int32_t day_base = INT32_MIN;
    uint32_t day_bits = 0;
    DecimalSum cost;
    // Identity as the entries carry it: the latest non-null value in day order wins.
    std::string_view username, email, role;

    // Adds one entry's counts (and cost, if any). Returns the metric that would overflow
    // bigint (nothing is changed then), or kMetricCount when all went in.
    Metric add(const int64_t counts_in[kCountMetrics], const Decimal *cost_in);
    // The same, raising core/count_sum.hpp's one overflow error (summing `what`, key `key`,
    // on `where`) instead of returning the metric.
    void add_or_throw(const int64_t counts_in[kCountMetrics], const Decimal *cost_in, std::string_view what,
                      std::string_view key, const RowLabel &where)
    {
        add_counts_or_throw(counts, counts_in, what, key, where);
        if (cost_in)
            cost.add(*cost_in);
    }
    // Counts `day` once however many times the key appears on it.
    void mark_day(int32_t day) { mark_days(day, 1); }
    // Counts the days base + b for every bit b of mask (a rollup row's "~days", or 1 for a day
    // row) not counted yet: the union of the days, however many cells of a row carry them.
    void mark_days(int32_t base, uint32_t mask)
    {
        if (base != day_base) {  // a new row: its days are new (rows never share days)
            if (mask == 0)
                return;
            day_base = base;
            day_bits = mask;
            // A day row's mask is 1: skip the popcount (a library call without -mpopcnt).
            active_days += mask == 1 ? 1 : __builtin_popcount(mask);
            last_day = base + (31 - __builtin_clz(mask));
            return;
        }
        uint32_t fresh = mask & ~day_bits;
        if (fresh) {
            day_bits |= fresh;
            active_days += __builtin_popcount(fresh);
            last_day = base + (31 - __builtin_clz(day_bits));
        }
    }
};

struct Slot {
    Slot(const char *k, uint32_t len, uint64_t h, std::pmr::memory_resource *mr)
        : key(k), key_len(len), hash(h), totals(mr) {}
    const char *key;
    uint32_t key_len;
    uint64_t hash;
    Totals totals;
    std::string_view key_view() const { return {key, key_len}; }
};

// The bytes that identify an object's key list exactly, in two parts (contiguous or not).
struct ObjectLayout {
    const char *a;
    size_t a_len;
    const char *b;
    size_t b_len;
    bool same_as(const std::pmr::vector<char> &kept) const
    {
        return kept.size() == a_len + b_len && std::memcmp(kept.data(), a, a_len) == 0 &&
               std::memcmp(kept.data() + a_len, b, b_len) == 0;
    }
};

class KeyAggregator {
public:
    explicit KeyAggregator(std::pmr::memory_resource *mr = std::pmr::get_default_resource());
    ~KeyAggregator();
    KeyAggregator(const KeyAggregator &) = delete;
    KeyAggregator &operator=(const KeyAggregator &) = delete;

    Slot &find_or_insert(const char *key, size_t len);
    // The same, with a guess: keys of a breakdown object come in a stable (sorted) order day
    // after day, so the slot that sat at this position yesterday is usually the one again,
    // and a byte comparison replaces hashing and probing.
    // Objects need not all look alike: users active on alternate days make a few different
    // key lists that take turns. So hints come in sets (kHintSets), one per kind of object,
    // told apart by its first key: position 0 looks its key up and takes that key's set.
    Slot &find_or_insert_at(const char *key, size_t len, uint32_t position)
    {
        if (position == 0)
            return first_of_object(key, len);
        if (position < hints_->size()) {
            uint32_t h = (*hints_)[position];
            if (h != 0) {
                Slot &s = slots_[h - 1];
                if (s.key_len == len && same_bytes(s.key, key, len))
                    return s;
            }
        }
        return find_or_insert_missed(key, len, position);
    }
    // Whole objects. When a breakdown object's key list is byte for byte the one last read in
    // full under its kind's hint set, every position's hint is right: its entries need no key
    // comparison at all. `layout` is what fixes the key list exactly (the adapter passes JSONB's
    // key JEntries, lengths included, then the key bytes), opaque here.
    // begin_object looks position 0 up as find_or_insert_at(key, len, 0) does and sets `known`;
    // while known, known_slot_at(p) is the slot of the object's p-th key (p < its key count).
    // end_object, called once the whole object was read, remembers its layout for its set.
    Slot &begin_object(const char *key, size_t len, const ObjectLayout &layout, bool &known)
    {
        Slot &s = first_of_object(key, len);
        known = layout_valid_[current_set_] && layout.same_as(layouts_[size_t(current_set_)]);
        return s;
    }
    Slot &known_slot_at(uint32_t position) { return slots_[(*hints_)[position] - 1]; }
    // While known: asks the cache for every line an entry's add touches in the slot at
    // `position` (counts, days, the cost's sum: 2-3 lines of a slot that is not line-aligned),
    // with no load of the slot itself (prefetch_at reads its key pointer, a load that waits for
    // the very line it asks for).
    void prefetch_known_at(uint32_t position) const
    {
        if (position < hints_->size() && (*hints_)[position] != 0) {
            const Slot &s = slots_[(*hints_)[position] - 1];  // addresses only: nothing loaded
            const char *p = reinterpret_cast<const char *>(&s);
            __builtin_prefetch(p);
            __builtin_prefetch(p + 64);
            // The cost's 128-bit sum and its scale: the last bytes an add touches.
            __builtin_prefetch(reinterpret_cast<const char *>(&s.totals.cost) + 24);
        }
    }
    void end_object(const ObjectLayout &layout);
    // Asks the cache for the slot (and its key bytes) the hint expects at `position`, a few
    // entries before it is needed: slots are bigger than L2 at 10K keys.
    void prefetch_at(uint32_t position) const
    {
        if (position < hints_->size() && (*hints_)[position] != 0) {
            const Slot &s = slots_[(*hints_)[position] - 1];
            __builtin_prefetch(&s.totals);
            __builtin_prefetch(s.key);
        }
    }
    const Slot *find(const char *key, size_t len) const;
    size_t size() const { return slots_.size(); }
    const std::pmr::vector<Slot> &slots() const { return slots_; }
    std::pmr::vector<Slot> &slots() { return slots_; }

    // Copies bytes into the arena (keys, identity strings); valid for the aggregator's life.
    std::string_view store(const char *s, size_t len);
    // Adds every key of `other` (its days add: partial states cover disjoint rows).
    void merge(const KeyAggregator &other);
    // Slots ordered by total cost DESC, then key ASC in byte order (COLLATE "C").
    std::vector<const Slot *> sorted() const;
    std::pmr::memory_resource *resource() const { return mr_; }

    static uint64_t hash_bytes(const char *s, size_t len);

private:
    void grow();
    // find_or_insert_at when the hint is not the key: hash, probe, and remember the position.
    Slot &find_or_insert_missed(const char *key, size_t len, uint32_t position);

    std::pmr::memory_resource *mr_;
    std::pmr::vector<Slot> slots_;
    std::pmr::vector<uint32_t> table_;  // slot index + 1; 0 = empty
    static constexpr int kHintSets = 8;
    Slot &first_of_object(const char *key, size_t len);
    // Per set: position in the last object of its kind -> slot index + 1. hints_ is the set of
    // the object being read; hint_owner_ the slot index + 1 whose first key chose each set.
    std::pmr::vector<std::pmr::vector<uint32_t>> hint_sets_;  // kHintSets, made up front
    uint32_t hint_owner_[kHintSets] = {};
    int next_set_ = 0;
    std::pmr::vector<uint32_t> *hints_ = nullptr;
    int current_set_ = 0;  // hints_'s index
    // Per set: the layout of the last object read in full with it, valid while no hint of the
    // set changed since (a miss clears it; end_object sets it again).
    std::pmr::vector<std::pmr::vector<char>> layouts_;  // kHintSets
    bool layout_valid_[kHintSets] = {};
    static constexpr size_t kMaxLayoutBytes = 4u << 20;  // bigger objects are compared key by key
    uint64_t mask_ = 0;
    // Arena: chunks from mr_, released in the destructor (or by the owning context's reset).
    std::pmr::vector<char *> chunks_;
    struct Block { char *p; size_t size; };
    std::pmr::vector<Block> big_blocks_;
    char *chunk_pos_ = nullptr;
    size_t chunk_left_ = 0;
};

}  // namespace ducache::core
