// The block rule against the blocks written out by hand: 1-8, 9-16, 17-24, 25-end.
#include "core/rollup_blocks.hpp"

#include <gtest/gtest.h>

namespace ut_rollup_blocks_test {  // one per test file: the unity build (CMakeLists.txt)

namespace {

using ducache::core::block_last_day;
using ducache::core::block_start_day;

TEST(RollupBlocks, EveryDayOfEveryMonthLengthIsInItsHandWrittenBlock)
{
    const int starts[] = {1, 9, 17, 25};
    for (int n = 28; n <= 31; n++) {
        const int lasts[] = {8, 16, 24, n};
        for (int day = 1; day <= n; day++) {
            int b = day <= 8 ? 0 : day <= 16 ? 1 : day <= 24 ? 2 : 3;
            EXPECT_EQ(block_start_day(day), starts[b]) << "day " << day;
            EXPECT_EQ(block_last_day(block_start_day(day), n), lasts[b]) << "day " << day << " of " << n;
        }
    }
}

TEST(RollupBlocks, BlocksTileTheMonthWithoutGapsOrOverlap)
{
    for (int n = 28; n <= 31; n++) {
        int next = 1, blocks = 0;
        while (next <= n) {
            ASSERT_EQ(block_start_day(next), next);
            next = block_last_day(next, n) + 1;
            blocks++;
        }
        EXPECT_EQ(next, n + 1);
        EXPECT_EQ(blocks, 4);
    }
}

TEST(RollupBlocks, ADayThatIsNoBlockStartEndsSevenDaysLaterOrAtTheMonthsEnd)
{
    EXPECT_EQ(block_last_day(3, 30), 10);
    EXPECT_EQ(block_last_day(26, 31), 31);
    EXPECT_EQ(block_last_day(24, 28), 28);
}

}  // namespace

}  // namespace ut_rollup_blocks_test
