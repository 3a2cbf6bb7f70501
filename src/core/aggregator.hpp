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
    // on `where`) instead of returning the metric. Always inlined, as add_counts.
    __attribute__((always_inline)) void add_or_throw(const int64_t counts_in[kCountMetrics], const Decimal *cost_in,
                                                     std::string_view what, std::string_view key,
                                                     const RowLabel &where)
    {
        add_counts_or_throw(counts, counts_in, what, key, where);
        if (cost_in)
            cost.add(*cost_in);
    }
    // Counts `day` once however many times the key appears on it.
    // Always inline (round 12 of issue 13: with the loop's dense programs GCC outlined them).
    __attribute__((always_inline)) void mark_day(int32_t day) { mark_days(day, 1); }
    // Counts the days base + b for every bit b of mask (a rollup row's "~days", or 1 for a day
    // row) not counted yet: the union of the days, however many cells of a row carry them.
    __attribute__((always_inline)) void mark_days(int32_t base, uint32_t mask)
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
    // The slot (index + 1; 0 = none yet) of the key that followed this one in an object when a
    // lookup after it last hashed: find_or_insert_at's second guess, always compared.
    uint32_t next = 0;
    uint64_t hash;
    Totals totals;
    std::string_view key_view() const { return {key, key_len}; }
};

class KeyAggregator {
public:
    explicit KeyAggregator(std::pmr::memory_resource *mr = std::pmr::get_default_resource())
        : KeyAggregator(mr, kDefaultTable)
    {
    }
    // table_size: the hash table's first size (a power of two, at least 2; it doubles as keys
    // come). Small for the dashboard's per-day model sums (~200 a 90-day call, ~10 keys each),
    // which a 1,024-entry table cost ~5,000 instructions apiece to set up.
    KeyAggregator(std::pmr::memory_resource *mr, size_t table_size);
    static constexpr size_t kDefaultTable = 1024;
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
    // A key list that gains or loses a key shifts every later position (a user active on some
    // days only: the LiteMaaS case), so when the position's guess is wrong the second guess is
    // the key that followed the previous key of this object the last time (Slot::next): one
    // key more or less costs a hash or two, not one for every later key (round 10 of issue 13).
    // The second guess needs positions 0, 1, 2, ... within an object, as every caller passes
    // them; other positions only lose it.
    __attribute__((always_inline)) Slot &find_or_insert_at(const char *key, size_t len, uint32_t position)
    {
        if (position == 0)
            return first_of_object(key, len);
        if (position < hint_size_) {
            uint32_t h = hint_data_[position];
            if (h != 0) {
                Slot &s = slots_[h - 1];
                if (s.key_len == len && same_bytes_likely(s.key, key, len))  // almost always right
                    return s;
            }
        }
        return find_or_insert_missed(key, len, position);
    }
    // A whole object's key list compared at once (round 14 of issue 13). An object's keys lie
    // apart from its values (JSONB: the keys' JEntries, then their bytes), so one compare of those
    // bytes with the last ones of the object's kind says whether every position's hint is its
    // key: then no entry compares its key (~30 instructions an entry of a flat or sparse row).
    // `keys` = ranges a and b: bytes in which equality means the same key at every position
    // 0 .. n - 1 (the caller's form; JSONB's key JEntries and key bytes); first_key: position 0's
    // key, which picks the kind (a hint set, as find_or_insert_at's position 0). Returns every
    // position's hint (slot index + 1, for slot_at) when the list is the one remembered for its
    // kind and no hint of that set changed since; else nullptr, and the caller reads the object
    // by find_or_insert_at at positions 0 .. n - 1, then calls remember_keys with the same
    // ranges once every entry is in (not after an error: the set stays unknown).
    const uint32_t *known_keys(const char *first_key, size_t first_len, const void *a, size_t a_len, const void *b,
                               size_t b_len, uint32_t n);
    void remember_keys(const void *a, size_t a_len, const void *b, size_t b_len, uint32_t n);
    // The slot of a hint known_keys returned.
    Slot &slot_at(uint32_t hint) { return slots_[hint - 1]; }
    // find_or_insert_at for keys that are almost always kLen bytes long (a LiteMaaS user id: a
    // UUID's 36): the hint's key compared at that size, without find_or_insert_at's length
    // tests (round 14 of issue 13). Any other length goes to find_or_insert_at. The same slot.
    template <size_t kLen>
    __attribute__((always_inline)) Slot &find_or_insert_at_len(const char *key, size_t len, uint32_t position)
    {
        if (__builtin_expect(len != kLen, 0))
            return find_or_insert_at(key, len, position);
        if (position == 0)
            return first_of_object(key, kLen);
        if (position < hint_size_) {
            uint32_t h = hint_data_[position];
            if (h != 0) {
                Slot &s = slots_[h - 1];
                if (s.key_len == kLen && same_bytes_n<kLen>(s.key, key))
                    return s;
            }
        }
        return find_or_insert_missed(key, kLen, position);
    }
    const Slot *find(const char *key, size_t len) const;
    // A key the caller knows absent, with its hash_bytes(): its new slot's index, the key NOT
    // copied (its bytes must outlive the aggregator: a backend's core/user_directory.hpp).
    uint32_t append_new(const char *key, uint32_t len, uint64_t h)
    {
        if ((slots_.size() + 1) * 2 > table_.size())
            grow();
        slots_.emplace_back(key, len, h, mr_);
        uint64_t i = h & mask_;
        while (table_[i] != 0)
            i = (i + 1) & mask_;
        table_[i] = uint32_t(slots_.size());
        return uint32_t(slots_.size() - 1);
    }
    // Room for n keys without growing (moves the slots: Slot references taken before are invalid).
    void reserve(size_t n);
    // A reader's first object of n keys, of an unknown total: room for kFirstObjectSlots x n
    // slots (at most kFirstObjectExtraMax more than n) and a table for n keys (as reserve).
    void reserve_from_first_object(size_t n);
    static constexpr size_t kFirstObjectSlots = 8;
    static constexpr size_t kFirstObjectExtraMax = size_t(1) << 16;  // ~14 MB of address space (224-byte slots)
    size_t size() const { return slots_.size(); }
    const std::pmr::vector<Slot> &slots() const { return slots_; }
    std::pmr::vector<Slot> &slots() { return slots_; }

    // Copies bytes into the arena (keys, identity strings); valid for the aggregator's life.
    std::string_view store(const char *s, size_t len);
    // Adds every key of `other` (its days add: partial states cover disjoint rows).
    void merge(const KeyAggregator &other);
    // Slots ordered by total cost DESC, then key ASC in byte order (COLLATE "C"): core/cost_order.hpp.
    std::vector<const Slot *> sorted() const;
    std::pmr::memory_resource *resource() const { return mr_; }

    static uint64_t hash_bytes(const char *s, size_t len);
    // Lookups find_or_insert_at did by hash (tests).
    uint64_t hashed() const { return hashed_; }

private:
    void grow();
    // find_or_insert_at when the hint is not the key: the previous key's successor, else hash
    // and probe; remember the position and the successor.
    Slot &find_or_insert_missed(const char *key, size_t len, uint32_t position);
    // The slot index + 1 of the key of hash h, 0 when absent.
    uint32_t probe(const char *key, size_t len, uint64_t h) const;
    // Adds the absent key of hash h (out of line: the lookups keep their registers).
    uint32_t insert_new(const char *key, size_t len, uint64_t h);

    std::pmr::memory_resource *mr_;
    std::pmr::vector<Slot> slots_;
    std::pmr::vector<uint32_t> table_;  // slot index + 1; 0 = empty
    static constexpr int kHintSets = 8;
    Slot &first_of_object(const char *key, size_t len);
    // Per set: position in the last object of its kind -> slot index + 1. hints_ is the set of
    // the object being read; hint_owner_ the slot index + 1 whose first key chose each set.
    // (*hints_)[p - 1] is always the slot find_or_insert_at returned for position p - 1 of the
    // object being read: the key before the one at p, whose Slot::next is the second guess.
    std::pmr::vector<std::pmr::vector<uint32_t>> hint_sets_;  // kHintSets, made up front
    uint32_t hint_owner_[kHintSets] = {};
    int next_set_ = 0;
    std::pmr::vector<uint32_t> *hints_ = nullptr;
    int set_ = 0;  // hints_'s index in hint_sets_
    // Per set: the key list remember_keys saw (ranges a then b), valid while no hint of the set
    // changed since (find_or_insert_missed and a set's new owner clear it).
    struct KnownList {
        explicit KnownList(std::pmr::memory_resource *mr) : bytes(mr) {}
        std::pmr::vector<char> bytes;
        size_t a_len = 0;
        uint32_t n = 0;
        bool valid = false;
    };
    std::pmr::vector<KnownList> known_;  // kHintSets, made up front
    // hints_'s data and size, kept by point_hints() whenever hints_ or its size changes: the
    // lookup reads them without going through the vector (round 14 of issue 13).
    uint32_t *hint_data_ = nullptr;
    size_t hint_size_ = 0;
    void point_hints()
    {
        hint_data_ = hints_->data();
        hint_size_ = hints_->size();
    }
    uint64_t hashed_ = 0;
    uint64_t mask_ = 0;
    // Arena: chunks from mr_, released in the destructor (or by the owning context's reset).
    std::pmr::vector<char *> chunks_;
    struct Block { char *p; size_t size; };
    std::pmr::vector<Block> big_blocks_;
    char *chunk_pos_ = nullptr;
    size_t chunk_left_ = 0;
};

}  // namespace ducache::core
