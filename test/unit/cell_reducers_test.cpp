#include "core/cell_reducers.hpp"
#include "core/number.hpp"

#include <gtest/gtest.h>

#include <set>

#include <string>

namespace ut_cell_reducers_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

EntryValues cell(int64_t requests, const char *cost)
{
    EntryValues v{};
    v.counts[kRequests] = requests;
    v.cost_seen = parse_json_number(cost, v.cost);
    return v;
}

}  // namespace

TEST(CellReducers, PairKeysSplitExactly)
{
    std::pmr::string buf;
    std::string k(pair_key(buf, "user", "a/b"));
    auto [a, b] = split_pair(k);
    EXPECT_EQ(a, "user");
    EXPECT_EQ(b, "a/b");
    std::pmr::string buf2;
    std::string shorter(pair_key(buf2, "a", "z"));
    std::pmr::string buf3;
    std::string longer(pair_key(buf3, "ab", "a"));
    EXPECT_LT(shorter, longer);  // byte order of pairs = order of (first, second)
}

TEST(CellReducers, DaySetCountsUnion)
{
    DaySet a(std::pmr::get_default_resource()), b(std::pmr::get_default_resource());
    a.add(0);
    a.add(70);
    b.add(70);
    b.add(3);
    a.merge(b);
    EXPECT_EQ(a.count(), 3);
}

// Masks at any base, across word boundaries, against a set of day numbers.
TEST(CellReducers, DaySetMasksAtBases)
{
    DaySet a(std::pmr::get_default_resource());
    std::set<int> want;
    auto add = [&](int base, uint32_t mask) {
        a.add(base, mask);
        for (int b = 0; b < 32; b++)
            if (mask >> b & 1)
                want.insert(base + b);
    };
    add(0, 0x7fffffff);   // days 0..30
    add(31, 0x1);
    add(59, 0x40000001);  // 59 and 89: spans words 0 and 1
    add(60, 0);           // nothing
    add(120, 0x7fffffff); // 120..150: spans words 1 and 2
    add(125, 0x3);        // already there
    add(300, 0x2);
    EXPECT_EQ(a.count(), int32_t(want.size()));
    DaySet b(std::pmr::get_default_resource());
    b.add(301, 0x5);      // 301 (there) and 303 (new)
    a.merge(b);
    EXPECT_EQ(a.count(), int32_t(want.size()) + 1);
}

// A day-block rollup's mask counts from its month's first day, which may come before the
// scan's start: the offsets below 0 are dropped, the others land where they belong.
TEST(CellReducers, DaySetNegativeBase)
{
    DaySet a(std::pmr::get_default_resource());
    a.add(-21, 0x7fu << 24);   // month days 25..31 at offsets 3..9
    a.add(4, 0x1);             // already there
    a.add(-40, 0xffffffffu);   // nothing inside the range
    a.add(-31, 0x80000000u);   // offset 0
    EXPECT_EQ(a.count(), 8);
    DaySet b(std::pmr::get_default_resource());
    b.add(3, 0x7f);
    b.add(0);
    EXPECT_EQ(b.count(), 8);
    a.merge(b);
    EXPECT_EQ(a.count(), 8);
}

TEST(CellReducers, ProviderNamesLatestOwnElseRule)
{
    ProviderNames names(std::pmr::get_default_resource());
    EXPECT_EQ(names.provider_of("gpt-4o"), "openai");
    names.saw("gpt-4o", "azure");
    names.saw("gpt-4o", "openai-eu");
    EXPECT_EQ(names.provider_of("gpt-4o"), "openai-eu");
    EXPECT_EQ(names.provider_of("claude-3"), "anthropic");
}

TEST(CellReducers, ModelsGroupedByProvider)
{
    ModelUsage usage(std::pmr::get_default_resource());
    FixedLabel where("test");
    usage.add("gpt-4o", "u1", cell(2, "0.1"), 0, "c", where);
    usage.add("gpt-4o", "u2", cell(3, "0.2"), 1, "c", where);
    usage.add("openai/gpt-4o-mini", "u1", cell(5, "0.03"), 2, "c", where);
    usage.add("gpt-4o", "u1", cell(1, "0.01"), 2, "c", where);
    usage.add("granite", "u3", cell(7, "1"), 1, "c", where);
    const Slot *gpt = usage.models.find("gpt-4o", 6);
    ASSERT_NE(gpt, nullptr);
    EXPECT_EQ(gpt->totals.counts[kRequests], 6);
    EXPECT_EQ(gpt->totals.active_days, 3);
    EXPECT_EQ(usage.users_of(*gpt), 2);
    ProviderNames names(std::pmr::get_default_resource());
    KeyAggregator out;
    std::pmr::vector<int32_t> models, users;
    usage.group_by_provider(names, out, models, users);
    const Slot *openai = out.find("openai", 6);
    ASSERT_NE(openai, nullptr);
    size_t i = size_t(openai - out.slots().data());
    EXPECT_EQ(openai->totals.counts[kRequests], 11);
    EXPECT_EQ(openai->totals.cost.to_string(), "0.34");
    EXPECT_EQ(openai->totals.active_days, 3);  // days 0, 1, 2
    EXPECT_EQ(models[i], 2);
    EXPECT_EQ(users[i], 2);
    const Slot *unknown = out.find("unknown", 7);
    ASSERT_NE(unknown, nullptr);
    EXPECT_EQ(users[size_t(unknown - out.slots().data())], 1);
}

}  // namespace ut_cell_reducers_test
