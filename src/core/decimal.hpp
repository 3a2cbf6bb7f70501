// Exact decimal numbers and sums. Costs must equal PostgreSQL's sum(numeric) digit for digit,
// so nothing here ever rounds: the common case is a 128-bit integer scaled by 10^scale, and
// anything that would overflow it moves to an arbitrary-precision fallback (BigDecimal).
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include <cstdint>
#include <memory_resource>
#include <string>
#include <vector>

namespace ducache::core {

// Display-scale rules follow PostgreSQL numeric: dscale is how many fractional digits the
// value prints with; a sum prints with the largest dscale of its inputs.
constexpr int kMaxDscale = 16383;  // NUMERIC_MAX_DISPLAY_SCALE
constexpr int kMaxIntDigits = 131072;  // numeric's limit on digits before the decimal point

// Arbitrary-precision signed decimal: magnitude in base-1e9 limbs (little-endian), scaled by
// 10^scale. Only used when a value or a sum does not fit the 128-bit fast path.
class BigDecimal {
public:
    explicit BigDecimal(std::pmr::memory_resource *mr = std::pmr::get_default_resource())
        : limbs_(mr) {}
    static BigDecimal from_int128(__int128 v, int scale, std::pmr::memory_resource *mr);
    // From plain text "-123.4500" (what Decimal::big_text and to_string hold).
    static BigDecimal from_plain(const std::string &text, std::pmr::memory_resource *mr);

    void rescale(int scale);                 // raise the scale (multiply by 10^(new-old))
    void add(const BigDecimal &other);       // exact; aligns scales
    int compare(const BigDecimal &other) const;
    bool is_zero() const;
    int scale() const { return scale_; }
    std::pmr::memory_resource *resource() const { return limbs_.get_allocator().resource(); }
    // Plain digits with exactly dscale fractional digits (padded or zero-trimmed).
    std::string to_string(int dscale) const;
    // Integer value when it fits int64 and has no fractional part.
    enum class IntStatus { ok, fractional, out_of_range };
    IntStatus to_int64(int64_t &out) const;
    // Number of digits before the decimal point (0 for |v| < 1).
    int integer_digits() const;

private:
    void mul_small(uint32_t m);
    void add_small(uint32_t a);
    int compare_magnitude(const BigDecimal &other) const;
    void trim();

    bool negative_ = false;
    int scale_ = 0;
    std::pmr::vector<uint32_t> limbs_;
};

constexpr int kMaxFastScale = 36;

// One exact value as read from JSON: mantissa * 10^-scale, displayed with dscale digits.
struct Decimal {
    __int128 mantissa = 0;
    int scale = 0;       // 0..kMaxFastScale on the fast path
    int dscale = 0;
    bool big = false;    // true: the value is in big_text (plain decimal digits) instead
    std::string big_text;

    // From PostgreSQL NumericVar parts: value = sum digits[i] * 10000^(weight - i). Costs
    // (up to 16 significant digits, no trailing integer zeros beyond the digits) decode inline
    // in 64 bits; the rest goes to from_base10000_wide.
    static void from_base10000(Decimal &out, bool negative, int weight, int dscale,
                               const int16_t *digits, int ndigits)
    {
        int frac_digits = ndigits - weight - 1;  // base-10000 digits after the point
        if (ndigits <= 4 && frac_digits >= 0 && frac_digits <= kMaxFastScale / 4) {
            int64_t m = 0;
            for (int i = 0; i < ndigits; i++)
                m = m * 10000 + digits[i];
            out.dscale = dscale;
            out.big = false;
            out.mantissa = negative ? -m : m;
            out.scale = frac_digits * 4;
            return;
        }
        from_base10000_wide(out, negative, weight, dscale, digits, ndigits);
    }
    // The general conversion (128 bits, or the big path's text): the reference of the above.
    static void from_base10000_wide(Decimal &out, bool negative, int weight, int dscale,
                                    const int16_t *digits, int ndigits);
    // Exact integer conversion for token and request counts (12.0 is 12; 12.5 is not).
    enum class IntStatus { ok, fractional, out_of_range };
    IntStatus to_int64(int64_t &out) const;
};

// A value in PostgreSQL numeric's base-10000 form, as numeric_in makes it of the value's text:
// value = sum digits[i] * 10000^(weight - i), digits most significant first, no leading or
// trailing zero digit; zero is ndigits 0, weight 0, not negative. dscale: the text's
// fractional digits. (pg/numeric_decode.hpp encodes it as numeric's on-disk bytes.)
// 10^n for 0 <= n <= 38 (a table: decimal.cpp).
__int128 pow10_128(int n);

struct NumericDigits {
    static constexpr int kMax = 12;  // a 128-bit magnitude aligned to groups of four digits
    bool negative = false;
    int weight = 0;
    int dscale = 0;
    int ndigits = 0;
    int16_t digits[kMax];
};

// A whole number as NumericDigits: what numeric_in makes of its decimal text, and what
// int64_to_numeric makes of it (dscale 0).
void integer_numeric_digits(int64_t v, NumericDigits &out);

// Running exact sum with PostgreSQL's display-scale rule.
class DecimalSum {
public:
    explicit DecimalSum(std::pmr::memory_resource *mr = std::pmr::get_default_resource())
        : big_(mr) {}
    // Inline when the value has the sum's scale and no overflow (every cost of a column
    // usually has one scale); add_general handles the rest exactly. Always inlined, as
    // add_counts (core/count_sum.hpp).
    __attribute__((always_inline)) void add(const Decimal &v)
    {
        __int128 next;
        if (!v.big && !is_big_ && v.scale == scale_ && !__builtin_add_overflow(acc_, v.mantissa, &next)) {
            acc_ = next;
            if (v.dscale > dscale_)
                dscale_ = v.dscale;
            return;
        }
        add_general(v);
    }
    void add_general(const Decimal &v);
    // Adds m * 10^-scale (a cost the read path decoded in 64 bits: 0 <= scale <= kMaxFastScale),
    // printed with dscale digits: what add() of that Decimal does, without building one. Inline
    // when the sum is on the fast path at a scale at least the value's, 10^18 apart at most, and
    // no overflow (a column's costs have a few scales; the sum takes the largest, so after the
    // first entries of a key the value is raised to it); add_scaled_general does the rest. Always
    // inline (round 12 of issue 13: GCC outlined it from the breakdown's nested program).
    __attribute__((always_inline)) void add_scaled(int64_t m, int scale, int dscale)
    {
        int up = scale_ - scale;
        __int128 next;
        if (!is_big_ && unsigned(up) <= 18u &&
            !__builtin_add_overflow(acc_, __int128(m) * kPow10_64[up], &next)) {
            acc_ = next;
            if (dscale > dscale_)
                dscale_ = dscale;
            return;
        }
        add_scaled_general(m, scale, dscale);
    }
    void add(const DecimalSum &other);
    // The sum on its 128-bit path as (acc, scale, dscale): value = acc * 10^-scale, printed with
    // dscale digits. False on the arbitrary-precision path (then to_string()). For a binary
    // wire form: add_parts() of those parts into a zero sum gives this sum back exactly.
    bool fast_parts(__int128 &acc, int &scale, int &dscale) const
    {
        if (is_big_)
            return false;
        acc = acc_;
        scale = scale_;
        dscale = dscale_;
        return true;
    }
    // Adds acc * 10^-scale printed with dscale digits (0 <= scale <= kMaxFastScale,
    // 0 <= dscale <= kMaxDscale: the caller checks), as add() of that Decimal does.
    void add_parts(__int128 acc, int scale, int dscale)
    {
        if (dscale > dscale_)
            dscale_ = dscale;
        __int128 next;
        if (!is_big_ && scale == scale_ && !__builtin_add_overflow(acc_, acc, &next)) {
            acc_ = next;
            return;
        }
        add_fast(acc, scale);
    }
    bool is_zero() const;
    int dscale() const { return dscale_; }
    // Exactly what sum(numeric) prints: e.g. 0.0246 + 0.45 -> "0.4746", 1.50 + 2 -> "3.50".
    std::string to_string() const;
    // The value to_string() prints, as NumericDigits (what numeric_in makes of that text),
    // without the text. False on the arbitrary-precision path: then use to_string().
    bool numeric_digits(NumericDigits &out) const;
    // Orders sums by value (for "top by cost" and breakdown ordering). Inline for two sums on
    // the fast path at one scale (what a breakdown's sort meets almost always).
    int compare(const DecimalSum &other) const
    {
        if (!is_big_ && !other.is_big_ && scale_ == other.scale_)
            return (acc_ > other.acc_) - (acc_ < other.acc_);
        return compare_general(other);
    }

    static constexpr int64_t kPow10_64[19] = {1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL,
        10000000LL, 100000000LL, 1000000000LL, 10000000000LL, 100000000000LL, 1000000000000LL,
        10000000000000LL, 100000000000000LL, 1000000000000000LL, 10000000000000000LL,
        100000000000000000LL, 1000000000000000000LL};

private:
    int compare_general(const DecimalSum &other) const;
    void add_scaled_general(int64_t m, int scale, int dscale);
    void add_fast(__int128 mantissa, int scale);
    void add_big(const BigDecimal &v);
    BigDecimal as_big() const;

    __int128 acc_ = 0;
    int scale_ = 0;
    int dscale_ = 0;
    bool is_big_ = false;
    BigDecimal big_;
};

}  // namespace ducache::core
