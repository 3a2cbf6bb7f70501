// The rule for when the identity lookup reads the users table whole (core/lookup_rule.hpp).
#include "core/lookup_rule.hpp"

#include <gtest/gtest.h>

namespace ut_lookup_rule_test {  // one per test file: the unity build (CMakeLists.txt)

using ducache::core::users_lookup_reads_whole_table;

TEST(LookupRule, WholeTableUpToFourRowsAKey)
{
    EXPECT_TRUE(users_lookup_reads_whole_table(10000, 10000));
    EXPECT_TRUE(users_lookup_reads_whole_table(40000, 10000));
    EXPECT_FALSE(users_lookup_reads_whole_table(40001, 10000));
    EXPECT_TRUE(users_lookup_reads_whole_table(0, 1));  // analyzed, empty
    EXPECT_TRUE(users_lookup_reads_whole_table(4, 1));
    EXPECT_FALSE(users_lookup_reads_whole_table(5, 1));
    EXPECT_FALSE(users_lookup_reads_whole_table(1e6, 100));
}

TEST(LookupRule, UnknownSizeOrNoKeysFilter)
{
    EXPECT_FALSE(users_lookup_reads_whole_table(-1, 10000));  // never vacuumed or analyzed
    EXPECT_FALSE(users_lookup_reads_whole_table(0, 0));
    EXPECT_FALSE(users_lookup_reads_whole_table(10, 0));
}

TEST(LookupRule, RowsNowScaleTheStatisticsDensityByThePagesNow)
{
    using ducache::core::users_table_rows_now;
    EXPECT_EQ(users_table_rows_now(10000, 100, 100), 10000);  // as analyzed
    EXPECT_EQ(users_table_rows_now(10000, 100, 1000), 100000);  // grown tenfold since
    EXPECT_EQ(users_table_rows_now(10000, 100, 50), 5000);
    EXPECT_EQ(users_table_rows_now(-1, 0, 100), -1);  // never vacuumed or analyzed
    EXPECT_EQ(users_table_rows_now(-1, 10, 10), -1);
    EXPECT_EQ(users_table_rows_now(0, 0, 0), 0);  // analyzed empty, still empty
    EXPECT_EQ(users_table_rows_now(0, 0, 5), -1);  // analyzed empty, rows since: unknown
    EXPECT_EQ(users_table_rows_now(500, 0, 0), 500);  // no storage (pages_now = relpages)
    // A table analyzed small and grown far is no longer read whole for 10,000 keys.
    EXPECT_TRUE(ducache::core::users_lookup_reads_whole_table(users_table_rows_now(10000, 100, 100), 10000));
    EXPECT_FALSE(ducache::core::users_lookup_reads_whole_table(users_table_rows_now(10000, 100, 1000), 10000));
}

}  // namespace ut_lookup_rule_test
