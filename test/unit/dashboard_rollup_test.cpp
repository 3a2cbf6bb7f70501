// core::DashboardBuilder: one provider per model for the whole document (the latest own
// provider handed in, else the name rule: docs/litemaas.md §8), and a month rollup handed in
// (begin_rollup, rollup_day) gives the same document as its days. Values worked out by hand.
#include "core/dashboard.hpp"
#include "core/number.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ut_dashboard_rollup_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {
EntryValues usage(int64_t requests, const char *cost)
{
    EntryValues v{};
    v.counts[kRequests] = requests;
    v.counts[kTotalTokens] = requests * 10;
    v.counts[kSuccessfulRequests] = requests;
    v.cost_seen = parse_json_number(cost, v.cost);
    return v;
}
bool has(const std::string &doc, const std::string &part) { return doc.find(part) != std::string::npos; }
}  // namespace

TEST(DashboardProviders, OneProviderPerModelTheLatestOwn)
{
    for (bool filtered : {false, true}) {
        DashboardOptions o;
        o.filtered = filtered;
        DashboardBuilder b(std::pmr::get_default_resource(), o);
        b.begin_day(0, "2025-03-01", true);
        b.own_provider("mistral-7b", "mistralai");
        b.user_usage("u1", usage(2, "0.2"));
        b.model_usage("mistral-7b", usage(2, "0.2"));
        if (!filtered)
            b.unprovided_model_usage("mistral-7b", usage(2, "0.2"));
        b.begin_day(1, "2025-03-02", true);
        b.own_provider("mistral-7b", "mistral");  // changes: the whole document follows
        b.user_usage("u1", usage(3, "0.3"));
        b.model_usage("mistral-7b", usage(3, "0.3"));
        if (!filtered)
            b.unprovided_model_usage("mistral-7b", usage(3, "0.3"));
        EXPECT_EQ(b.provider_of("mistral-7b"), "mistral");
        EXPECT_EQ(b.provider_of("gpt-4o"), "openai");  // no own provider: the name rule
        std::string doc = b.document("2025-03-01", "2025-03-02");
        EXPECT_TRUE(has(doc, "\"byProvider\":{\"mistral\":0.5}")) << doc;
        // both days' dailyModelUsage name the one provider
        EXPECT_TRUE(has(doc, "{\"date\":\"2025-03-01\",\"models\":[{\"modelId\":\"mistral-7b\",\"modelName\":"
                             "\"mistral-7b\",\"provider\":\"mistral\""))
            << doc;
        EXPECT_FALSE(has(doc, "mistralai")) << doc;
    }
}

TEST(DashboardRollups, ARollupGivesItsDaysDocument)
{
    auto days = [] {
        DashboardBuilder b(std::pmr::get_default_resource(), {});
        b.begin_day(0, "2025-02-10", false);
        b.user_usage("u1", usage(4, "0.4"));
        b.begin_day(1, "2025-03-01", true);
        b.identity("u1", [] { EntryValues v{}; v.username = "ada"; v.role = "admin"; return v; }());
        b.user_usage("u1", usage(2, "0.10"));
        b.model_usage("m", usage(2, "0.10"));
        b.unprovided_model_usage("m", usage(2, "0.10"));
        b.begin_day(2, "2025-03-05", true);
        b.user_usage("u1", usage(1, "0.05"));
        b.user_usage("u2", usage(6, "1"));
        b.model_usage("m", usage(1, "0.05"));
        b.model_usage("p/n", usage(6, "1"));
        b.provider_usage("stored", usage(7, "1.05"));
        return b.document("2025-03-01", "2025-03-31");
    }();
    auto rollups = [] {
        DashboardBuilder b(std::pmr::get_default_resource(), {});
        b.begin_rollup("2025-02-01", false);
        b.user_usage("u1", usage(4, "0.4"));
        b.begin_rollup("2025-03-01", true);
        b.identity("u1", [] { EntryValues v{}; v.username = "ada"; v.role = "admin"; return v; }());
        b.user_usage("u1", usage(3, "0.15"));
        b.user_usage("u2", usage(6, "1"));
        b.model_usage("m", usage(3, "0.15"));
        b.model_usage("p/n", usage(6, "1"));
        b.provider_usage("stored", usage(7, "1.05"));
        b.unprovided_model_usage("m", usage(2, "0.10"));
        b.rollup_day("2025-03-01", usage(2, "0.10"));
        b.rollup_day_model("m", usage(2, "0.10"));
        b.rollup_day("2025-03-05", usage(7, "1.05"));
        b.rollup_day_model("m", usage(1, "0.05"));
        b.rollup_day_model("p/n", usage(6, "1"));
        return b.document("2025-03-01", "2025-03-31");
    }();
    EXPECT_EQ(days, rollups);
    EXPECT_TRUE(has(days, "\"byProvider\":{\"stored\":1.05,\"unknown\":0.10}")) << days;
    EXPECT_TRUE(has(days, "\"dailyUsage\":[{\"date\":\"2025-03-01\",\"requests\":2")) << days;
    EXPECT_TRUE(has(days, "{\"date\":\"2025-03-05\",\"requests\":7")) << days;
}

}  // namespace ut_dashboard_rollup_test
