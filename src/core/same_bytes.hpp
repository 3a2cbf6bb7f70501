// Equality of two short byte ranges (entry keys, an object's key bytes), inlined: the library
// memcmp is a call and a size dispatch per use, and the read path compares a few times per
// entry ranges of 4 to ~200 bytes.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ducache::core {

inline bool same_bytes(const void *pa, const void *pb, size_t n)
{
    const char *a = static_cast<const char *>(pa), *b = static_cast<const char *>(pb);
    auto load8 = [](const char *p) { uint64_t v; std::memcpy(&v, p, 8); return v; };
    auto load4 = [](const char *p) { uint32_t v; std::memcpy(&v, p, 4); return v; };
#if defined(__SSE2__)
    // 16 bytes a compare (an entry's key JEntries and key bytes are 20-200 bytes).
    if (n >= 16) {
        auto differ16 = [](const char *x, const char *y) {
            __m128i eq = _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x)),
                                        _mm_loadu_si128(reinterpret_cast<const __m128i *>(y)));
            return _mm_movemask_epi8(eq) != 0xFFFF;
        };
        size_t i = 0;
        for (; i + 16 <= n; i += 16)
            if (differ16(a + i, b + i))
                return false;
        return i == n || !differ16(a + n - 16, b + n - 16);
    }
#endif
    if (n >= 8) {
        // Whole words, then the last word again (overlapping) for the tail.
        size_t i = 0;
        for (; i + 8 <= n; i += 8)
            if (load8(a + i) != load8(b + i))
                return false;
        return i == n || load8(a + n - 8) == load8(b + n - 8);
    }
    if (n >= 4)
        return load4(a) == load4(b) && load4(a + n - 4) == load4(b + n - 4);
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

// same_bytes for ranges that almost always are equal (an object's layout against the one
// remembered): with SSE2 no branch per 16 bytes, the compares ANDed and tested once at the end
// (round 9 of issue 13: the loop's exit test and a branch a step were ~9 instructions per 16
// bytes). Round 11: ranges of up to 128 bytes in straight-line 16-byte compares, the first
// halves from the start and the second halves back from the end (overlapping where n is not a
// multiple of 16): a flat entry's 24 bytes of header and key JEntries are two compares, its 61
// key bytes four, with no loop (GCC kept the loop's step in memory, ~9 instructions a step).
// Reads only [0, n) of each range, as same_bytes.
inline __attribute__((always_inline)) bool same_bytes_likely(const void *pa, const void *pb, size_t n)
{
#if defined(__SSE2__)
    if (n >= 16) {
        const char *a = static_cast<const char *>(pa), *b = static_cast<const char *>(pb);
        auto eq16 = [](const char *x, const char *y) {
            return _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x)),
                                  _mm_loadu_si128(reinterpret_cast<const __m128i *>(y)));
        };
        // [0, h) and [n - h, n) for h = 16, 32 or 64 (n <= 2h): every byte compared at least once.
        __m128i all = _mm_and_si128(eq16(a, b), eq16(a + n - 16, b + n - 16));
        if (n > 32) {
            all = _mm_and_si128(all, _mm_and_si128(eq16(a + 16, b + 16), eq16(a + n - 32, b + n - 32)));
            if (n > 64) {
                all = _mm_and_si128(all, _mm_and_si128(eq16(a + 32, b + 32), eq16(a + n - 48, b + n - 48)));
                all = _mm_and_si128(all, _mm_and_si128(eq16(a + 48, b + 48), eq16(a + n - 64, b + n - 64)));
                for (size_t i = 64; i + 64 < n; i += 16)  // past 128 bytes: the middle
                    all = _mm_and_si128(all, eq16(a + i, b + i));
            }
        }
        return _mm_movemask_epi8(all) == 0xFFFF;
    }
#endif
    return same_bytes(pa, pb, n);
}

// same_bytes_likely at a size known at compile time (kN >= 16): the 16-byte steps from the
// start and the last 16 bytes (overlapping when kN is not a multiple of 16), ANDed, one test, no
// length test (round 14 of issue 13: a UUID key's 36 bytes are three compares, where
// same_bytes_likely tests n three times and compares four times). Reads only [0, kN) of each.
template <size_t kN>
inline __attribute__((always_inline)) bool same_bytes_n(const void *pa, const void *pb)
{
    static_assert(kN >= 16, "a whole 16-byte step at least");
#if defined(__SSE2__)
    const char *a = static_cast<const char *>(pa), *b = static_cast<const char *>(pb);
    auto eq16 = [](const char *x, const char *y) {
        return _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x)),
                              _mm_loadu_si128(reinterpret_cast<const __m128i *>(y)));
    };
    __m128i all = eq16(a + kN - 16, b + kN - 16);
#pragma GCC unroll 32
    for (size_t i = 0; i < (kN - 1) / 16; i++)
        all = _mm_and_si128(all, eq16(a + 16 * i, b + 16 * i));
    return _mm_movemask_epi8(all) == 0xFFFF;
#else
    return same_bytes(pa, pb, kN);
#endif
}

// same_bytes for short ranges that are almost always equal (an entry's identity strings against
// the key's last ones: "user", "user5422", "user5422@example.com"), always inline and in straight
// line: up to 32 bytes by two overlapping loads from the start and back from the end (8-byte
// words, 4-byte words or, past 16 bytes, 16-byte compares), the differences ORed, one test.
// Round 13 of issue 13: same_bytes was called out of line for each of the three strings of a
// nested entry (~40 instructions an entry). Longer ranges go to same_bytes_likely. Reads only
// [0, n) of each range.
inline __attribute__((always_inline)) bool same_short_bytes(const void *pa, const void *pb, size_t n)
{
    const char *a = static_cast<const char *>(pa), *b = static_cast<const char *>(pb);
    auto load8 = [](const char *p) { uint64_t v; std::memcpy(&v, p, 8); return v; };
    auto load4 = [](const char *p) { uint32_t v; std::memcpy(&v, p, 4); return v; };
    if (n >= 8) {
        if (n <= 16)
            return ((load8(a) ^ load8(b)) | (load8(a + n - 8) ^ load8(b + n - 8))) == 0;
#if defined(__SSE2__)
        if (n <= 32) {
            auto eq16 = [](const char *x, const char *y) {
                return _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x)),
                                      _mm_loadu_si128(reinterpret_cast<const __m128i *>(y)));
            };
            return _mm_movemask_epi8(_mm_and_si128(eq16(a, b), eq16(a + n - 16, b + n - 16))) == 0xFFFF;
        }
#endif
        return same_bytes_likely(a, b, n);
    }
    if (n >= 4)
        return ((load4(a) ^ load4(b)) | (load4(a + n - 4) ^ load4(b + n - 4))) == 0;
    if (n == 0)
        return true;
    // 1-3 bytes: the first, middle and last (every byte of them compared at least once).
    return ((a[0] ^ b[0]) | (a[n / 2] ^ b[n / 2]) | (a[n - 1] ^ b[n - 1])) == 0;
}

// A remembered byte range (an object's layout: its header and key JEntries, its key bytes) and
// its compare with a range of the same length that is almost always equal. Round 13 of issue
// 13: the copy is 16-byte aligned, and its last 16 bytes are kept aligned too, so each 16-byte
// step is one unaligned load of the other range and one compare against the copy in memory (no
// second load); the length is the layout's, so the steps are chosen by one jump into a
// straight-line run (ceil(n / 16) compares: a nested entry's 93 "metrics" key bytes are six,
// same_bytes_likely's halves eight) instead of a test of n per step. Reads only [0, n) of the
// other range.
class RememberedBytes {
public:
    static constexpr size_t kMax = 512;
    // Remembers [p, p + n), n <= kMax.
    void set(const void *p, size_t n)
    {
        std::memcpy(bytes_, p, n);
        n_ = uint32_t(n);
        steps_ = n >= 16 ? uint32_t((n - 1) / 16) : 0;
        if (n >= 16)
            std::memcpy(tail_, bytes_ + n - 16, 16);
    }
    size_t size() const { return n_; }
    const char *data() const { return bytes_; }
    // Whether [p, p + size()) holds the remembered bytes.
    __attribute__((always_inline)) bool same(const void *p) const
    {
#if defined(__SSE2__)
        if (__builtin_expect(n_ >= 16, 1)) {
            const char *a = static_cast<const char *>(p);
            auto eq16 = [](const char *x, const char *y) {  // y: 16-byte aligned
                return _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x)),
                                      _mm_load_si128(reinterpret_cast<const __m128i *>(y)));
            };
            // [n - 16, n), then the whole steps [16i, 16i + 16) for i < steps_ (16 * steps_ < n).
            __m128i all = eq16(a + n_ - 16, tail_);
            switch (steps_) {
            default:
                for (uint32_t i = 8; i < steps_; i++)
                    all = _mm_and_si128(all, eq16(a + 16 * i, bytes_ + 16 * i));
                [[fallthrough]];
            case 8: all = _mm_and_si128(all, eq16(a + 112, bytes_ + 112)); [[fallthrough]];
            case 7: all = _mm_and_si128(all, eq16(a + 96, bytes_ + 96)); [[fallthrough]];
            case 6: all = _mm_and_si128(all, eq16(a + 80, bytes_ + 80)); [[fallthrough]];
            case 5: all = _mm_and_si128(all, eq16(a + 64, bytes_ + 64)); [[fallthrough]];
            case 4: all = _mm_and_si128(all, eq16(a + 48, bytes_ + 48)); [[fallthrough]];
            case 3: all = _mm_and_si128(all, eq16(a + 32, bytes_ + 32)); [[fallthrough]];
            case 2: all = _mm_and_si128(all, eq16(a + 16, bytes_ + 16)); [[fallthrough]];
            case 1: all = _mm_and_si128(all, eq16(a, bytes_)); [[fallthrough]];
            case 0: break;
            }
            return _mm_movemask_epi8(all) == 0xFFFF;
        }
#endif
        return same_bytes(p, bytes_, n_);
    }

    // same() when size() is known to be kN (16 <= kN <= kMax): the same compares, no jump.
    template <size_t kN>
    __attribute__((always_inline)) bool same_n(const void *p) const
    {
        static_assert(kN >= 16 && kN <= kMax, "a whole 16-byte step at least");
#if defined(__SSE2__)
        const char *a = static_cast<const char *>(p);
        auto eq16 = [](const char *x, const char *y) {
            return _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x)),
                                  _mm_load_si128(reinterpret_cast<const __m128i *>(y)));
        };
        __m128i all = eq16(a + kN - 16, tail_);
#pragma GCC unroll 32
        for (size_t i = 0; i < (kN - 1) / 16; i++)
            all = _mm_and_si128(all, eq16(a + 16 * i, bytes_ + 16 * i));
        return _mm_movemask_epi8(all) == 0xFFFF;
#else
        return same_bytes(p, bytes_, kN);
#endif
    }

private:
    alignas(16) char bytes_[kMax];
    alignas(16) char tail_[16];
    uint32_t n_ = 0, steps_ = 0;
};

}  // namespace ducache::core
