// The dashboard document builder (core/dashboard.*) and its trend rule, against values worked
// out by hand from LiteMaaS's rules (docs/litemaas.md §4-§5).
#include "core/dashboard.hpp"
#include "core/dashboard_trend.hpp"
#include "core/json_writer.hpp"
#include "core/number.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ut_dashboard_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {
EntryValues usage(int64_t requests, const char *cost, int64_t successful = -1)
{
    EntryValues v{};
    v.counts[kRequests] = requests;
    v.counts[kTotalTokens] = requests * 10;
    v.counts[kPromptTokens] = requests * 6;
    v.counts[kCompletionTokens] = requests * 4;
    v.counts[kSuccessfulRequests] = successful < 0 ? requests : successful;
    v.counts[kFailedRequests] = requests - v.counts[kSuccessfulRequests];
    v.cost_seen = parse_json_number(cost, v.cost);
    return v;
}
bool has(const std::string &doc, const std::string &part) { return doc.find(part) != std::string::npos; }
}  // namespace

TEST(DashboardTrend, LiteMaaSRules)
{
    auto t = trend_change("110", "100");
    EXPECT_EQ(t.percentage, "10.00");
    EXPECT_STREQ(t.direction, "up");
    t = trend_change("101", "100");  // exactly at the threshold: stable
    EXPECT_EQ(t.percentage, "1.00");
    EXPECT_STREQ(t.direction, "stable");
    t = trend_change("1.0101", "1");  // 1.01 %: past the threshold, unrounded
    EXPECT_EQ(t.percentage, "1.01");
    EXPECT_STREQ(t.direction, "up");
    t = trend_change("2", "3");  // -33.333.. -> -33.33
    EXPECT_EQ(t.percentage, "-33.33");
    EXPECT_STREQ(t.direction, "down");
    t = trend_change("1", "3");  // -66.666.. -> -66.67 (half away from zero)
    EXPECT_EQ(t.percentage, "-66.67");
    t = trend_change("0.00005", "0.00008");  // -37.5 exactly
    EXPECT_EQ(t.percentage, "-37.50");
    t = trend_change("5", "0");
    EXPECT_EQ(t.percentage, "100");
    EXPECT_STREQ(t.direction, "up");
    t = trend_change("0", "0");
    EXPECT_EQ(t.percentage, "0");
    EXPECT_STREQ(t.direction, "stable");
    t = trend_change("0.995", "1");  // -0.5 %: stable
    EXPECT_STREQ(t.direction, "stable");
    EXPECT_EQ(t.percentage, "-0.50");
}

TEST(JsonWriter, EscapesAndCommas)
{
    JsonWriter w;
    w.begin_object();
    w.key("a\"b"), w.string("x\ny\x01");
    w.key("n"), w.begin_array(), w.integer(1), w.number_text("2.50"), w.null(), w.end_array();
    w.end_object();
    EXPECT_EQ(w.text(), "{\"a\\\"b\":\"x\\ny\\u0001\",\"n\":[1,2.50,null]}");
}

TEST(Dashboard, EmptyRangeIsLiteMaaSEmptyAnalytics)
{
    DashboardBuilder b(std::pmr::get_default_resource(), {});
    b.begin_day(0, "2025-02-28", false);
    b.user_usage("u1", usage(3, "1"));
    std::string doc = b.document("2025-03-01", "2025-03-01");
    EXPECT_TRUE(has(doc, "\"totalRequests\":0")) << doc;
    EXPECT_TRUE(has(doc, "\"topUser\":null")) << doc;
    EXPECT_TRUE(has(doc, "\"dailyUsage\":[]")) << doc;
}

TEST(Dashboard, TotalsTopListsTrendsAndDailySeries)
{
    DashboardBuilder b(std::pmr::get_default_resource(), {});
    b.begin_day(0, "2025-02-28", false);  // comparison period: 4 requests, one user
    b.user_usage("u1", usage(4, "0.4"));
    b.begin_day(1, "2025-03-01", true);
    b.identity("u1", [] { EntryValues v = usage(0, "0"); v.username = "ada"; v.email = "a@x"; v.role = "user"; return v; }());
    b.user_usage("u1", usage(2, "0.10"));
    b.user_usage(kUnknownUserId, usage(3, "5"));
    b.user_usage("u0", usage(0, "0"));  // zero requests: dropped from users
    b.model_usage("openai/gpt", usage(5, "5.10"));
    b.provider_usage("openai", usage(5, "5.10"));
    b.key_usage("k1", "u1", usage(2, "0.10"));
    b.begin_day(2, "2025-03-02", true);
    b.user_usage("u1", usage(1, "0.05", 0));
    b.model_usage("m2", usage(1, "0.05", 0));
    b.provider_usage("unknown", usage(1, "0.05", 0));
    std::string doc = b.document("2025-03-01", "2025-03-02");
    EXPECT_TRUE(has(doc, "\"totalUsers\":2,\"activeUsers\":2,\"totalRequests\":6")) << doc;
    EXPECT_TRUE(has(doc, "\"totalCost\":{\"total\":5.15,\"byProvider\":{\"openai\":5.10,\"unknown\":0.05}"))
        << doc;
    EXPECT_TRUE(has(doc, "\"byUser\":{\"00000000-0000-0000-0000-000000000000\":5,\"u1\":0.15}")) << doc;
    // topUser skips the Unknown User; topUsers keeps it without a user filter
    EXPECT_TRUE(has(doc, "\"topUser\":{\"userId\":\"u1\",\"username\":\"ada\",\"email\":\"a@x\",\"role\":\"user\""))
        << doc;
    EXPECT_TRUE(has(doc, "\"topUsers\":[{\"userId\":\"00000000-0000-0000-0000-000000000000\",\"username\":null"))
        << doc;
    EXPECT_TRUE(has(doc, "\"topApiKey\":{\"keyId\":\"k1\",\"keyAlias\":\"k1\",\"userId\":\"u1\",\"username\":\"ada\","
                         "\"requests\":2,\"tokens\":20,\"cost\":0.10}"))
        << doc;
    // 6 vs 4 requests: +50 %; 2 users vs 1
    EXPECT_TRUE(has(doc, "\"requestsTrend\":{\"metric\":\"requests\",\"current\":6,\"previous\":4,"
                         "\"percentageChange\":50.00,\"direction\":\"up\"}"))
        << doc;
    EXPECT_TRUE(has(doc, "\"usersTrend\":{\"metric\":\"users\",\"current\":2,\"previous\":1,"
                         "\"percentageChange\":100.00"))
        << doc;
    EXPECT_TRUE(has(doc, "\"dailyUsage\":[{\"date\":\"2025-03-01\",\"requests\":5,"
                         "\"tokens\":50,\"prompt_tokens\":30,\"completion_tokens\":20,\"cost\":5.10},"
                         "{\"date\":\"2025-03-02\",\"requests\":1"))
        << doc;
    EXPECT_TRUE(has(doc, "\"dailyModelUsage\":[{\"date\":\"2025-03-01\",\"models\":[{\"modelId\":\"openai/gpt\","
                         "\"modelName\":\"openai/gpt\",\"provider\":\"openai\",\"requests\":5"))
        << doc;
    // 5 successful of 6
    EXPECT_TRUE(has(doc, "\"successRate\":83.333333333333")) << doc;
}

TEST(Dashboard, UserFilterDropsUnknownFromTopUsersAndNoPreviousIsStable)
{
    DashboardOptions o;
    o.filtered = o.user_filter = true;
    DashboardBuilder b(std::pmr::get_default_resource(), o);
    b.begin_day(1, "2025-03-01", true);
    b.user_usage(kUnknownUserId, usage(3, "5"));
    b.model_usage("m", usage(3, "5"));
    std::string doc = b.document("2025-03-01", "2025-03-01");
    EXPECT_TRUE(has(doc, "\"topUsers\":[]")) << doc;
    EXPECT_TRUE(has(doc, "\"topUser\":null")) << doc;
    EXPECT_TRUE(has(doc, "\"byProvider\":{\"unknown\":5}")) << doc;  // filtered: from the cells
    EXPECT_TRUE(has(doc, "\"current\":3,\"previous\":0,\"percentageChange\":0,\"direction\":\"stable\"")) << doc;
}

// user_usage_slot + identity_of (the unfiltered range's one-lookup walk) give identity()'s
// document: a later non-empty username replaces all three, an empty one changes nothing, a key
// seen last time skips the read (the adapter does not hand it in then), a day entry (no key)
// in between forgets the key.
TEST(Dashboard, IdentityOfASlotIsIdentity)
{
    auto id = [](const char *user, const char *email) {
        EntryValues v = usage(0, "0");
        v.username = user;
        v.email = email;
        v.role = "user";
        return v;
    };
    struct Row {
        const char *name, *email, *key;  // key nullptr: a day entry
    };
    const Row rows[] = {{"ada", "a@x", "K1"}, {"ada", "a@x", "K1"}, {"", "", ""}, {"bob", "b@x", "K2"},
                        {"ada", "a@x", nullptr}, {"bob", "b@x", "K2"}, {"eve", "e@x", "K3"}, {"", "z@x", "K4"}};
    for (size_t upto = 1; upto <= sizeof rows / sizeof rows[0]; upto++) {
        DashboardBuilder ref(std::pmr::get_default_resource(), {}), one(std::pmr::get_default_resource(), {});
        int skipped = 0;
        for (size_t i = 0; i < upto; i++) {
            std::string date = "2025-03-0" + std::to_string(i + 1);
            ref.begin_day(int32_t(i), date, true);
            one.begin_day(int32_t(i), date, true);
            EntryValues v = id(rows[i].name, rows[i].email);
            ref.identity("u1", v, 0);
            ref.user_usage("u1", usage(1, "0.5"), 0);
            const Slot &slot = one.user_usage_slot("u1", usage(1, "0.5"), 0);
            if (rows[i].key == nullptr) {
                one.identity_of(slot, v, nullptr);
                continue;
            }
            std::string_view key(rows[i].key);
            if (one.identity_read_before(slot, key)) {
                skipped++;
                continue;
            }
            one.identity_of(slot, v, &key);
        }
        EXPECT_EQ(one.document("2025-03-01", "2025-03-09"), ref.document("2025-03-01", "2025-03-09")) << upto;
        if (upto >= 2) {
            EXPECT_GE(skipped, 1);
        }
    }
}

}  // namespace ut_dashboard_test
