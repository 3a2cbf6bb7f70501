#include "core/rebuild_model.hpp"

#include "rebuild_reference.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

namespace ut_rebuild_model_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;
using rebuild_ref::Entry;
using rebuild_ref::KeyIn;
using rebuild_ref::ModelIn;

namespace {

Entry entry(int64_t requests, const char *cost = "")
{
    Entry e;
    for (int m = 0; m < kCountMetrics; m++)
        e.counts[m] = requests * (m + 1);
    e.cost = cost;
    return e;
}

const std::map<std::string, std::string> kMapping = {
    {"k-ada-1", "uid-ada"}, {"k-ada-2", "uid-ada"}, {"k-grace", "uid-grace"}};

}  // namespace

TEST(RebuildModel, NestedNamesAreAliasesOfTheirMetric)
{
    const char *expect[] = {"api_requests",        "total_tokens",    "prompt_tokens", "completion_tokens",
                            "successful_requests", "failed_requests", "spend"};
    for (int m = 0; m < kMetricCount; m++) {
        const char *name = nested_metric_name(Metric(m));
        EXPECT_STREQ(name, expect[m]);
        KeyClass c = classify_key(name, std::strlen(name));
        EXPECT_EQ(c.kind, KeyKind::metric) << name;
        EXPECT_EQ(c.metric, Metric(m)) << name;
    }
}

TEST(RebuildModel, KeysGoToTheirOwnersAndTheUnknownUser)
{
    std::vector<ModelIn> day = {
        {"granite", entry(30, "0.6"),
         {{"k-ada-1", entry(10, "0.1234"), "laptop"}, {"k-grace", entry(5, "1")}, {"k-unknown", entry(3), "theirs"},
          {"", entry(1, "9")}}},
        {"llama", entry(11, "0.2123"), {{"k-ada-2", entry(7, "0.50"), "laptop"}, {"k-ada-1", entry(1, "0.0001"), "laptop"}}},
    };
    EXPECT_EQ(rebuild_ref::check(day, kMapping), "");

    std::pmr::monotonic_buffer_resource arena;
    KeyOwners owners(&arena);
    for (const auto &[hash, uid] : kMapping) {
        Owner o(&arena);
        o.user_id = uid;
        owners.add(hash, std::move(o));
    }
    RebuildDay model(owners, &arena);
    for (const ModelIn &m : day) {
        model.add_model(m.name, m.e.counts, nullptr);
        for (const KeyIn &k : m.keys) {
            Decimal d;
            bool cost = !k.e.cost.empty() && parse_json_number(k.e.cost, d);
            std::string_view alias(k.alias);
            model.add_key(k.hash, k.alias.empty() ? nullptr : &alias, k.e.counts, cost ? &d : nullptr);
        }
    }
    int64_t raw_total[kCountMetrics] = {41, 0, 0, 0, 39, 2};
    model.finish(raw_total, nullptr);
    // ada: 10 + 7 + 1 requests over two models and two keys; the empty hash counts for nobody.
    ASSERT_EQ(model.users().size(), 3u);
    const UserDoc &ada = model.users().at("uid-ada");
    EXPECT_EQ(ada.metrics.counts[kRequests], 18);
    EXPECT_EQ(ada.metrics.cost.to_string(), "0.6235");
    EXPECT_EQ(ada.models.size(), 2u);
    // Two hashes with one alias under one model are one summed cell (LiteMaaS overwrites: L15).
    ASSERT_EQ(ada.models.at("llama").api_keys.size(), 1u);
    EXPECT_EQ(ada.models.at("llama").api_keys.at("laptop").metrics.counts[kRequests], 8);
    const UserDoc &unknown = model.users().at(kUnknownUserId);
    EXPECT_EQ(unknown.owner->username, kUnknownUserName);
    EXPECT_EQ(unknown.owner->email, kUnknownUserEmail);
    EXPECT_EQ(unknown.owner->role, "user");
    // 3 of the unmapped key + granite's 30 - (10 + 5 + 3 + 1) + llama's 11 - (7 + 1) requests
    // reported without a key.
    EXPECT_EQ(unknown.metrics.counts[kRequests], 3 + 11 + 3);
    // An unmapped key stays keyed by its hash, not its metadata alias.
    EXPECT_EQ(unknown.models.at("granite").api_keys.count("k-unknown"), 1u);
    EXPECT_EQ(unknown.models.at("granite").api_keys.at("k-unknown").key_name, kUnknownKeyName);
    // Models are the sums of their parts: 30 requests less the skipped one.
    EXPECT_EQ(model.models().at("granite").metrics.counts[kRequests], 29);
    EXPECT_EQ(model.models().at("granite").users.size(), 3u);
    // Totals: raw requests less the skipped one; failed/successful from the keys kept.
    EXPECT_EQ(model.totals().counts[kRequests], 40);
    EXPECT_EQ(model.totals().counts[kSuccessfulRequests], (10 + 5 + 3 + 7 + 1) * 5);
    EXPECT_EQ(model.totals().counts[kFailedRequests], (10 + 5 + 3 + 7 + 1) * 6);
    EXPECT_EQ(model.models().at("granite").users.at("uid-grace").user, &model.users().at("uid-grace"));
}

TEST(RebuildModel, FirstOwnerOfAHashStays)
{
    std::pmr::monotonic_buffer_resource arena;
    KeyOwners owners(&arena);
    Owner a(&arena), b(&arena);
    a.user_id = "a";
    b.user_id = "b";
    owners.add("k", std::move(a));
    owners.add("k", std::move(b));
    EXPECT_EQ(owners.size(), 1u);
    EXPECT_EQ(owners.of("k").user_id, "a");
    EXPECT_EQ(owners.of("other").user_id, kUnknownUserId);
    EXPECT_FALSE(KeyOwners::counts_key(""));
    EXPECT_FALSE(KeyOwners::counts_key(" \t"));  // blank, as LiteMaaS's trim() === ''
    EXPECT_TRUE(KeyOwners::counts_key(" k"));
}

TEST(RebuildModel, OverflowIsRefusedNamingTheSum)
{
    Entry big = entry(1);
    big.counts[kRequests] = INT64_MAX;
    // Two keys of one user in one model: the user's total passes bigint first.
    std::vector<ModelIn> day = {{"m", entry(1), {{"k-ada-1", big}, {"k-ada-2", big}}}};
    EXPECT_EQ(rebuild_ref::check(day, kMapping), "");
    std::pmr::monotonic_buffer_resource arena;
    KeyOwners owners(&arena);
    RebuildDay model(owners, &arena);
    model.add_model("m", entry(1).counts, nullptr);
    model.add_key("x", nullptr, big.counts, nullptr);
    try {
        model.add_key("y", nullptr, big.counts, nullptr);
        FAIL() << "no error";
    } catch (const Error &e) {
        EXPECT_STREQ(e.sqlstate, "22003");
        EXPECT_EQ(e.message, "bigint out of range rebuilding user metrics");
        EXPECT_EQ(e.detail, "A sum passes 9223372036854775807.");
    }
    // Requests the gateway reports beyond its keys, past bigint.
    RebuildDay rest(owners, &arena);
    rest.add_model("m", big.counts, nullptr);
    Entry refund = entry(1);
    refund.counts[kRequests] = -5;
    rest.add_key("x", nullptr, refund.counts, nullptr);
    int64_t zeros[kCountMetrics] = {};
    EXPECT_THROW(rest.finish(zeros, nullptr), Error);
}

TEST(RebuildModel, CopyRulesOfProvidersAndTotals)
{
    EXPECT_EQ(providers_copy(RawKind::object, "2025-10-13"), CopyAs::copy);
    EXPECT_EQ(providers_copy(RawKind::absent, "2025-10-13"), CopyAs::empty_object);
    EXPECT_EQ(providers_copy(RawKind::null, "2025-10-13"), CopyAs::empty_object);
    EXPECT_TRUE(raw_metrics_present(RawKind::object, "2025-10-13"));
    EXPECT_FALSE(raw_metrics_present(RawKind::absent, "2025-10-13"));
    EXPECT_FALSE(raw_metrics_present(RawKind::null, "2025-10-13"));
    try {
        providers_copy(RawKind::other, "2025-10-13");
        FAIL() << "no error";
    } catch (const Error &e) {
        EXPECT_STREQ(e.sqlstate, "22023");
        EXPECT_EQ(e.message, "invalid raw_data on 2025-10-13 at breakdown.providers");
        EXPECT_EQ(e.detail, "raw_data on 2025-10-13, breakdown.providers: not a JSON object.");
    }
    EXPECT_THROW(raw_metrics_present(RawKind::other, "d"), Error);
}

// Random days (a fixed seed) against the reference: many models, keys shared between models
// and users, unmapped and empty hashes, costs of different scales, counts near the bigint edge.
TEST(RebuildModel, RandomDaysEqualTheReference)
{
    std::mt19937_64 rng(20251125);
    auto pick = [&](uint64_t n) { return rng() % n; };
    const char *costs[] = {"", "0", "0.5", "-1.25", "12.3456789", "0.000000000000000000000000000000000000000001",
                           "99999999999999999999999999999999999999999.9", "3"};
    for (int round = 0; round < 400; round++) {
        std::map<std::string, std::string> mapping;
        for (int k = 0; k < 12; k++)
            if (pick(3))
                mapping["key" + std::to_string(k)] = "user" + std::to_string(pick(5));
        std::vector<ModelIn> day;
        int n_models = int(pick(6));
        for (int m = 0; m < n_models; m++) {
            ModelIn model{"model" + std::to_string(m), entry(int64_t(pick(100)), costs[pick(8)]), {}};
            for (int k = 0; k < 14; k++) {
                if (pick(2))
                    continue;
                Entry e = entry(int64_t(pick(1000)) - 100, costs[pick(8)]);
                if (pick(40) == 0)
                    e.counts[pick(kCountMetrics)] = pick(2) ? INT64_MAX - int64_t(pick(3)) : INT64_MIN + int64_t(pick(3));
                model.keys.push_back({k == 13 ? "" : "key" + std::to_string(k), e, pick(2) ? "alias" + std::to_string(pick(4)) : ""});
            }
            day.push_back(model);
        }
        ASSERT_EQ(rebuild_ref::check(day, mapping), "") << "round " << round;
    }
}

}  // namespace ut_rebuild_model_test
