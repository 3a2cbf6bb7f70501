// DayBits (core/shard_partial.hpp): a key's days as bits over day offsets.
#include "core/shard_partial.hpp"

namespace ducache::core {

void DayBits::set_word(uint32_t word, uint64_t bits)
{
    if (bits == 0)
        return;
    if (words.empty()) {
        first = word;
        words.push_back(bits);
        return;
    }
    if (word < first) {
        words.insert(words.begin(), first - word, 0);
        first = word;
    } else if (word - first >= words.size()) {
        words.resize(word - first + 1, 0);
    }
    words[word - first] |= bits;
}

void DayBits::add(int32_t base, uint32_t mask)
{
    // A day block is read as its month (pg/cache_scan.cpp): a block late in a month starts the
    // mask before the range; those days are not in it (DaySet::add's rule).
    if (base < 0) {
        mask = base <= -32 ? 0 : mask >> -base;
        base = 0;
    }
    if (mask == 0)
        return;
    uint32_t word = uint32_t(base) / 64;
    unsigned shift = unsigned(base) % 64;
    uint64_t m = mask;
    set_word(word, m << shift);
    if (shift > 32)
        set_word(word + 1, m >> (64 - shift));
}

void DayBits::merge(const DayBits &o)
{
    for (size_t i = 0; i < o.words.size(); i++)
        set_word(uint32_t(o.first + i), o.words[i]);
}

int32_t DayBits::count() const
{
    int32_t n = 0;
    for (uint64_t w : words)
        n += __builtin_popcountll(w);
    return n;
}

int32_t DayBits::last() const
{
    for (size_t i = words.size(); i-- > 0;)
        if (words[i])
            return int32_t((first + i) * 64 + 63 - __builtin_clzll(words[i]));
    return -1;
}

}  // namespace ducache::core
