// The user pack's byte helpers shared by its writer/reader (user_pack.cpp) and its arrays'
// decoder (user_pack_decode.cpp).
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include <cstdint>

namespace ducache::core::user_pack_detail {

// A little-endian value of `bytes` bytes at p.
inline uint64_t get_le(const char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= uint64_t(uint8_t(p[i])) << (8 * i);
    return v;
}

inline uint64_t abs_of(int64_t v) { return v < 0 ? uint64_t(0) - uint64_t(v) : uint64_t(v); }

// A stored value of the given width, sign-extended.
inline int64_t signed_of(uint64_t raw, int width)
{
    switch (width) {
    case 1: return int8_t(uint8_t(raw));
    case 2: return int16_t(uint16_t(raw));
    case 4: return int32_t(uint32_t(raw));
    default: return int64_t(raw);
    }
}

}  // namespace ducache::core::user_pack_detail
