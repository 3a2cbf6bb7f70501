#include "core/error.hpp"

#include <gtest/gtest.h>

namespace ut_error_test {  // one per test file: the unity build (CMakeLists.txt)

TEST(CoreError, CarriesSqlstateAndTexts)
{
    ducache::core::Error e("22003", "bigint out of range", "key \"u1\", field requests");
    EXPECT_STREQ(e.sqlstate, "22003");
    EXPECT_EQ(e.message, "bigint out of range");
    EXPECT_EQ(e.detail, "key \"u1\", field requests");
    EXPECT_STREQ(e.what(), "bigint out of range");
}

}  // namespace ut_error_test
