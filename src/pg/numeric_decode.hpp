// Reads a numeric stored inside JSONB straight from its on-disk layout (stable across
// releases: pg_upgrade keeps it) into the core's exact Decimal, without a palloc per value.
#pragma once

#include "core/decimal.hpp"
#include "core/object_view.hpp"

#include "pg/postgres.hpp"

#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
#endif

namespace ducache::pg {

// Returns false for NaN / ±Infinity (JSON cannot hold them; a corrupt value could).
bool decode_numeric(const char *varlena_numeric, core::Decimal &out);

// Fast path for token and request counts: a whole number below 10^16 straight to int64.
// `slow` means "use decode_numeric and the exact conversion" (large or special values).
// Inline: it runs for six counts of every entry.
using CountDecode = core::CountFast;

// numeric.c's header bits (private there, but part of the stable on-disk format).
namespace numeric_bits {
constexpr uint16 kSignMask = 0xC000;
constexpr uint16 kNeg = 0x4000;
constexpr uint16 kShort = 0x8000;
constexpr uint16 kSpecial = 0xC000;
constexpr uint16 kShortSignMask = 0x2000;
constexpr uint16 kShortDscaleMask = 0x1F80;
constexpr int kShortDscaleShift = 7;
constexpr uint16 kShortWeightSignMask = 0x0040;
constexpr uint16 kShortWeightMask = 0x003F;
constexpr uint16 kDscaleMask = 0x3FFF;
}  // namespace numeric_bits

// NumericDigits' on-disk bytes, as make_result (numeric.c) lays out that value: the short
// format when dscale and weight fit it, else the long one. `len` bytes (numeric_encoded_size)
// at `out`, 4-byte aligned.
inline size_t numeric_encoded_size(const core::NumericDigits &d)
{
    bool can_short = d.dscale <= (numeric_bits::kShortDscaleMask >> numeric_bits::kShortDscaleShift) &&
                     d.weight <= int(numeric_bits::kShortWeightMask) && d.weight >= -int(numeric_bits::kShortWeightMask) - 1;
    return VARHDRSZ + (can_short ? sizeof(uint16) : sizeof(uint16) + sizeof(int16)) + size_t(d.ndigits) * sizeof(int16);
}

// The body alone (what follows the varlena header: the numeric's header words and digits), `body`
// = numeric_encoded_size(d) - VARHDRSZ bytes at `p`, any alignment (the short-header copy a tuple
// holds; pg/tuple_writer.cpp).
inline void encode_numeric_body(const core::NumericDigits &d, char *p, size_t body)
{
    using namespace numeric_bits;
    size_t digits = size_t(d.ndigits) * sizeof(int16);
    if (body == sizeof(uint16) + digits) {
        uint16 h = uint16((d.negative ? (kShort | kShortSignMask) : kShort) | (d.dscale << kShortDscaleShift) |
                          (d.weight < 0 ? kShortWeightSignMask : 0) | (d.weight & kShortWeightMask));
        memcpy(p, &h, sizeof h);
        p += sizeof h;
    } else {
        uint16 sign_dscale = uint16((d.negative ? kNeg : 0) | (d.dscale & kDscaleMask));
        int16 weight = int16(d.weight);
        memcpy(p, &sign_dscale, sizeof sign_dscale);
        memcpy(p + sizeof sign_dscale, &weight, sizeof weight);
        p += sizeof sign_dscale + sizeof weight;
    }
    // Up to four digits (sums below 10^16 at scale 0) by fixed-size copies, not a memcpy call.
    if (digits >= 4 && digits <= 8) {
        memcpy(p, d.digits, 4);
        memcpy(p + digits - 4, reinterpret_cast<const char *>(d.digits) + digits - 4, 4);
    } else if (digits == 2) {
        memcpy(p, d.digits, 2);
    } else if (digits) {
        memcpy(p, d.digits, digits);
    }
}

inline void encode_numeric(const core::NumericDigits &d, char *out, size_t len)
{
    SET_VARSIZE(out, len);
    encode_numeric_body(d, out + VARHDRSZ, len - VARHDRSZ);
}

inline CountDecode decode_numeric_count(const char *p, int64_t &out)
{
    const char *body = VARDATA_ANY(p);
    size_t size = VARSIZE_ANY_EXHDR(p);
    uint16 header;
    memcpy(&header, body, sizeof header);
    uint16 flags = header & numeric_bits::kSignMask;
    if (flags != numeric_bits::kShort)  // every small number is stored in the short format
        return CountDecode::slow;
    bool negative = (header & numeric_bits::kShortSignMask) != 0;
    int weight = (header & numeric_bits::kShortWeightSignMask)
                     ? -1 - int((~header) & numeric_bits::kShortWeightMask)
                     : int(header & numeric_bits::kShortWeightMask);
    const char *digits = body + sizeof(uint16);
    int ndigits = int((size - sizeof(uint16)) / sizeof(int16));
    if (ndigits == 0) {
        out = 0;
        return CountDecode::ok;
    }
    if (weight < 0 || ndigits > weight + 1)
        return CountDecode::fractional;
    if (weight > 3)
        return CountDecode::slow;
    int64_t v = 0;
    for (int i = 0; i <= weight; i++) {
        int16 d = 0;
        if (i < ndigits)
            memcpy(&d, digits + i * sizeof(int16), sizeof d);
        v = v * 10000 + d;
    }
    out = negative ? -v : v;
    return CountDecode::ok;
}

// The two decodings above for the numerics the read path meets almost always, in ~25
// instructions and no loop: a 4-byte varlena header (what JSONB stores), the short format, at
// most four base-10000 digits. Digits past the value's own are never read (a pointer to a zero
// is taken instead), and each function gives exactly what its general form gives; anything
// else goes to that general form. (Round 5 of issue 13: the general forms took ~48 and ~77
// instructions a value, a fifth of an entry's own work.)
namespace numeric_fast {
inline const int16 kZeroDigit = 0;
// kPow10000[3 + k] = 10000^k for 0 <= k <= 3; 0 for k < 0 (a digit that is not there).
inline constexpr int64_t kPow10000[7] = {0, 0, 0, 1, 10000, 100000000, 1000000000000LL};

// The value of up to four digits as a whole number of base-10000 digits: digit i weighs
// 10000^(top - i), top = the weight of digit 0 (0..3); digits i >= nd read as zero.
inline __attribute__((always_inline)) int64_t digits_value(const int16 *d, uint32 nd, int top)
{
    const int16 *d1 = nd > 1 ? d + 1 : &kZeroDigit;
    const int16 *d2 = nd > 2 ? d + 2 : &kZeroDigit;
    const int16 *d3 = nd > 3 ? d + 3 : &kZeroDigit;
    return d[0] * kPow10000[3 + top] + *d1 * kPow10000[2 + top] + *d2 * kPow10000[1 + top] +
           *d3 * kPow10000[top];
}

// digits_value(d, nd, nd - 1) for 1 <= nd <= 4 from the numeric's end (`end`: the numeric's
// varsize, 6 + 2 * nd >= 8 bytes, past its start): its last 8 bytes as four 16-bit lanes, the
// lanes before the first digit (the header's and the varlena word's bytes) masked off, lane i
// weighing 10000^(3 - i). Reads only the numeric's own bytes. Round 9 of issue 13: with SSE2 one
// pmaddwd sums the lanes by pairs (~13 instructions against ~30 for digits_value's pointer
// selects and four multiplies by table weights).
inline __attribute__((always_inline)) int64_t trailing_digits_value(const char *end, uint32 nd)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    // The lanes below are a little-endian load's (lane 0: the lowest-addressed two bytes); on a
    // big-endian host the mask would keep header bytes and the weights run backwards. There the
    // digits are read as digits_value reads them (the numeric's last nd int16).
    return digits_value(reinterpret_cast<const int16 *>(end - 2 * size_t(nd)), nd, int(nd) - 1);
#else
    uint64_t w;
    memcpy(&w, end - 8, sizeof w);
    w &= ~uint64_t(0) << (16 * (4 - nd));
#if defined(__SSE2__) && defined(__x86_64__)  // _mm_cvtsi64_si128: a 64-bit register
    const __m128i weights = _mm_set_epi16(0, 0, 0, 0, 1, 10000, 1, 10000);
    __m128i pairs = _mm_madd_epi16(_mm_cvtsi64_si128(int64_t(w)), weights);  // lanes 0-1, 2-3
    int64_t high = _mm_cvtsi128_si32(pairs), low = _mm_cvtsi128_si32(_mm_srli_epi64(pairs, 32));
    return high * 100000000 + low;
#else
    auto lane = [w](int i) { return int64_t(int16(uint16(w >> (16 * i)))); };
    return ((lane(0) * 10000 + lane(1)) * 10000 + lane(2)) * 10000 + lane(3);
#endif
#endif
}
}  // namespace numeric_fast

// Inline in every read (the read path calls it for each count of each entry; out of line its
// call and return were a quarter of its cost).
inline __attribute__((always_inline)) CountDecode decode_jsonb_count(const char *p, int64_t &out)
{
    using namespace numeric_bits;
    // The varlena word of a 4-byte header (JSONB's: the size shifted left by 2, low bits 0) and
    // the short header's format, sign and weight bits in one key: one digit, weight 0 (below
    // 10^4); two digits, weight 1 (below 10^8); or no digits, weight 0 (zero: a count of 0, e.g.
    // failed_requests, as decode_numeric_count reads it); each positive. dscale is not in the
    // key (a whole number's dscale does not change its value). Round 7 of issue 13: one compare
    // per case instead of three. Round 9: the key is 64 bits (the whole varlena word kept, so no
    // `word < 2^16` test; the constants still fit a compare's 32-bit immediate), and a negative
    // count goes to decode_numeric_count (no sign applied on the fast path: ~6 instructions a
    // count; counts are not negative in practice, and that path gives the same value).
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    // The key is a little-endian varlena word's (size << 2): a big-endian word holds the size
    // unshifted, so a numeric 4x as long (e.g. 32 bytes: 13 digits, weight 0, a fractional
    // count) would match kOne and read as its first digit. There: the general decoder.
    return decode_numeric_count(p, out);
#else
    uint32 word;
    uint16 header;
    memcpy(&word, p, sizeof word);
    memcpy(&header, p + VARHDRSZ, sizeof header);
    const int16 *d = reinterpret_cast<const int16 *>(p + VARHDRSZ + sizeof(uint16));
    constexpr uint64_t kShapeBits = kSignMask | kShortSignMask | kShortWeightSignMask | kShortWeightMask;
    constexpr uint64_t kOne = (uint64_t(VARHDRSZ + 4) << 18) | kShort;
    constexpr uint64_t kTwo = (uint64_t(VARHDRSZ + 6) << 18) | kShort | 1;
    constexpr uint64_t kZero = (uint64_t(VARHDRSZ + 2) << 18) | kShort;
    static_assert(kTwo < (uint64_t(1) << 31), "the keys fit a compare's immediate");
    // A 1-byte or TOAST header has low bits other than 00: kept in the key, it matches no case.
    uint64_t key = (uint64_t(word) << 16) | (header & kShapeBits);
    if (__builtin_expect(key == kOne, 1))
        out = d[0];
    else if (key == kTwo)
        out = d[0] * int64_t(10000) + d[1];
    else if (key == kZero)
        out = 0;
    else
        return decode_numeric_count(p, out);
    return CountDecode::ok;
#endif
}

// decode_jsonb_count for a numeric with at least 2 readable bytes before it (a value of a
// container: its JEntries or key bytes lie before it). Round 13 of issue 13: the varlena word and
// the header in one 8-byte load from p - 2 (bytes 2-5 the word, 6-7 the header), the key one
// AND with a 64-bit mask, one compare for the common case (~3 instructions a count fewer than
// the word's and header's two loads, shift and OR). The same keys and values as decode_jsonb_count.
inline __attribute__((always_inline)) CountDecode decode_dense_count(const char *p, int64_t &out)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return decode_jsonb_count(p, out);
#else
    using namespace numeric_bits;
    uint64_t q;
    memcpy(&q, p - 2, sizeof q);
    const int16 *d = reinterpret_cast<const int16 *>(p + VARHDRSZ + sizeof(uint16));
    constexpr uint64_t kShapeBits = kSignMask | kShortSignMask | kShortWeightSignMask | kShortWeightMask;
    constexpr uint64_t kMask = (uint64_t(0xFFFFFFFF) << 16) | (kShapeBits << 48);
    // decode_jsonb_count's keys, the word shifted 16 bits up and the header's bits 48 up.
    constexpr auto key_of = [](uint64_t word, uint64_t header) { return (word << 16) | (header << 48); };
    constexpr uint64_t kOne = key_of(uint64_t(VARHDRSZ + 4) << 2, kShort);
    constexpr uint64_t kTwo = key_of(uint64_t(VARHDRSZ + 6) << 2, kShort | 1);
    constexpr uint64_t kZero = key_of(uint64_t(VARHDRSZ + 2) << 2, kShort);
    uint64_t key = q & kMask;
    if (__builtin_expect(key == kOne, 1))
        out = d[0];
    else if (key == kTwo)
        out = d[0] * int64_t(10000) + d[1];
    else if (key == kZero)
        out = 0;
    else
        return decode_numeric_count(p, out);
    return CountDecode::ok;
#endif
}

// A cost as the read path's fast form: value = m * 10^-scale (0 <= scale <= kMaxFastScale),
// printed with dscale digits: Decimal::from_base10000's inline case (a 4-byte header, the short
// format, at most four base-10000 digits, none past the fast scale) and zero, read without a
// loop and without a Decimal. False for anything else (then decode_numeric reads it); where
// it is true, decode_numeric gives the same value, scale and dscale.
inline __attribute__((always_inline)) bool decode_jsonb_cost(const char *p, int64_t &m, int &scale, int &dscale)
{
    using namespace numeric_bits;
    if (!VARATT_IS_4B_U(p))
        return false;
    uint32 nd = (VARSIZE_4B(p) - VARHDRSZ - sizeof(uint16)) / sizeof(int16);
    uint16 header;
    memcpy(&header, p + VARHDRSZ, sizeof header);
    if ((header & kSignMask) != kShort)
        return false;
    dscale = (header & kShortDscaleMask) >> kShortDscaleShift;
    if (nd == 0) {  // zero (0, 0.00, -0.0): numeric keeps no sign for it
        m = 0;
        scale = 0;
        return true;
    }
    // The short format's 7-bit weight (sign bit kShortWeightSignMask) sign-extended without a
    // branch: -1 - (~header & kShortWeightMask) is the field minus 64 when the sign bit is set.
    static_assert(kShortWeightSignMask == 0x40 && kShortWeightMask == 0x3F, "a 7-bit two's complement field");
    int weight = int32_t(uint32_t(header) << 25) >> 25;
    int frac_digits = int(nd) - weight - 1;
    if (nd > 4 || frac_digits < 0 || frac_digits > core::kMaxFastScale / 4)
        return false;
    int64_t v = numeric_fast::trailing_digits_value(p + VARSIZE_4B(p), nd);
    int64_t neg = -int64_t((header >> 13) & 1);
    m = (v ^ neg) - neg;
    scale = frac_digits * 4;
    return true;
}

// decode_numeric for a cost: Decimal::from_base10000's inline case (<= 4 digits, none past the
// fast scale), read without a loop; false only where decode_numeric is false.
inline bool decode_jsonb_decimal(const char *p, core::Decimal &out)
{
    using namespace numeric_bits;
    if (!VARATT_IS_4B_U(p))
        return decode_numeric(p, out);
    uint32 nd = (VARSIZE_4B(p) - VARHDRSZ - sizeof(uint16)) / sizeof(int16);
    uint16 header;
    memcpy(&header, p + VARHDRSZ, sizeof header);
    int weight = (header & kShortWeightSignMask) ? -1 - int((~header) & kShortWeightMask)
                                                 : int(header & kShortWeightMask);
    int frac_digits = int(nd) - weight - 1;
    if ((header & kSignMask) != kShort || nd - 1 > 3 || frac_digits < 0 || frac_digits > core::kMaxFastScale / 4)
        return decode_numeric(p, out);
    // The digits as one integer: digit i weighs 10000^(nd - 1 - i).
    int64_t m = numeric_fast::digits_value(reinterpret_cast<const int16 *>(p + VARHDRSZ + sizeof(uint16)), nd,
                                           int(nd) - 1);
    out.dscale = (header & kShortDscaleMask) >> kShortDscaleShift;
    out.big = false;
    out.mantissa = (header & kShortSignMask) ? -m : m;
    out.scale = frac_digits * 4;
    return true;
}

}  // namespace ducache::pg
