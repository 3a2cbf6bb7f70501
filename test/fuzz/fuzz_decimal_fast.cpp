// libFuzzer target: issue 13's fast cost arithmetic against the slow exact path. The bytes are
// a list of numeric values in PostgreSQL's layout (sign, weight, dscale, base-10000 digits).
// Each is decoded by Decimal::from_base10000 (inline 64-bit when it fits) and by
// from_base10000_wide; both are summed in DecimalSums (the inline same-scale add, else the
// general one), and a reference sum is kept in BigDecimal from the digits written out as text.
// The three sums must print the same, and compare equal. same_bytes is checked against memcmp
// on the raw input.
#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/same_bytes.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

using namespace ducache::core;

namespace {

// The value as plain text "-123.4500" (scale = 4 per fractional base-10000 digit), which
// BigDecimal::from_plain reads without any of the code under test.
std::string plain(bool negative, int weight, const int16_t *d, int n)
{
    std::string all;
    char buf[8];
    for (int i = 0; i < n; i++) {
        std::snprintf(buf, sizeof buf, "%04d", int(d[i]));
        all += buf;
    }
    int point = (weight + 1) * 4;
    if (point > int(all.size()))
        all.append(size_t(point - int(all.size())), '0');
    if (point <= 0) {
        all.insert(0, size_t(-point) + 1, '0');
        point = 1;
    }
    std::string out = all.substr(0, size_t(point));
    if (size_t(point) < all.size())
        out += "." + all.substr(size_t(point));
    return (negative ? "-" : "") + out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // same_bytes on two halves of the input.
    size_t half = size / 2;
    if (same_bytes(data, data + half, half) != (std::memcmp(data, data + half, half) == 0))
        abort();

    auto *mr = std::pmr::get_default_resource();
    DecimalSum fast(mr), wide(mr);
    BigDecimal ref(mr);
    int dscale = 0;
    size_t at = 0;
    try {
        while (at + 3 <= size) {
            uint8_t head = data[at], w = data[at + 1], ds = data[at + 2];
            at += 3;
            bool negative = head & 0x80;
            int n = head % 7;  // 0..6 digits: around the 4-digit inline limit
            int weight = int(w % 24) - 14;  // -14..9: scales past 36, integer zeros past 4 digits
            int16_t digits[6];
            for (int i = 0; i < n; i++) {
                uint16_t v = 0;
                if (at + 2 <= size) {
                    std::memcpy(&v, data + at, 2);
                    at += 2;
                }
                digits[i] = int16_t(v % 10000);
            }
            if (n == 0)
                negative = false;  // numeric zero has no sign
            // numeric's dscale covers at least the fractional digits present (trailing zeros
            // of the last digit may be cut); give it 0..3 more for the display-scale rule.
            int frac = std::max(0, n - weight - 1) * 4;
            int this_dscale = std::max(0, frac - int(ds % 4)) + int((ds >> 2) % 4);
            Decimal a, b;
            Decimal::from_base10000(a, negative, weight, this_dscale, digits, n);
            Decimal::from_base10000_wide(b, negative, weight, this_dscale, digits, n);
            fast.add(a);
            wide.add(b);
            ref.add(BigDecimal::from_plain(plain(negative, weight, digits, n), mr));
            dscale = std::max(dscale, this_dscale);
        }
    } catch (const Error &) {
        return 0;  // a sum past numeric's range: the same for every path (checked in unit tests)
    }
    std::string want = ref.to_string(dscale);
    if (fast.to_string() != want || wide.to_string() != want)
        abort();
    if (fast.compare(wide) != 0)
        abort();
    return 0;
}
