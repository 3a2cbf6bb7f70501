// core/merge_days: how many days a ducache_merge input entry stands for (CONTRACT §6), with
// hand-written expectations, and the day sums of the combine step.
#include "core/aggregator.hpp"
#include "core/error.hpp"
#include "core/merge_days.hpp"

#include "entry_model.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <stdexcept>

namespace ut_merge_days_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;
using entry_model::Members;
using entry_model::TreeView;
using entry_model::Value;

namespace {

FixedLabel kRow("input row 3");

int32_t days_of(const Members &entry)
{
    TreeView view(entry);
    return entry_days(view, find_days_member(view), EntrySite{"ducache_merge input", kRow, "u1"});
}

Error days_error(const Members &entry)
{
    try {
        days_of(entry);
    } catch (const Error &e) {
        return e;
    }
    throw std::runtime_error("no error raised");  // fails the test
}

Members with_days(Value v) { return {{"requests", Value::num("5")}, {"days", std::move(v)}}; }

}  // namespace

TEST(MergeDays, AbsentOrNullIsOneDay)
{
    EXPECT_EQ(days_of({{"requests", Value::num("5")}}), 1);
    EXPECT_EQ(days_of({}), 1);
    EXPECT_EQ(days_of(with_days(Value::null())), 1);
}

TEST(MergeDays, WholeNumbersCountAsThatManyDays)
{
    EXPECT_EQ(days_of(with_days(Value::num("3"))), 3);
    EXPECT_EQ(days_of(with_days(Value::num("0"))), 0);
    EXPECT_EQ(days_of(with_days(Value::num("12.0"))), 12);
    EXPECT_EQ(days_of(with_days(Value::num("1e2"))), 100);
    EXPECT_EQ(days_of(with_days(Value::num("2147483647"))), INT32_MAX);
    EXPECT_EQ(days_of(with_days(Value::str("31"))), 31);  // a number literal in a string, as in §2
}

TEST(MergeDays, OnlyTheTopLevelMemberCounts)
{
    // A "days" inside the nested metrics object is not a day count.
    Members entry = {{"metrics", Value::object({{"api_requests", Value::num("1")}, {"days", Value::num("9")}})}};
    EXPECT_EQ(days_of(entry), 1);
}

TEST(MergeDays, BadValuesNameRowKeyAndField)
{
    Error e = days_error(with_days(Value::num("-1")));
    EXPECT_STREQ(e.sqlstate, "22023");
    EXPECT_EQ(e.message, "invalid usage value on input row 3 for key \"u1\", field \"days\"");
    EXPECT_EQ(e.detail, "ducache_merge input on input row 3, key \"u1\", field \"days\": a day count must be a whole "
                        "number from 0 to 2147483647, not -1.");

    EXPECT_EQ(days_error(with_days(Value::num("2147483648"))).detail.find("not 2147483648") != std::string::npos, true);
    Error huge = days_error(with_days(Value::num("1e30")));
    EXPECT_STREQ(huge.sqlstate, "22023");
    EXPECT_NE(huge.detail.find("from 0 to 2147483647."), std::string::npos);
    EXPECT_STREQ(days_error(with_days(Value::num("-1e30"))).sqlstate, "22023");

    Error frac = days_error(with_days(Value::num("2.5")));
    EXPECT_STREQ(frac.sqlstate, "22023");
    EXPECT_NE(frac.detail.find("a day count must be a whole number."), std::string::npos);
    EXPECT_STREQ(days_error(with_days(Value::str("2.5"))).sqlstate, "22023");

    EXPECT_STREQ(days_error(with_days(Value::boolean())).sqlstate, "22023");
    EXPECT_STREQ(days_error(with_days(Value::array())).sqlstate, "22023");
    EXPECT_STREQ(days_error(with_days(Value::object({}))).sqlstate, "22023");
    Error text = days_error(with_days(Value::str("many")));
    EXPECT_STREQ(text.sqlstate, "22P02");
    EXPECT_NE(text.message.find("field \"days\""), std::string::npos);
}

TEST(MergeDays, DaySumsAreCheckedAndCombined)
{
    int32_t acc = INT32_MAX - 2;
    add_days_or_throw(acc, 2, "k", kRow);
    EXPECT_EQ(acc, INT32_MAX);
    try {
        add_days_or_throw(acc, 1, "k", kRow);
        ADD_FAILURE() << "no error";
    } catch (const Error &e) {
        EXPECT_STREQ(e.sqlstate, "22003");
        EXPECT_EQ(e.message, "integer out of range summing days for key \"k\"");
        EXPECT_EQ(acc, INT32_MAX);  // unchanged
    }

    KeyAggregator a, b;
    a.find_or_insert("x", 1).totals.active_days = 4;
    b.find_or_insert("x", 1).totals.active_days = 5;
    b.find_or_insert("y", 1).totals.active_days = 2;
    combine_merge_states(a, b);
    EXPECT_EQ(a.find("x", 1)->totals.active_days, 9);
    EXPECT_EQ(a.find("y", 1)->totals.active_days, 2);

    KeyAggregator c;
    c.find_or_insert("x", 1).totals.active_days = INT32_MAX;
    EXPECT_THROW(combine_merge_states(a, c), Error);
}

}  // namespace ut_merge_days_test
