// The split of a day over shards (core/shard_split): the shard of a hash read as unsigned,
// per-field sums equal to sum(numeric) worked out by hand (display scale: 1.50 + 2 = 3.50; an
// integer stays an integer; exact beyond doubles), a field without numbers printed as null,
// models used by a shard recorded even without numbers.
#include "core/number.hpp"
#include "core/shard_split.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <string>

namespace ut_shard_split_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

Decimal num(const char *text)
{
    Decimal d;
    EXPECT_TRUE(parse_json_number(text, d));
    return d;
}

std::string field(const FieldSums &f, const char *name)
{
    auto it = f.fields().find(name);
    return it == f.fields().end() ? "<absent>" : FieldSums::text(it->second);
}

}  // namespace

TEST(ShardSplit, ShardOfHashReadsTheHashUnsigned)
{
    // (hashtext(x)::bigint & 4294967295) % n, worked out by hand.
    EXPECT_EQ(shard_of_hash(0, 2), 0);
    EXPECT_EQ(shard_of_hash(7, 2), 1);
    EXPECT_EQ(shard_of_hash(-1, 2), 1);         // 4294967295 % 2
    EXPECT_EQ(shard_of_hash(-1, 3), 0);         // 4294967295 % 3
    EXPECT_EQ(shard_of_hash(INT32_MIN, 3), 2);  // 2147483648 % 3
    EXPECT_EQ(shard_of_hash(INT32_MAX, 5), 2);  // 2147483647 % 5
}

TEST(ShardSplit, FieldSumsFollowSumNumeric)
{
    FieldSums f;
    Decimal a = num("1.50"), b = num("2"), c = num("12"), d = num("30"), e = num("-0.5");
    f.add("spend", &a);
    f.add("spend", &b);
    f.add("api_requests", &c);
    f.add("api_requests", &d);
    f.add("note", nullptr);  // a string or object: the field exists, no number
    f.add("refund", &e);
    f.add("refund", nullptr);
    EXPECT_EQ(field(f, "spend"), "3.50");
    EXPECT_EQ(field(f, "api_requests"), "42");
    EXPECT_EQ(field(f, "note"), "null");
    EXPECT_EQ(field(f, "refund"), "-0.5");
    EXPECT_EQ(field(f, "other"), "<absent>");
    EXPECT_EQ(f.fields().size(), 4u);
}

TEST(ShardSplit, SumsAreExactBeyondDoubles)
{
    FieldSums f;
    Decimal a = num("0.1"), b = num("0.2"), c = num("123456789012345678901234567890.000000000000000000001");
    Decimal big = num("9223372036854775807");
    f.add("spend", &a);
    f.add("spend", &b);
    f.add("spend", &c);
    f.add("tokens", &big);
    f.add("tokens", &big);  // numeric does not stop at bigint
    EXPECT_EQ(field(f, "spend"), "123456789012345678901234567890.300000000000000000001");
    EXPECT_EQ(field(f, "tokens"), "18446744073709551614");
}

TEST(ShardSplit, ModelsAreUsedPerShard)
{
    ShardSplit s(2);
    Decimal one = num("1");
    s.use_model(0, "gpt-4o").add("api_requests", &one);
    s.use_model(0, "gpt-4o").add("api_requests", &one);
    s.use_model(1, "claude");  // a cell without metrics: used, no fields
    EXPECT_EQ(s.shard(0).models.size(), 1u);
    EXPECT_EQ(field(s.shard(0).models.at("gpt-4o"), "api_requests"), "2");
    EXPECT_EQ(s.shard(1).models.size(), 1u);
    EXPECT_TRUE(s.shard(1).models.at("claude").fields().empty());
    EXPECT_TRUE(s.shard(1).total.fields().empty());
}

}  // namespace ut_shard_split_test
