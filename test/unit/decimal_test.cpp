#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/number.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ut_decimal_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

Decimal num(const std::string &text)
{
    Decimal d;
    EXPECT_TRUE(parse_json_number(text, d)) << text;
    return d;
}

std::string sum_of(const std::vector<std::string> &values)
{
    DecimalSum s;
    for (const auto &v : values)
        s.add(num(v));
    return s.to_string();
}

}  // namespace

// Expected strings are what PostgreSQL prints for SELECT sum(x::numeric) over the same values.
TEST(DecimalSum, DisplayScaleIsTheLargestInputScale)
{
    EXPECT_EQ(sum_of({"0.0246", "0.45"}), "0.4746");
    EXPECT_EQ(sum_of({"1.50", "2"}), "3.50");
    EXPECT_EQ(sum_of({"-0.5", "0.5"}), "0.0");
    EXPECT_EQ(sum_of({}), "0");
    EXPECT_EQ(sum_of({"0.000"}), "0.000");
    EXPECT_EQ(sum_of({"-0.25", "0.05"}), "-0.20");
}

TEST(DecimalSum, NineAndMoreDecimalsStayExact)
{
    EXPECT_EQ(sum_of({"0.123456789", "0.000000001", "1.1"}), "1.223456790");
    EXPECT_EQ(sum_of({"0.1", "0.2"}), "0.3");  // not 0.30000000000000004
    std::vector<std::string> many(1000, "0.0000001234567891");
    EXPECT_EQ(sum_of(many), "0.0001234567891000");
}

TEST(DecimalSum, ExponentsFollowNumericIn)
{
    EXPECT_EQ(sum_of({"1e3"}), "1000");
    EXPECT_EQ(sum_of({"1.5e-3"}), "0.0015");
    EXPECT_EQ(sum_of({"1.50e1"}), "15.0");
    EXPECT_EQ(sum_of({"12.30"}), "12.30");
    EXPECT_EQ(sum_of({"-1E+2", "0.5"}), "-99.5");
}

TEST(DecimalSum, OverflowOfTheFastPathFallsBackExactly)
{
    // 10^30 * 1000 is past int128 at scale 10; the big path must keep every digit.
    std::vector<std::string> v(1000, "1000000000000000000000000000.0000000001");
    EXPECT_EQ(sum_of(v), "1000000000000000000000000000000.0000001000");
    EXPECT_EQ(sum_of({"1e60", "-1e60", "0.01"}), "0.01");
    EXPECT_EQ(sum_of({"123456789012345678901234567890123456789", "1"}),
              "123456789012345678901234567890123456790");
    EXPECT_EQ(sum_of({"0.1234567890123456789012345678901234567891", "0.1"}),
              "0.2234567890123456789012345678901234567891");
}

// Values at numeric's limits (122,913 integer digits, 16,000 fractional ones) sum exactly; the
// expected text is built by hand from the digits.
TEST(DecimalSum, HugeValuesStayExact)
{
    std::string expected = "2" + std::string(122911, '0') + "1." + std::string(15999, '0') + "1";
    EXPECT_EQ(sum_of({"2e122912", "1", "1e-16000"}), expected);
    EXPECT_EQ(sum_of({"2e122912", "-2e122912"}), "0");
    EXPECT_EQ(sum_of({"-1e-16000", "2e-16000"}), "0." + std::string(15999, '0') + "1");
    DecimalSum a, b;
    a.add(num("2e122912"));
    b.add(num("2e122912"));
    b.add(num("1e-16000"));
    EXPECT_LT(a.compare(b), 0);
    EXPECT_GT(b.compare(a), 0);
}

TEST(DecimalSum, MergingPartialSums)
{
    DecimalSum a, b;
    a.add(num("0.10"));
    b.add(num("-0.333"));
    b.add(num("1e40"));
    a.add(b);
    // Checked with Python's decimal module at 100 digits of precision.
    EXPECT_EQ(a.to_string(), "9999999999999999999999999999999999999999.767");
}

TEST(DecimalSum, Compare)
{
    DecimalSum a, b, c;
    a.add(num("0.5"));
    b.add(num("0.50000001"));
    c.add(num("1e50"));
    EXPECT_LT(a.compare(b), 0);
    EXPECT_GT(b.compare(a), 0);
    EXPECT_LT(b.compare(c), 0);
    EXPECT_EQ(a.compare(a), 0);
}

TEST(Decimal, FromBase10000MatchesNumericLayout)
{
    Decimal d;
    const int16_t digits1[] = {12, 3400};  // 12.34, dscale 2
    Decimal::from_base10000(d, false, 0, 2, digits1, 2);
    DecimalSum s;
    s.add(d);
    EXPECT_EQ(s.to_string(), "12.34");
    const int16_t digits2[] = {5};  // 5 * 10000^2 = 500000000
    Decimal::from_base10000(d, true, 2, 0, digits2, 1);
    DecimalSum t;
    t.add(d);
    EXPECT_EQ(t.to_string(), "-500000000");
    const int16_t digits3[] = {246};  // 0.0246: weight -1, digit 0246
    Decimal::from_base10000(d, false, -1, 4, digits3, 1);
    DecimalSum u;
    u.add(d);
    EXPECT_EQ(u.to_string(), "0.0246");
    const int16_t many[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};  // beyond the fast path
    Decimal::from_base10000(d, false, 11, 0, many, 12);
    DecimalSum v;
    v.add(d);
    EXPECT_EQ(v.to_string(), "100020003000400050006000700080009001000110012");
}

TEST(Decimal, CountConversion)
{
    int64_t v = 0;
    EXPECT_EQ(num("12").to_int64(v), Decimal::IntStatus::ok);
    EXPECT_EQ(v, 12);
    EXPECT_EQ(num("12.0").to_int64(v), Decimal::IntStatus::ok);
    EXPECT_EQ(v, 12);
    EXPECT_EQ(num("1e3").to_int64(v), Decimal::IntStatus::ok);
    EXPECT_EQ(v, 1000);
    EXPECT_EQ(num("-7").to_int64(v), Decimal::IntStatus::ok);
    EXPECT_EQ(v, -7);
    EXPECT_EQ(num("12.5").to_int64(v), Decimal::IntStatus::fractional);
    EXPECT_EQ(num("9223372036854775807").to_int64(v), Decimal::IntStatus::ok);
    EXPECT_EQ(v, INT64_MAX);
    EXPECT_EQ(num("-9223372036854775808").to_int64(v), Decimal::IntStatus::ok);
    EXPECT_EQ(v, INT64_MIN);
    EXPECT_EQ(num("9223372036854775808").to_int64(v), Decimal::IntStatus::out_of_range);
    EXPECT_EQ(num("1e40").to_int64(v), Decimal::IntStatus::out_of_range);
    EXPECT_EQ(num("1e40").to_int64(v), Decimal::IntStatus::out_of_range);
}

TEST(Number, AcceptsExactlyJsonNumberLiterals)
{
    Decimal d;
    for (const char *ok : {"0", "-0", "12", "-0.5", "1e3", "1E3", "1e+3", "1e-3", "0.0", "123.456e-2"})
        EXPECT_TRUE(parse_json_number(ok, d)) << ok;
    for (const char *bad : {"lots", "", " 12", "12 ", "NaN", "Infinity", "-Infinity", "+1", "01", "1.",
                            ".5", "1e", "-", "1e+", "0x10", "1_000", "--1", "1.2.3", "１２"})
        EXPECT_FALSE(parse_json_number(bad, d)) << bad;
}

TEST(Number, ValuesBeyondNumericRangeAreErrors)
{
    Decimal d;
    EXPECT_THROW(parse_json_number("1e200000", d), Error);
    EXPECT_THROW(parse_json_number("1e-20000", d), Error);
    EXPECT_TRUE(parse_json_number("1e1000", d));
    EXPECT_THROW(parse_json_number("0e-99999", d), Error);  // as ::numeric (issue 16 item 8)
}

namespace {

// numeric_in's reading of plain decimal text (set_var_from_str, then strip_var / make_result),
// written out digit by digit: the reference numeric_digits must equal. Its digits in a vector:
// a text past 128 bits has more groups than NumericDigits holds (numeric_digits says no there).
struct TextDigits {
    bool negative = false;
    int weight = 0, dscale = 0, ndigits = 0;
    std::vector<int16_t> digits;
};

TextDigits digits_of_text(const std::string &text)
{
    TextDigits out;
    size_t i = 0;
    bool negative = text[0] == '-';
    if (negative)
        i++;
    std::string ip, fp;
    for (; i < text.size() && text[i] != '.'; i++)
        ip += text[i];
    if (i < text.size())
        fp = text.substr(i + 1);
    out.dscale = int(fp.size());
    // Pad to whole groups of four on both sides of the point.
    while (ip.size() % 4)
        ip.insert(0, 1, '0');
    while (fp.size() % 4)
        fp += '0';
    std::vector<int> groups;
    for (size_t g = 0; g < ip.size(); g += 4)
        groups.push_back(std::stoi(ip.substr(g, 4)));
    int weight = int(ip.size() / 4) - 1;
    for (size_t g = 0; g < fp.size(); g += 4)
        groups.push_back(std::stoi(fp.substr(g, 4)));
    size_t lo = 0, hi = groups.size();
    while (lo < hi && groups[lo] == 0) {
        lo++;
        weight--;
    }
    while (hi > lo && groups[hi - 1] == 0)
        hi--;
    out.ndigits = int(hi - lo);
    out.negative = out.ndigits > 0 && negative;
    out.weight = out.ndigits > 0 ? weight : 0;
    for (size_t g = lo; g < hi; g++)
        out.digits.push_back(int16_t(groups[g]));
    return out;
}

void expect_digits_of_text(const DecimalSum &s)
{
    std::string text = s.to_string();
    NumericDigits got;
    if (!s.numeric_digits(got))
        return;  // the text path
    TextDigits want = digits_of_text(text);
    EXPECT_EQ(got.negative, want.negative) << text;
    EXPECT_EQ(got.weight, want.weight) << text;
    EXPECT_EQ(got.dscale, want.dscale) << text;
    ASSERT_EQ(got.ndigits, want.ndigits) << text;
    for (int i = 0; i < got.ndigits; i++)
        EXPECT_EQ(got.digits[i], want.digits[i]) << text << " digit " << i;
}

}  // namespace

// numeric_digits is numeric_in of to_string()'s text: scales, trailing zeros, zero and -0,
// negatives, values below 10^-4, 64-bit and 128-bit magnitudes, sums of mixed scales (a sum's
// scale above its dscale), big display scales. sql/79_numeric_direct checks the same against
// numeric_in itself.
TEST(DecimalSum, NumericDigitsAreNumericInOfTheText)
{
    const std::vector<std::vector<std::string>> cases = {
        {"0"}, {"0.00"}, {"-0.00"}, {"1"}, {"-1"}, {"12.3400"}, {"0.0001"}, {"0.00001234"}, {"10000"},
        {"99999999"}, {"100000000"}, {"1e3"}, {"1.5e-7"}, {"0.1", "-0.1"}, {"1.50", "2"}, {"0.0246", "0.45"},
        {"2.4976888017"}, {"-2.4976888017", "0.0000000001"}, {"123456789012345678.9012345678"},
        {"170141183460469231731687303715884105727"}, {"-170141183460469231731687303715884105727"},
        {"17014118346046923173168730371588410572.7"}, {"0.000000000000000000000000000000000001"},
        {"1.000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001"},
        {"5", "0.000000000000000000000000000000000000000000000000000000000000000000000000"},
        {"12345678901234567890123456789012345678", "1"}};
    for (const auto &c : cases) {
        DecimalSum s;
        for (const auto &v : c)
            s.add(num(v));
        expect_digits_of_text(s);
    }
    // Many values: random mantissas and scales, summed in varying counts.
    uint64_t x = 88172645463325252ull;
    auto next = [&] {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        return x;
    };
    for (int round = 0; round < 20000; round++) {
        DecimalSum s;
        int terms = 1 + int(next() % 4);
        for (int t = 0; t < terms; t++) {
            Decimal d;
            d.scale = int(next() % 20);
            d.dscale = d.scale + int(next() % 3);
            __int128 m = __int128(next() >> (next() % 64));
            if (next() % 4 == 0)
                m *= __int128(next() % 1000000007);
            d.mantissa = next() % 3 == 0 ? -m : m;
            s.add(d);
        }
        expect_digits_of_text(s);
    }
    // A Decimal as numeric's digits give it: scale above dscale (0.5 read as 5000 / 10^4).
    DecimalSum s;
    Decimal half;
    int16_t five[] = {5000};
    Decimal::from_base10000(half, false, -1, 1, five, 1);
    s.add(half);
    expect_digits_of_text(s);
    NumericDigits d;
    ASSERT_TRUE(s.numeric_digits(d));
    EXPECT_EQ(d.dscale, 1);
    EXPECT_EQ(d.weight, -1);
    ASSERT_EQ(d.ndigits, 1);
    EXPECT_EQ(d.digits[0], 5000);
    // Many values read as numeric's digits give them (scale = 4 x fractional groups, dscale
    // below it: to_string drops the digits past dscale), summed in varying counts.
    for (int round = 0; round < 20000; round++) {
        DecimalSum sum;
        int terms = 1 + int(next() % 3);
        for (int t = 0; t < terms; t++) {
            int16_t digits[5];
            int nd = 1 + int(next() % 5);
            for (int i = 0; i < nd; i++)
                digits[i] = int16_t(next() % 10000);
            int weight = int(next() % 4) - 2;
            int frac = std::max(0, nd - weight - 1);
            int dscale = frac == 0 ? 0 : int(next() % (frac * 4 + 1));
            Decimal v;
            Decimal::from_base10000(v, next() % 5 == 0, weight, dscale, digits, nd);
            sum.add(v);
        }
        expect_digits_of_text(sum);
    }
}

// integer_numeric_digits is numeric_in of the number's decimal text (and int64_to_numeric's
// value): zero, group boundaries, trailing zero groups, both ends of int64.
TEST(DecimalSum, IntegerDigitsAreNumericInOfTheText)
{
    std::vector<int64_t> cases = {0, 1, -1, 9999, 10000, -10000, 10001, 100000000, 123400005678, 1000000000000,
                                  INT64_MAX, INT64_MIN, INT64_MIN + 1, 8191, 8192};
    uint64_t x = 0x2545F4914F6CDD1Dull;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t v = int64_t(x >> (x % 64));
        cases.push_back(i % 2 ? v : -v);
    }
    for (int64_t v : cases) {
        std::string text = std::to_string(v);
        NumericDigits got;
        integer_numeric_digits(v, got);
        TextDigits want = digits_of_text(text);
        EXPECT_EQ(got.negative, want.negative) << text;
        EXPECT_EQ(got.weight, want.weight) << text;
        EXPECT_EQ(got.dscale, 0) << text;
        ASSERT_EQ(got.ndigits, want.ndigits) << text;
        for (int i = 0; i < got.ndigits; i++)
            EXPECT_EQ(got.digits[i], want.digits[i]) << text << " digit " << i;
    }
}

}  // namespace ut_decimal_test
