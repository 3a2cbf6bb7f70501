// PostgreSQL numeric's base-10000 digits and the core's decimals, apart from the sums'
// arithmetic in decimal.cpp: Decimal::from_base10000_wide (a stored value's digits to a
// Decimal: the general case of the inline from_base10000) and DecimalSum::numeric_digits (a sum
// as digits, for the JSONB sink and the output's numerics: pg/numeric_decode.hpp encode_numeric).
#include "core/decimal.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ducache::core {

void Decimal::from_base10000_wide(Decimal &out, bool negative, int weight, int dscale,
                             const int16_t *digits, int ndigits)
{
    out.dscale = dscale;
    out.big = false;
    // Fractional base-10000 digits present, and trailing integer zeros implied by weight.
    int frac_digits = std::max(0, ndigits - weight - 1);
    int int_pad = std::max(0, weight + 1 - ndigits);
    // At most nine base-10000 digits in all, implied integer zeros included: below 10^36. (Nine
    // digits plus four zeros, as this allowed before, overflowed 128 bits from 10^38 on.)
    if (ndigits + int_pad <= 9 && frac_digits * 4 <= kMaxFastScale) {
        __int128 m = 0;
        for (int i = 0; i < ndigits; i++)
            m = m * 10000 + digits[i];
        for (int i = 0; i < int_pad; i++)
            m *= 10000;
        out.mantissa = negative ? -m : m;
        out.scale = frac_digits * 4;
        return;
    }
    // Rare: very long, very large or very precise values go through text to the big path.
    std::string s;
    char buf[8];
    for (int i = 0; i < ndigits; i++) {
        std::snprintf(buf, sizeof buf, "%04d", digits[i]);
        s += buf;
    }
    s.append(size_t(int_pad) * 4, '0');
    int scale = frac_digits * 4;
    if (int(s.size()) <= scale)
        s.insert(0, size_t(scale - int(s.size()) + 1), '0');
    if (scale > 0)
        s.insert(s.size() - size_t(scale), 1, '.');
    out.big = true;
    out.big_text = (negative ? "-" : "") + s;
    out.mantissa = 0;
    out.scale = scale;
}

bool DecimalSum::numeric_digits(NumericDigits &out) const
{
    if (is_big_)
        return false;
    bool negative = acc_ < 0;
    unsigned __int128 mag = negative ? (unsigned __int128)(-(acc_ + 1)) + 1 : (unsigned __int128)acc_;
    int scale = scale_;
    if (scale > dscale_) {  // to_string drops the digits beyond dscale (format_scaled)
        if (mag <= UINT64_MAX && scale - dscale_ <= 18)
            mag = uint64_t(mag) / uint64_t(kPow10_64[scale - dscale_]);
        else
            mag /= (unsigned __int128)pow10_128(scale - dscale_);
        scale = dscale_;
    }
    // Aligned to whole groups of four fractional digits: an integer of base-10000 digits. The
    // fast path keeps scale <= kMaxFastScale, so the zero groups after the point fit `little`.
    static_assert((kMaxFastScale + 3) / 4 <= NumericDigits::kMax);
    int frac_groups = (scale + 3) / 4;
    // The factor is 1, 10, 100 or 1000: the limits below which it cannot overflow, without a
    // 128-bit division per sum.
    static constexpr unsigned __int128 kAll = ~(unsigned __int128)0;
    static constexpr unsigned __int128 kLimit[4] = {kAll, kAll / 10, kAll / 100, kAll / 1000};
    static constexpr unsigned kFactor[4] = {1, 10, 100, 1000};
    int up = frac_groups * 4 - scale;
    out.dscale = dscale_;
    if (mag <= UINT64_MAX / 1000) {
        // The common case (a sum below ~1.8 x 10^16 at its scale): the aligned magnitude in 64
        // bits, its g groups written in place, most significant first (no leading zero group:
        // weight from g), the trailing zero groups dropped; as the general path below.
        uint64_t m = uint64_t(mag) * kFactor[up];
        if (m == 0) {
            out.ndigits = 0;
            out.negative = false;
            out.weight = 0;
            return true;
        }
        const int g = m < 10000ull ? 1 : m < 100000000ull ? 2 : m < 1000000000000ull ? 3 : m < 10000000000000000ull ? 4 : 5;
        for (int i = g - 1; i >= 0; i--) {
            out.digits[i] = int16_t(m % 10000);
            m /= 10000;
        }
        int nd = g;
        while (out.digits[nd - 1] == 0)  // digits[0] is not 0
            nd--;
        out.ndigits = nd;
        out.negative = negative;
        out.weight = g - frac_groups - 1;
        return true;
    }
    if (mag > kLimit[up])
        return false;  // a 128-bit magnitude near the top: the text path
    mag *= kFactor[up];
    int16_t little[NumericDigits::kMax];  // least significant first
    int n = 0;
    if (mag <= UINT64_MAX) {  // the common case: 64-bit divisions by a constant
        for (uint64_t m = uint64_t(mag); m != 0; m /= 10000)
            little[n++] = int16_t(m % 10000);
    } else {
        for (; mag != 0; mag /= 10000)
            little[n++] = int16_t(uint64_t(mag % 10000));
    }
    while (n < frac_groups)  // 0.0001234: the zero groups after the point
        little[n++] = 0;
    int weight = n - frac_groups - 1;
    int hi = n - 1, lo = 0;
    while (hi >= 0 && little[hi] == 0) {  // leading zero groups
        hi--;
        weight--;
    }
    while (lo <= hi && little[lo] == 0)  // trailing zero groups
        lo++;
    out.dscale = dscale_;
    out.ndigits = hi >= lo ? hi - lo + 1 : 0;
    if (out.ndigits == 0) {
        out.negative = false;
        out.weight = 0;
        return true;
    }
    out.negative = negative;
    out.weight = weight;
    for (int i = 0; i < out.ndigits; i++)
        out.digits[i] = little[hi - i];
    return true;
}

}  // namespace ducache::core

namespace ducache::core {

void integer_numeric_digits(int64_t v, NumericDigits &out)
{
    bool negative = v < 0;
    uint64_t m = negative ? uint64_t(0) - uint64_t(v) : uint64_t(v);
    int16_t little[5];  // least significant first; 2^63 has 19 digits
    int n = 0;
    for (; m != 0; m /= 10000)
        little[n++] = int16_t(m % 10000);
    int lo = 0;
    while (lo < n && little[lo] == 0)  // trailing zero groups
        lo++;
    out.negative = negative;  // v == 0: n == 0, not negative
    out.dscale = 0;
    out.weight = n > 0 ? n - 1 : 0;
    out.ndigits = n - lo;
    for (int i = 0; i < out.ndigits; i++)
        out.digits[i] = little[n - 1 - i];
}

}  // namespace ducache::core
