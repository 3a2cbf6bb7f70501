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

}  // namespace ut_lookup_rule_test
