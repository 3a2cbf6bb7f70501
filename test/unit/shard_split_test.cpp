// The split of a day over shards (core/shard_split): the shard of a hash read as unsigned,
// each shard's total/model/provider sums equal to sums written out by hand from its users'
// cells, costs exact with sum(numeric)'s display scale, overflow refused with 22003.
#include "core/error.hpp"
#include "core/number.hpp"
#include "core/shard_split.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <string>

using namespace ducache::core;

namespace {

EntryValues values(int64_t requests, int64_t tokens, const char *cost)
{
    EntryValues v{};
    v.counts[kRequests] = requests;
    v.counts[kTotalTokens] = tokens;
    v.counts[kSuccessfulRequests] = requests;
    v.cost_seen = cost != nullptr;
    if (cost != nullptr)
        EXPECT_TRUE(parse_json_number(cost, v.cost));
    return v;
}

const FixedLabel kDay("2026-01-05");

}  // namespace

TEST(ShardSplit, ShardOfHashReadsTheHashUnsigned)
{
    // (hashtext(x)::bigint & 4294967295) % n, worked out by hand.
    EXPECT_EQ(shard_of_hash(0, 2), 0);
    EXPECT_EQ(shard_of_hash(7, 2), 1);
    EXPECT_EQ(shard_of_hash(-1, 2), 1);            // 4294967295 % 2
    EXPECT_EQ(shard_of_hash(-1, 3), 0);            // 4294967295 % 3
    EXPECT_EQ(shard_of_hash(INT32_MIN, 3), 2);     // 2147483648 % 3
    EXPECT_EQ(shard_of_hash(INT32_MAX, 5), 2);     // 2147483647 % 5
}

TEST(ShardSplit, SumsFollowTheUsersOfEachShard)
{
    ShardSplit s(2, {{"gpt-4o", "openai"}, {"claude-3", "anthropic"}, {"openai/o1", "openai"}, {"idle", "x"}});
    // shard 0: u1 (gpt-4o 0.10, claude 0.25), u3 (gpt-4o 0.2); shard 1: u2 (o1 1.50, claude 2)
    s.add_user(0, "u1", values(3, 30, "0.35"), kDay);
    s.add_cell(0, 0, "u1", values(1, 10, "0.10"), kDay);
    s.add_cell(0, 1, "u1", values(2, 20, "0.25"), kDay);
    s.add_user(1, "u2", values(5, 50, "3.50"), kDay);
    s.add_cell(1, 2, "u2", values(4, 40, "1.50"), kDay);
    s.add_cell(1, 1, "u2", values(1, 10, "2"), kDay);
    s.add_user(0, "u3", values(1, 1, nullptr), kDay);
    s.add_cell(0, 0, "u3", values(1, 1, "0.2"), kDay);

    EXPECT_EQ(s.total(0).counts[kRequests], 4);
    EXPECT_EQ(s.total(0).value_text(kCost), "0.35");
    EXPECT_EQ(s.total(1).value_text(kTotalTokens), "50");
    EXPECT_EQ(s.total(1).value_text(kCost), "3.50");

    EXPECT_TRUE(s.model(0, 0).used);
    EXPECT_EQ(s.model(0, 0).counts[kRequests], 2);
    EXPECT_EQ(s.model(0, 0).value_text(kCost), "0.30");
    EXPECT_FALSE(s.model(0, 2).used);     // o1 only has cells on shard 1
    EXPECT_FALSE(s.model(1, 0).used);
    EXPECT_FALSE(s.model(0, 3).used);     // no cell anywhere
    EXPECT_FALSE(s.model(1, 3).used);
    EXPECT_EQ(s.model(1, 1).value_text(kCost), "2");

    auto p0 = s.providers(0, kDay);
    ASSERT_EQ(p0.size(), 2u);
    EXPECT_EQ(p0["openai"].value_text(kCost), "0.30");
    EXPECT_EQ(p0["anthropic"].value_text(kCost), "0.25");
    auto p1 = s.providers(1, kDay);
    ASSERT_EQ(p1.size(), 2u);
    EXPECT_EQ(p1["openai"].counts[kTotalTokens], 40);
    EXPECT_EQ(p1["openai"].value_text(kCost), "1.50");
    EXPECT_EQ(p1["anthropic"].value_text(kCost), "2");
    EXPECT_EQ(p1["anthropic"].value_text(kFailedRequests), "0");
}

TEST(ShardSplit, CostsAreExactBeyondDoubles)
{
    ShardSplit s(1, {{"m", "p"}});
    s.add_cell(0, 0, "u", values(1, 0, "0.1"), kDay);
    s.add_cell(0, 0, "v", values(1, 0, "0.2"), kDay);
    s.add_cell(0, 0, "w", values(1, 0, "123456789012345678901234567890.000000000000000000001"), kDay);
    EXPECT_EQ(s.model(0, 0).value_text(kCost), "123456789012345678901234567890.300000000000000000001");
}

TEST(ShardSplit, CountOverflowIs22003)
{
    ShardSplit s(1, {{"m", "p"}});
    s.add_user(0, "u", values(INT64_MAX, 0, nullptr), kDay);
    try {
        s.add_user(0, "v", values(1, 0, nullptr), kDay);
        FAIL() << "no error";
    } catch (const Error &e) {
        EXPECT_STREQ(e.sqlstate, "22003");
        EXPECT_NE(e.detail.find("2026-01-05"), std::string::npos);
    }
    EXPECT_EQ(s.total(0).counts[kRequests], INT64_MAX);  // all or nothing
}

TEST(ShardSplit, MetricKeysAreLiteMaaSNames)
{
    EXPECT_STREQ(shard_metric_key(kRequests), "api_requests");
    EXPECT_STREQ(shard_metric_key(kCost), "spend");
    EXPECT_STREQ(shard_metric_key(kFailedRequests), "failed_requests");
}
