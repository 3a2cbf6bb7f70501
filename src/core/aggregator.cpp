#include "core/aggregator.hpp"

#include "core/cost_order.hpp"
#include "core/error.hpp"

#include <algorithm>
#include <cstring>

namespace ducache::core {

namespace {
constexpr size_t kChunkSize = 64 * 1024;
}

Metric Totals::add(const int64_t in[kCountMetrics], const Decimal *cost_in)
{
    Metric overflow = add_counts(counts, in);
    if (overflow == kMetricCount && cost_in)
        cost.add(*cost_in);
    return overflow;
}

KeyAggregator::KeyAggregator(std::pmr::memory_resource *mr, size_t table_size)
    : mr_(mr), slots_(mr), table_(mr), hint_sets_(mr), known_(mr), chunks_(mr), big_blocks_(mr)
{
    hint_sets_.reserve(kHintSets);  // never reallocated: hints_ points into it
    known_.reserve(kHintSets);
    for (int i = 0; i < kHintSets; i++) {
        hint_sets_.emplace_back();  // on mr_ (uses-allocator construction)
        known_.emplace_back(mr);
    }
    hints_ = &hint_sets_[0];
    point_hints();
    if (table_size < 2 || (table_size & (table_size - 1)) != 0)
        table_size = kDefaultTable;
    table_.assign(table_size, 0);
    mask_ = table_.size() - 1;
}

KeyAggregator::~KeyAggregator()
{
    for (char *c : chunks_)
        mr_->deallocate(c, kChunkSize, 1);
    for (const Block &b : big_blocks_)
        mr_->deallocate(b.p, b.size, 1);
}

namespace {
inline uint64_t load_u64(const char *p)
{
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
}
inline uint64_t load_u32(const char *p)
{
    uint32_t w;
    std::memcpy(&w, p, 4);
    return w;
}
// Key equality in the lookups, inline: 8 to 16 bytes (the 10-character ids) as two
// overlapping words without a branch, the rest by same_bytes.
__attribute__((always_inline)) inline bool same_key(const char *a, const char *b, size_t n)
{
    if (n >= 8 && n <= 16)
        return ((load_u64(a) ^ load_u64(b)) | (load_u64(a + n - 8) ^ load_u64(b + n - 8))) == 0;
    return same_bytes(a, b, n);
}
}  // namespace

uint64_t KeyAggregator::hash_bytes(const char *s, size_t len)
{
    // Word-at-a-time multiply-xorshift: fast on 36-byte UUIDs, good enough spread for a table.
    // The last word is the key's last 8 bytes (overlapping the one before it), and keys under 8
    // bytes are read as two overlapping halves: fixed-size loads, no memcpy call of a variable
    // length (round 10 of issue 13: that call was ~17 instructions a hash of a 10-byte key).
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (len * 0xC2B2AE3D27D4EB4Full);
    uint64_t w;
    if (len >= 8) {
        const char *last = s + len - 8;
        for (; s < last; s += 8) {
            h = (h ^ load_u64(s)) * 0xFF51AFD7ED558CCDull;
            h ^= h >> 32;
        }
        w = load_u64(last);
    } else if (len >= 4) {
        w = load_u32(s) | (load_u32(s + len - 4) << 32);
    } else if (len > 0) {
        w = uint64_t(uint8_t(s[0])) | uint64_t(uint8_t(s[len / 2])) << 8 | uint64_t(uint8_t(s[len - 1])) << 16;
    } else {
        w = 0;
    }
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 29;
    h *= 0x9E3779B97F4A7C15ull;
    h ^= h >> 32;
    return h;
}

std::string_view KeyAggregator::store(const char *s, size_t len)
{
    if (len == 0)
        return {"", 0};  // empty keys exist ({"": ...}); never memcpy to or from a null chunk
    if (len > chunk_left_) {
        size_t size = std::max(kChunkSize, len);
        char *c = static_cast<char *>(mr_->allocate(size, 1));
        if (size == kChunkSize) {
            chunks_.push_back(c);
            chunk_pos_ = c;
            chunk_left_ = size;
        } else {
            // Oversized strings get their own block, tracked like a chunk of their size.
            std::memcpy(c, s, len);
            big_blocks_.push_back({c, size});
            return {c, len};
        }
    }
    char *dst = chunk_pos_;
    std::memcpy(dst, s, len);
    chunk_pos_ += len;
    chunk_left_ -= len;
    return {dst, len};
}

inline uint32_t KeyAggregator::probe(const char *key, size_t len, uint64_t h) const
{
    for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
        uint32_t idx = table_[i];
        if (idx == 0)
            return 0;
        const Slot &s = slots_[idx - 1];
        if (s.hash == h && s.key_len == len && same_key(s.key, key, len))
            return idx;
    }
}

__attribute__((noinline)) uint32_t KeyAggregator::insert_new(const char *key, size_t len, uint64_t h)
{
    if ((slots_.size() + 1) * 2 > table_.size())
        grow();
    std::string_view stored = store(key, len);
    slots_.emplace_back(stored.data(), uint32_t(len), h, mr_);
    uint64_t i = h & mask_;
    while (table_[i] != 0)
        i = (i + 1) & mask_;
    table_[i] = uint32_t(slots_.size());
    return table_[i];
}

Slot &KeyAggregator::find_or_insert(const char *key, size_t len)
{
    uint64_t h = hash_bytes(key, len);
    uint32_t idx = probe(key, len, h);
    if (idx == 0)
        idx = insert_new(key, len, h);
    return slots_[idx - 1];
}

Slot &KeyAggregator::find_or_insert_missed(const char *key, size_t len, uint32_t position)
{
    // The previous key's slot: a hit left it in its position's hint, a miss put it there.
    uint32_t prev = position != 0 && position - 1 < hints_->size() ? (*hints_)[position - 1] : 0;
    uint32_t found = prev != 0 ? slots_[prev - 1].next : 0;
    if (found == 0 || slots_[found - 1].key_len != len || !same_key(slots_[found - 1].key, key, len)) {
        hashed_++;
        uint64_t h = hash_bytes(key, len);
        found = probe(key, len, h);
        if (found == 0)
            found = insert_new(key, len, h);  // may move the slots: indexes only here
        if (prev != 0)
            slots_[prev - 1].next = found;
    }
    // Geometric (round 14 of issue 13: one position more at a time was a resize call per key,
    // ~55 instructions a key of a first object; known_keys sizes a set for a whole row at once).
    if (__builtin_expect(position >= hints_->size(), 0)) {
        hints_->resize(std::max(size_t(position) + 1, hints_->size() * 2), 0);
        point_hints();
    }
    (*hints_)[position] = found;
    known_[size_t(set_)].valid = false;  // the set's hints are no longer its remembered list's
    return slots_[found - 1];
}

Slot &KeyAggregator::first_of_object(const char *key, size_t len)
{
    Slot &s = find_or_insert(key, len);
    uint32_t owner = uint32_t(&s - slots_.data()) + 1;
    int set = -1;
    for (int i = 0; i < kHintSets; i++)
        if (hint_owner_[i] == owner) {
            set = i;
            break;
        }
    if (set < 0) {  // a new kind of object: take the next set, round robin
        set = next_set_;
        next_set_ = (next_set_ + 1) % kHintSets;
        hint_owner_[set] = owner;
        known_[size_t(set)].valid = false;
    }
    set_ = set;
    hints_ = &hint_sets_[size_t(set)];
    if (hints_->empty())
        hints_->push_back(0);
    point_hints();
    (*hints_)[0] = owner;
    return s;
}

const uint32_t *KeyAggregator::known_keys(const char *first_key, size_t first_len, const void *a, size_t a_len,
                                          const void *b, size_t b_len, uint32_t n)
{
    if (n == 0)
        return nullptr;
    first_of_object(first_key, first_len);  // the kind's set (position 0's lookup)
    const KnownList &k = known_[size_t(set_)];
    if (!k.valid || k.n != n || k.a_len != a_len || k.bytes.size() != a_len + b_len || hints_->size() < n) {
        if (hints_->size() < n) {  // the row is read by positions 0 .. n - 1: its set's room at once
            hints_->resize(n, 0);
            point_hints();  // the cached data pointer and size follow the vector (see the header)
        }
        return nullptr;
    }
    // memcmp: the library's vector compare over the whole list (~14 bytes a 10-byte key).
    if ((a_len != 0 && std::memcmp(k.bytes.data(), a, a_len) != 0) ||
        (b_len != 0 && std::memcmp(k.bytes.data() + a_len, b, b_len) != 0))
        return nullptr;
    return hints_->data();
}

void KeyAggregator::remember_keys(const void *a, size_t a_len, const void *b, size_t b_len, uint32_t n)
{
    KnownList &k = known_[size_t(set_)];
    k.valid = false;
    if (n == 0 || hints_->size() < n)
        return;
    k.bytes.resize(a_len + b_len);
    if (a_len != 0)
        std::memcpy(k.bytes.data(), a, a_len);
    if (b_len != 0)
        std::memcpy(k.bytes.data() + a_len, b, b_len);
    k.a_len = a_len;
    k.n = n;
    k.valid = true;
}

const Slot *KeyAggregator::find(const char *key, size_t len) const
{
    uint64_t h = hash_bytes(key, len);
    for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
        uint32_t idx = table_[i];
        if (idx == 0)
            return nullptr;
        const Slot &s = slots_[idx - 1];
        if (s.hash == h && s.key_len == len && std::memcmp(s.key, key, len) == 0)
            return &s;
    }
}

void KeyAggregator::reserve(size_t n)
{
    slots_.reserve(n);
    while ((n + 1) * 2 > table_.size())
        grow();
}

void KeyAggregator::reserve_from_first_object(size_t n)
{
    // Sparse rows (users active some days only: the sparse year's five key lists of ~2,000 keys
    // each) reach ~5x the first row's keys. The slots' room is address space only until a slot
    // is written (a reserve constructs nothing), so it is taken generously: each doubling moved
    // every slot (~70 instructions a key at 10,000 keys, round 14 of issue 13) into fresh pages.
    // The table is written (zeroed) in full, so it is sized for the n keys only (as reserve) and
    // grows as keys come: a larger one would cost the shapes whose first row has every key
    // (the flat daily year) pages zeroed for nothing.
    size_t extra = std::min(n * (kFirstObjectSlots - 1), kFirstObjectExtraMax);
    if (slots_.capacity() < n + extra)
        slots_.reserve(n + extra);
    while ((n + 1) * 2 > table_.size())
        grow();
}

void KeyAggregator::grow()
{
    table_.assign(table_.size() * 2, 0);
    mask_ = table_.size() - 1;
    for (size_t n = 0; n < slots_.size(); n++) {
        uint64_t i = slots_[n].hash & mask_;
        while (table_[i] != 0)
            i = (i + 1) & mask_;
        table_[i] = uint32_t(n + 1);
    }
}

void KeyAggregator::merge(const KeyAggregator &other)
{
    const FixedLabel where("the combine of parallel partial results");  // named only on overflow
    for (const Slot &o : other.slots_) {
        Slot &s = find_or_insert(o.key, o.key_len);
        add_counts_or_throw(s.totals.counts, o.totals.counts, "partial results", o.key_view(), where);
        s.totals.cost.add(o.totals.cost);
        s.totals.active_days += o.totals.active_days;
        if (!o.totals.username.empty()) s.totals.username = store(o.totals.username.data(), o.totals.username.size());
        if (!o.totals.email.empty()) s.totals.email = store(o.totals.email.data(), o.totals.email.size());
        if (!o.totals.role.empty()) s.totals.role = store(o.totals.role.data(), o.totals.role.size());
    }
}

std::vector<const Slot *> KeyAggregator::sorted() const
{
    std::vector<const Slot *> out;
    out.reserve(slots_.size());
    order_by_cost(slots_, out);
    return out;
}

}  // namespace ducache::core
