// Number verdicts at the edges of numeric's range equal PostgreSQL 15's: each row below is what
// `SELECT 'text'::numeric` answers (accepted, or 22003 "value overflows numeric format"),
// recorded from a PostgreSQL 15 server (issue 16 item 8). The zero cases matter: numeric
// refuses a display scale over 16383 even for zero.
#include "core/error.hpp"
#include "core/number.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ut_number_extremes_test {  // one per test file: the unity build (CMakeLists.txt)

using ducache::core::Decimal;
using ducache::core::Error;
using ducache::core::parse_json_number;

namespace {

struct Case {
    const char *text;
    bool accepted;  // PostgreSQL: '<text>'::numeric succeeds
};

const Case kCases[] = {
    {"0e-16383", true},        {"0e-16384", false},      {"-0e-16384", false},
    {"0e-99999", false},       {"0.00e-16381", true},    {"0.00e-16382", false},
    {"0e1073741822", true},    {"0e1073741823", false},  {"0e99999999999", false},
    {"0e-1073741822", false},  {"0e-1073741823", false}, {"1e-1073741823", false},
    {"1e131071", true},        {"9e131071", true},       {"1e131072", false},
    {"10e131071", false},      {"1e-16383", true},       {"1e-16384", false},
    {"0.1e-16383", false},     {"1.5e-16382", true},     {"-1e131071", true},
    {"-1e-16384", false},      {"0e00000000000000000001073741823", false},
    {"0e-00000000000000000000000016383", true},
};

}  // namespace

TEST(NumberExtremes, VerdictsEqualPostgresNumeric)
{
    for (const Case &c : kCases) {
        Decimal d;
        if (c.accepted) {
            EXPECT_TRUE(parse_json_number(c.text, d)) << c.text;
        } else {
            try {
                parse_json_number(c.text, d);
                ADD_FAILURE() << c.text << " accepted; PostgreSQL raises 22003";
            } catch (const Error &e) {
                EXPECT_EQ(std::string(e.sqlstate), "22003") << c.text;
            }
        }
    }
}

TEST(NumberExtremes, ZeroKeepsItsDisplayScale)
{
    Decimal d;
    ASSERT_TRUE(parse_json_number("0e-16383", d));
    EXPECT_EQ(d.dscale, 16383);
    ASSERT_TRUE(parse_json_number("0.00e-16381", d));
    EXPECT_EQ(d.dscale, 16383);
}

}  // namespace ut_number_extremes_test
