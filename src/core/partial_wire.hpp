// The byte layer of the coordinator's binary partials (core/dashboard_partial.hpp): fixed-width
// little-endian integers (shards and coordinator may differ in byte order) and length-prefixed
// byte strings. The reader never reads past its buffer: every length is checked against what
// is left, and a short or malformed buffer throws Error 22P03 (invalid_binary_representation)
// naming the partial and what was wrong.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"
#include "core/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ducache::core {

class WireWriter {
public:
    void u8(uint8_t v) { out_.push_back(char(v)); }
    void u32(uint32_t v)
    {
        for (int i = 0; i < 4; i++)
            out_.push_back(char((v >> (8 * i)) & 0xff));
    }
    void i32(int32_t v) { u32(uint32_t(v)); }
    void i64(int64_t v)
    {
        uint64_t u = uint64_t(v);
        for (int i = 0; i < 8; i++)
            out_.push_back(char((u >> (8 * i)) & 0xff));
    }
    void bytes(std::string_view s)
    {
        u32(uint32_t(s.size()));
        out_.append(s.data(), s.size());
    }
    void raw(std::string_view s) { out_.append(s.data(), s.size()); }
    // Counts (six int64) then the cost as JSON number text.
    void totals(const Totals &t);
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

class WireReader {
public:
    WireReader(const char *p, size_t n, const char *what) : p_(p), left_(n), what_(what) {}
    [[noreturn]] void corrupt(const std::string &why) const;
    uint8_t u8()
    {
        need(1);
        uint8_t v = uint8_t(*p_);
        p_++, left_--;
        return v;
    }
    uint32_t u32()
    {
        need(4);
        uint32_t v = 0;
        for (int i = 0; i < 4; i++)
            v |= uint32_t(uint8_t(p_[i])) << (8 * i);
        p_ += 4, left_ -= 4;
        return v;
    }
    int32_t i32() { return int32_t(u32()); }
    int64_t i64()
    {
        need(8);
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v |= uint64_t(uint8_t(p_[i])) << (8 * i);
        p_ += 8, left_ -= 8;
        return int64_t(v);
    }
    std::string_view bytes()
    {
        uint32_t n = u32();
        need(n);
        std::string_view s(p_, n);
        p_ += n, left_ -= n;
        return s;
    }
    std::string_view raw(size_t n)
    {
        need(n);
        std::string_view s(p_, n);
        p_ += n, left_ -= n;
        return s;
    }
    // A count of items each at least `min_bytes` long: refused when the rest cannot hold them.
    uint32_t count(size_t min_bytes, const char *of)
    {
        uint32_t n = u32();
        if (uint64_t(n) * min_bytes > left_)
            corrupt(std::string("the count of ") + of + " (" + std::to_string(n) + ") exceeds the buffer");
        return n;
    }
    // Adds the totals written by WireWriter::totals into t.
    void totals(Totals &t, std::string_view key);
    size_t left() const { return left_; }

private:
    void need(size_t n)
    {
        if (n > left_)
            corrupt("the buffer ends early");
    }
    const char *p_;
    size_t left_;
    const char *what_;
};

// Every partial starts "DUCP", a version byte, a kind byte. A partial of another version is
// refused (shards and coordinator run one ducache version: ducache_add_shards checks it).
constexpr uint8_t kPartialVersion = 1;
enum class DocumentPartialKind : uint8_t { dashboard = 1, filter_options = 2 };
void write_partial_header(WireWriter &w, DocumentPartialKind kind);
void read_partial_header(WireReader &r, DocumentPartialKind kind);

// Minimum bytes of a serialized Totals: six counts and an empty cost's length.
constexpr size_t kWireTotalsMin = 6 * 8 + 4;

// A KeyAggregator's keys and totals (identity excluded): u32 count, per key bytes + totals.
void write_keys(WireWriter &w, const KeyAggregator &agg);
// Reads them into an empty `agg`; a key twice is refused.
void read_keys(WireReader &r, KeyAggregator &agg, const char *of);

}  // namespace ducache::core
