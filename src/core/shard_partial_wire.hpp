// The byte layer of the shards' binary partial (core/shard_partial.hpp): little-endian
// integers, length-prefixed bytes, varints, day bits; the reader checks every length against
// what is left and throws Error 22P03 naming the partial, the byte and what is wrong.
// Included by core/shard_partial.cpp only.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/error.hpp"
#include "core/shard_partial.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ducache::core::shard_wire {

constexpr char kMagic[4] = {'D', 'U', 'S', 'P'};
constexpr uint8_t kRow = 1, kField = 2, kUsers = 4;
// Day offsets are below 2^31: words past this never hold a day.
constexpr uint64_t kMaxWords = (uint64_t(1) << 31) / 64;

template <typename T>
inline void put(std::string &out, T v)
{
    // Little-endian on the wire whatever the host.
    for (size_t b = 0; b < sizeof v; b++)
        out.push_back(char(uint64_t(v) >> (8 * b) & 0xff));
}

inline void put_bytes(std::string &out, std::string_view s)
{
    put<uint32_t>(out, uint32_t(s.size()));
    out.append(s.data(), s.size());
}

inline void put_varint(std::string &out, uint32_t v)
{
    while (v >= 0x80) {
        out.push_back(char((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(char(v));
}

class Reader {
public:
    Reader(const char *p, size_t n, int part) : base_(p), p_(p), left_(n), part_(part) {}
    template <typename T>
    T get(const char *what)
    {
        need(sizeof(T), what);
        uint64_t v = 0;
        for (size_t b = 0; b < sizeof(T); b++)
            v |= uint64_t(uint8_t(p_[b])) << (8 * b);
        p_ += sizeof(T);
        left_ -= sizeof(T);
        return T(v);
    }
    std::string_view bytes(const char *what)
    {
        uint32_t n = get<uint32_t>(what);
        need(n, what);
        std::string_view s(p_, n);
        p_ += n;
        left_ -= n;
        return s;
    }
    // An unsigned LEB128 of at most 5 bytes that fits 32 bits.
    uint32_t varint(const char *what)
    {
        uint64_t v = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            uint8_t b = get<uint8_t>(what);
            v |= uint64_t(b & 0x7f) << shift;
            if (!(b & 0x80)) {
                if (v > UINT32_MAX)
                    fail(std::string(what) + " hold a number past 32 bits");
                return uint32_t(v);
            }
        }
        fail(std::string(what) + " hold a number longer than 5 bytes");
    }
    void need(uint64_t n, const char *what)
    {
        if (n > left_)
            fail(std::string("the buffer ends inside ") + what);
    }
    size_t left() const { return left_; }
    [[noreturn]] void fail(const std::string &why) const
    {
        throw Error("22P03", "invalid ducache shard partial",
                    "Partial " + std::to_string(part_) + ", byte " + std::to_string(p_ - base_) + ": " + why + ".",
                    "Every shard must run the coordinator's ducache version.");
    }

private:
    const char *base_, *p_;
    size_t left_;
    int part_;
};

// A sorted set's members: strictly increasing bytes (so duplicates are refused too).
template <typename F>
inline void read_set(Reader &r, const char *what, F &&add)
{
    uint32_t n = r.get<uint32_t>(what);
    r.need(uint64_t(n) * 4, what);  // each member has at least its length
    std::string_view prev;
    for (uint32_t k = 0; k < n; k++) {
        std::string_view s = r.bytes(what);
        if (k > 0 && !(prev < s))
            r.fail(std::string(what) + " are not strictly increasing");
        add(s);
        prev = s;
    }
}

inline void put_days(std::string &out, const DayBits &d)
{
    // Leading and trailing zero words are left out.
    size_t a = 0, b = d.words.size();
    while (a < b && d.words[a] == 0)
        a++;
    while (b > a && d.words[b - 1] == 0)
        b--;
    put<uint32_t>(out, uint32_t(a == b ? 0 : d.first + a));
    put<uint32_t>(out, uint32_t(b - a));
    for (size_t w = a; w < b; w++)
        put<uint64_t>(out, d.words[w]);
}

inline void read_days(Reader &r, DayBits &d, const std::string &whose)
{
    uint32_t first = r.get<uint32_t>("the days");
    uint32_t words = r.get<uint32_t>("the days");
    if (uint64_t(first) + words > kMaxWords)
        r.fail(whose + " has days past the largest day offset");
    r.need(uint64_t(words) * 8, "the days");
    for (uint32_t w = 0; w < words; w++)
        d.set_word(first + w, r.get<uint64_t>("the days"));
}

}  // namespace ducache::core::shard_wire
