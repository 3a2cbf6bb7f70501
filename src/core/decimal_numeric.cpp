// DecimalSum::numeric_digits: a sum as PostgreSQL numeric's base-10000 digits, for the JSONB
// sink (pg/numeric_decode.hpp encode_numeric), apart from the sums' arithmetic in decimal.cpp.
#include "core/decimal.hpp"

#include <cstdint>

namespace ducache::core {

bool DecimalSum::numeric_digits(NumericDigits &out) const
{
    if (is_big_)
        return false;
    bool negative = acc_ < 0;
    unsigned __int128 mag = negative ? (unsigned __int128)(-(acc_ + 1)) + 1 : (unsigned __int128)acc_;
    int scale = scale_;
    if (scale > dscale_) {  // to_string drops the digits beyond dscale (format_scaled)
        mag /= (unsigned __int128)pow10_128(scale - dscale_);
        scale = dscale_;
    }
    // Aligned to whole groups of four fractional digits: an integer of base-10000 digits. The
    // fast path keeps scale <= kMaxFastScale, so the zero groups after the point fit `little`.
    static_assert((kMaxFastScale + 3) / 4 <= NumericDigits::kMax);
    int frac_groups = (scale + 3) / 4;
    unsigned __int128 factor = (unsigned __int128)pow10_128(frac_groups * 4 - scale);
    if (mag > ~(unsigned __int128)0 / factor)
        return false;  // a 128-bit magnitude near the top: the text path
    mag *= factor;
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
