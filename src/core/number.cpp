#include "core/number.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <string>

namespace ducache::core {

namespace {
bool is_digit(char c) { return c >= '0' && c <= '9'; }
// numeric_in refuses any exponent at or beyond ±(INT_MAX / 2), whatever the digits (even 0).
constexpr long long kExponentLimit = 1073741823;
}  // namespace

bool parse_json_number(std::string_view t, Decimal &out)
{
    size_t i = 0, n = t.size();
    bool negative = false;
    if (i < n && t[i] == '-') {
        negative = true;
        i++;
    }
    size_t int_begin = i;
    if (i < n && t[i] == '0')
        i++;
    else if (i < n && t[i] >= '1' && t[i] <= '9')
        while (i < n && is_digit(t[i]))
            i++;
    else
        return false;
    std::string_view int_part = t.substr(int_begin, i - int_begin);
    std::string_view frac_part;
    if (i < n && t[i] == '.') {
        size_t fb = ++i;
        while (i < n && is_digit(t[i]))
            i++;
        if (i == fb)
            return false;
        frac_part = t.substr(fb, i - fb);
    }
    long long exponent = 0;
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (t[i] == '+' || t[i] == '-'))
            eneg = t[i++] == '-';
        size_t eb = i;
        while (i < n && is_digit(t[i])) {
            if (exponent < kExponentLimit)  // saturates: more digits cannot bring it back
                exponent = std::min(exponent * 10 + (t[i] - '0'), kExponentLimit);
            i++;
        }
        if (i == eb)
            return false;
        if (eneg)
            exponent = -exponent;
    }
    if (i != n)
        return false;
    const auto overflow = [&] {
        throw Error("22003", "value overflows numeric format",
                    "The number " + std::string(t.substr(0, 40)) + " is outside numeric's range.");
    };
    if (exponent >= kExponentLimit || exponent <= -kExponentLimit)
        overflow();

    // digits = int_part + frac_part, value = digits * 10^(exponent - frac_len).
    std::string digits;
    digits.reserve(int_part.size() + frac_part.size());
    digits.append(int_part);
    digits.append(frac_part);
    size_t nz = digits.find_first_not_of('0');
    digits = nz == std::string::npos ? std::string("0") : digits.substr(nz);
    long long scale = (long long)frac_part.size() - exponent;
    long long dscale = scale > 0 ? scale : 0;
    long long int_digits = (long long)digits.size() - scale;
    // As numeric's make_result: the display scale must fit its 14 bits for every value, zero
    // included ("0e-16384" is 22003 like ::numeric); the weight only matters for non-zero.
    if (dscale > kMaxDscale || (digits != "0" && int_digits > kMaxIntDigits))
        overflow();
    if (digits == "0")
        scale = 0;
    if (scale < 0) {
        digits.append(size_t(-scale), '0');
        scale = 0;
    }
    out.dscale = int(dscale);
    if (digits.size() <= 36 && scale <= kMaxFastScale) {
        __int128 m = 0;
        for (char c : digits)
            m = m * 10 + (c - '0');
        out.mantissa = negative ? -m : m;
        out.scale = int(scale);
        out.big = false;
        return true;
    }
    if ((long long)digits.size() <= scale)
        digits.insert(0, size_t(scale - (long long)digits.size() + 1), '0');
    if (scale > 0)
        digits.insert(digits.size() - size_t(scale), 1, '.');
    out.big = true;
    out.big_text = (negative ? "-" : "") + digits;
    out.mantissa = 0;
    out.scale = int(scale);
    return true;
}

}  // namespace ducache::core
