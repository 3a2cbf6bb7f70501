#include "core/filters.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ut_filters_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

TEST(FilterList, InactiveContainsEverything)
{
    FilterList l;
    l.seal();
    EXPECT_FALSE(l.active());
    EXPECT_TRUE(l.contains("anything"));
    EXPECT_TRUE(l.contains(""));
}

TEST(FilterList, MatchesBytesExactly)
{
    for (int n : {1, 3, 9}) {  // short lists compare directly, long ones search
        std::vector<std::string> ids;
        for (int i = 0; i < n; i++)
            ids.push_back("id" + std::to_string(i));
        FilterList l;
        for (const std::string &id : ids)
            l.add(id);
        l.add("u1");
        l.add("User");
        l.add("u1");  // duplicates are harmless
        l.seal();
        EXPECT_TRUE(l.contains("u1"));
        EXPECT_TRUE(l.contains("User"));
        EXPECT_FALSE(l.contains("user"));   // byte for byte, no case folding
        EXPECT_FALSE(l.contains("u1 "));
        EXPECT_FALSE(l.contains(""));
    }
}

TEST(Filters, Level)
{
    Filters f;
    f.seal();
    EXPECT_FALSE(f.any());
    EXPECT_EQ(f.level(), CellLevel::user);
    EXPECT_EQ(f.level(true), CellLevel::model);
    Filters u;
    u.users.add("a");
    u.seal();
    EXPECT_EQ(u.level(), CellLevel::user);
    EXPECT_EQ(u.level(true), CellLevel::model);
    Filters m;
    m.models.add("gpt-4");
    m.seal();
    EXPECT_EQ(m.level(), CellLevel::model);
    Filters k;
    k.keys.add("k");
    k.users.add("a");
    k.seal();
    EXPECT_EQ(k.level(), CellLevel::key);
    EXPECT_EQ(k.level(true), CellLevel::key);
}

TEST(Provider, Rule)
{
    EXPECT_EQ(provider_from_name("openai/gpt-4o"), "openai");
    EXPECT_EQ(provider_from_name("mistralai/Mistral-7B/v2"), "mistralai");
    EXPECT_EQ(provider_from_name("/x"), "");
    EXPECT_EQ(provider_from_name("gpt-4"), "openai");
    EXPECT_EQ(provider_from_name("gpt"), "openai");
    EXPECT_EQ(provider_from_name("claude-3-opus"), "anthropic");
    EXPECT_EQ(provider_from_name("gemini-pro"), "google");
    EXPECT_EQ(provider_from_name("GPT-4"), "unknown");  // case-sensitive, as LIKE 'gpt%'
    EXPECT_EQ(provider_from_name("granite-3"), "unknown");
    EXPECT_EQ(provider_from_name(""), "unknown");
    std::string_view own = "ibm";
    EXPECT_EQ(provider_rule("gpt-4", &own), "ibm");
    EXPECT_EQ(provider_rule("gpt-4", nullptr), "openai");
}

}  // namespace ut_filters_test
