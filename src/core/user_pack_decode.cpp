// The user pack's arrays decoded (UserPackView::decode): each array's narrow fixed-width values
// widened to 64 bits, checked against its header's largest; SSE2 on little-endian x86-64.
#include "core/user_pack.hpp"
#include "core/user_pack_detail.hpp"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ducache::core {

using namespace user_pack_detail;

// n values of type T (the stored width) at p into out, widened; false when one exceeds max.
template <typename T>
bool decode_as(const char *p, uint32_t n, int64_t *out, uint64_t max)
{
    bool bad = false;
    for (uint32_t i = 0; i < n; i++) {
        T v;
        std::memcpy(&v, p + sizeof(T) * size_t(i), sizeof(T));
        const int64_t x = int64_t(v);
        out[i] = x;
        bad |= uint64_t(x) + max > 2 * max;  // |x| > max, without a branch (max <= INT64_MAX: no wrap past 2^64)
    }
    return !bad;
}

#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
namespace user_pack_detail {

// Four int32 lanes sign-extended into out[0..4).
inline void store_i32x4(__m128i x, int64_t *out)
{
    const __m128i sign = _mm_srai_epi32(x, 31);
    _mm_storeu_si128(reinterpret_cast<__m128i *>(out), _mm_unpacklo_epi32(x, sign));
    _mm_storeu_si128(reinterpret_cast<__m128i *>(out + 2), _mm_unpackhi_epi32(x, sign));
}

// Eight int16 lanes sign-extended into out[0..8).
inline void store_i16x8(__m128i x, int64_t *out)
{
    const __m128i sign = _mm_srai_epi16(x, 15);
    store_i32x4(_mm_unpacklo_epi16(x, sign), out);
    store_i32x4(_mm_unpackhi_epi16(x, sign), out + 4);
}

inline __m128i min_i32(__m128i a, __m128i b)
{
    const __m128i m = _mm_cmpgt_epi32(a, b);
    return _mm_or_si128(_mm_and_si128(m, b), _mm_andnot_si128(m, a));
}

inline __m128i max_i32(__m128i a, __m128i b)
{
    const __m128i m = _mm_cmpgt_epi32(a, b);
    return _mm_or_si128(_mm_and_si128(m, a), _mm_andnot_si128(m, b));
}

// Widths 1, 2, 4 sixteen bytes a step (SSE2: sign extension by unpacking with the sign, the
// values' least and largest kept in lanes); the rest as decode_as. False when a value exceeds max.
bool decode_sse2(const char *p, int width, uint32_t n, int64_t *out, uint64_t max)
{
    const uint32_t per = 16u / uint32_t(width);
    uint32_t i = 0;
    int64_t lo = 0, hi = 0;
    if (width == 4) {
        __m128i mn = _mm_setzero_si128(), mx = _mm_setzero_si128();
        for (; i + per <= n; i += per) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + 4 * size_t(i)));
            mn = min_i32(mn, x);
            mx = max_i32(mx, x);
            store_i32x4(x, out + i);
        }
        int32_t a[4], b[4];
        _mm_storeu_si128(reinterpret_cast<__m128i *>(a), mn);
        _mm_storeu_si128(reinterpret_cast<__m128i *>(b), mx);
        for (int k = 0; k < 4; k++) {
            lo = a[k] < lo ? a[k] : lo;
            hi = b[k] > hi ? b[k] : hi;
        }
    } else {
        __m128i mn = _mm_setzero_si128(), mx = _mm_setzero_si128();
        const __m128i zero = _mm_setzero_si128();
        for (; i + per <= n; i += per) {
            const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + size_t(width) * i));
            if (width == 2) {
                mn = _mm_min_epi16(mn, x);
                mx = _mm_max_epi16(mx, x);
                store_i16x8(x, out + i);
            } else {
                const __m128i sign = _mm_cmpgt_epi8(zero, x);
                const __m128i a = _mm_unpacklo_epi8(x, sign), b = _mm_unpackhi_epi8(x, sign);
                mn = _mm_min_epi16(mn, _mm_min_epi16(a, b));
                mx = _mm_max_epi16(mx, _mm_max_epi16(a, b));
                store_i16x8(a, out + i);
                store_i16x8(b, out + i + 8);
            }
        }
        int16_t a[8], b[8];
        _mm_storeu_si128(reinterpret_cast<__m128i *>(a), mn);
        _mm_storeu_si128(reinterpret_cast<__m128i *>(b), mx);
        for (int k = 0; k < 8; k++) {
            lo = a[k] < lo ? a[k] : lo;
            hi = b[k] > hi ? b[k] : hi;
        }
    }
    if (abs_of(lo) > max || abs_of(hi) > max)
        return false;
    const uint32_t rest = n - i;
    const char *q = p + size_t(width) * i;
    switch (width) {
    case 1: return decode_as<int8_t>(q, rest, out + i, max);
    case 2: return decode_as<int16_t>(q, rest, out + i, max);
    default: return decode_as<int32_t>(q, rest, out + i, max);
    }
}

}  // namespace user_pack_detail
#endif

bool UserPackView::decode(int array, int64_t *out) const
{
    const int w = width_[array];
#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (w == 1 || w == 2 || w == 4)
        return decode_sse2(arrays_[array], w, users_, out, uint64_t(max_[array]));
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    // The stored bytes are the host's own integers: loaded whole (the loops vectorize).
    switch (w) {
    case 1: return decode_as<int8_t>(arrays_[array], users_, out, uint64_t(max_[array]));
    case 2: return decode_as<int16_t>(arrays_[array], users_, out, uint64_t(max_[array]));
    case 4: return decode_as<int32_t>(arrays_[array], users_, out, uint64_t(max_[array]));
    case 8: return decode_as<int64_t>(arrays_[array], users_, out, uint64_t(max_[array]));
    default: break;
    }
#endif
    const char *p = arrays_[array];
    const uint64_t max = uint64_t(max_[array]);
    switch (w) {
    case 0:
        for (uint32_t i = 0; i < users_; i++)
            out[i] = 0;
        return true;
    case 1:
        for (uint32_t i = 0; i < users_; i++)
            out[i] = int8_t(p[i]);
        break;
    case 2:
        for (uint32_t i = 0; i < users_; i++)
            out[i] = signed_of(get_le(p + 2 * size_t(i), 2), 2);
        break;
    case 4:
        for (uint32_t i = 0; i < users_; i++)
            out[i] = signed_of(get_le(p + 4 * size_t(i), 4), 4);
        break;
    default:
        for (uint32_t i = 0; i < users_; i++)
            out[i] = int64_t(get_le(p + 8 * size_t(i), 8));
        break;
    }
    for (uint32_t i = 0; i < users_; i++)
        if (abs_of(out[i]) > max)
            return false;
    return true;
}

}  // namespace ducache::core
