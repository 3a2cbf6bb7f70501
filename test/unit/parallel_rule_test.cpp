// The rule for when the user breakdown hands its range to parallel workers (core/parallel_rule.hpp):
// the days' minimum, the byte minimum (the shapes at L measured in round 10 of issue 13), the scans.
#include "core/parallel_rule.hpp"

#include <gtest/gtest.h>

namespace ut_parallel_rule_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

TEST(ParallelRule, DaysMinimum)
{
    EXPECT_FALSE(plan_parallel_breakdown(365, -1, 1LL << 40, 0).workers);  // -1: never
    EXPECT_FALSE(plan_parallel_breakdown(59, 60, 1LL << 40, 0).workers);
    EXPECT_TRUE(plan_parallel_breakdown(60, 60, 1LL << 40, 0).workers);
    EXPECT_FALSE(plan_parallel_breakdown(1, 0, 1LL << 40, 0).workers);  // one day: nothing to split
}

TEST(ParallelRule, BytesMinimumOfTheShapesAtL)
{
    const int32_t kb = kParallelMinKbDefault;
    // Stored bytes of aggregated_by_user over 10,000 users x 365 days (bench/shapes.sql, lz4).
    EXPECT_TRUE(plan_parallel_breakdown(365, 60, 21650670, kb).workers);    // flat_id_d6_m5_sparse
    EXPECT_TRUE(plan_parallel_breakdown(365, 60, 128500420, kb).workers);   // flat_id_d6_m5_daily
    EXPECT_TRUE(plan_parallel_breakdown(365, 60, 649040789, kb).workers);   // nested_uuid_d6_m7_daily
    // Round 13's break-even (core/parallel_rule.hpp): the first days of the same tables. Serial
    // where one worker took at most ~12 % off the wall, workers from where it took 18 % off.
    EXPECT_FALSE(plan_parallel_breakdown(119, 60, 7079301, kb).workers);    // sparse, 119 days
    EXPECT_FALSE(plan_parallel_breakdown(179, 60, 10652144, kb).workers);   // sparse, 179 days (-12 %)
    EXPECT_TRUE(plan_parallel_breakdown(239, 60, 14208565, kb).workers);    // sparse, 239 days (-18 %)
    EXPECT_FALSE(plan_parallel_breakdown(60, 60, 7080930, kb).workers);     // daily flat, 20 days' bytes
    EXPECT_TRUE(plan_parallel_breakdown(60, 60, 21206073, kb).workers);     // daily flat, 60 days (-27 %)
    // 0 (or less): no byte minimum; -1 bytes: not asked.
    EXPECT_TRUE(plan_parallel_breakdown(365, 60, 1000, 0).workers);
    EXPECT_TRUE(plan_parallel_breakdown(365, 60, -1, kb).workers);
    EXPECT_FALSE(plan_parallel_breakdown(365, 60, int64_t(kb) * 1024 - 1, kb).workers);
    EXPECT_TRUE(plan_parallel_breakdown(365, 60, int64_t(kb) * 1024, kb).workers);
    // Bytes are asked for only when they can decide.
    EXPECT_TRUE(parallel_needs_bytes(365, 60, kb));
    EXPECT_FALSE(parallel_needs_bytes(30, 60, kb));
    EXPECT_FALSE(parallel_needs_bytes(365, 60, 0));
}

TEST(ParallelRule, OneScanAParticipant)
{
    EXPECT_EQ(parallel_scans(1, true), 2);   // the 2-CPU machine: the leader and one worker
    EXPECT_EQ(parallel_scans(2, false), 2);  // the tests' forced plan: two workers, the leader waits
    EXPECT_EQ(parallel_scans(3, true), 4);
    EXPECT_EQ(parallel_scans(1, false), 1);
    EXPECT_EQ(parallel_scans(0, true), 1);   // never none: the query still reads the range
    EXPECT_EQ(parallel_scans(0, false), 1);
}

TEST(ParallelRule, WorkerLeavesTheRestToTheLeader)
{
    // The flat daily year at L: ~0.7 ms a day, the worker's half ~65 MB stored: it leaves the
    // last 9 days (3.0 + 3.6 ms of the leader's time alone), not 10.
    EXPECT_TRUE(worker_leaves_rest(9, 0.7, 65));
    EXPECT_FALSE(worker_leaves_rest(10, 0.7, 65));
    EXPECT_FALSE(worker_leaves_rest(100, 0.7, 65));
    // The sparse year (~0.13 ms a day, ~11 MB): ~3.6 ms, 27 days.
    EXPECT_TRUE(worker_leaves_rest(27, 0.13, 11));
    EXPECT_FALSE(worker_leaves_rest(28, 0.13, 11));
    // A nested year's half is hundreds of MB: never more than kLeaveAtMostMs.
    EXPECT_TRUE(worker_leaves_rest(6, 3.0, 450));
    EXPECT_FALSE(worker_leaves_rest(7, 3.0, 450));
    // No pace yet: claim.
    EXPECT_FALSE(worker_leaves_rest(1, 0, 0));
    EXPECT_TRUE(worker_leaves_rest(0, 0.1, 0));
}

TEST(ParallelRule, NoMoreReadersThanCpus)
{
    // The 2-CPU machine: the leader reads, so one worker; the leader left out: two.
    EXPECT_EQ(parallel_workers_for(2, 2, true), 1);
    EXPECT_EQ(parallel_workers_for(2, 2, false), 2);
    // One CPU: still one worker (the setting asked for workers; the rule only trims).
    EXPECT_EQ(parallel_workers_for(2, 1, true), 1);
    EXPECT_EQ(parallel_workers_for(2, 1, false), 1);
    // Enough CPUs: the setting stands, however large the machine.
    EXPECT_EQ(parallel_workers_for(2, 4, true), 2);
    EXPECT_EQ(parallel_workers_for(2, 3, true), 2);
    EXPECT_EQ(parallel_workers_for(8, 64, true), 8);
    EXPECT_EQ(parallel_workers_for(6, 4, true), 3);
    // CPUs unknown: the setting.
    EXPECT_EQ(parallel_workers_for(2, 0, true), 2);
    EXPECT_EQ(parallel_workers_for(2, -1, false), 2);
}

}  // namespace ut_parallel_rule_test
