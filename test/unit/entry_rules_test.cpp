// core/entry_rules.hpp over a plain tree view: the contract's entry rules with hand-written
// expectations (CONTRACT §2), and the exact message format the regression tests show.
#include "core/count_sum.hpp"
#include "core/entry_rules.hpp"
#include "core/error.hpp"
#include "core/merge_days.hpp"

#include "entry_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

namespace ut_entry_rules_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;
using entry_model::Members;
using entry_model::Value;

namespace {

FixedLabel kDay("2025-10-14");

EntryValues read(const Members &entry, bool identity = false)
{
    EntryValues v;
    entry_model::core_read(entry, EntrySite{"aggregated_by_user", kDay, "u1"}, identity, v);
    return v;
}

Error read_error(const Members &entry)
{
    try {
        read(entry);
    } catch (const Error &e) {
        return e;
    }
    throw std::runtime_error("no error raised");  // fails the test
}

std::string cost_text(const EntryValues &v)
{
    DecimalSum s;
    s.add(v.cost);
    return s.to_string();
}

}  // namespace

TEST(EntryRules, FlatEntry)
{
    EntryValues v = read({{"totalRequests", Value::num("12")},
                          {"totalTokens", Value::num("1800")},
                          {"promptTokens", Value::num("1200")},
                          {"completionTokens", Value::num("600")},
                          {"totalCost", Value::num("0.0246")}});
    EXPECT_EQ(v.counts[kRequests], 12);
    EXPECT_EQ(v.counts[kTotalTokens], 1800);
    EXPECT_EQ(v.counts[kPromptTokens], 1200);
    EXPECT_EQ(v.counts[kCompletionTokens], 600);
    EXPECT_EQ(v.counts[kSuccessfulRequests], 0);
    EXPECT_TRUE(v.cost_seen);
    EXPECT_EQ(cost_text(v), "0.0246");
}

TEST(EntryRules, NestedMetricsOnlyCount)
{
    // Outside "metrics" nothing counts once "metrics" is there.
    // (the identity strings point into the entry: it must outlive the values)
    Members entry = {{"totalRequests", Value::num("99")},
                     {"username", Value::str("ann")},
                     {"metrics", Value::object({{"api_requests", Value::num("12")},
                                                {"spend", Value::num("1.50")},
                                                {"failed_requests", Value::num("1")}})}};
    EntryValues v = read(entry, true);
    EXPECT_EQ(v.counts[kRequests], 12);
    EXPECT_EQ(v.counts[kFailedRequests], 1);
    EXPECT_EQ(cost_text(v), "1.50");
    EXPECT_EQ(v.username, "ann");
    EXPECT_TRUE(v.email.empty());
}

TEST(EntryRules, NullMetricsIsAbsent)
{
    EntryValues v = read({{"metrics", Value::null()}, {"requests", Value::num("3")}});
    EXPECT_EQ(v.counts[kRequests], 3);
    EXPECT_FALSE(v.cost_seen);
}

TEST(EntryRules, AliasPreferenceAndNullFallThrough)
{
    // Order of members does not matter; the preferred alias wins; null falls through.
    EntryValues v = read({{"requests", Value::num("3")},
                          {"api_requests", Value::num("2")},
                          {"totalRequests", Value::num("1")},
                          {"tokens", Value::num("7")},
                          {"totalTokens", Value::null()},
                          {"cost", Value::num("5")},
                          {"spend", Value::null()},
                          {"totalCost", Value::null()}});
    EXPECT_EQ(v.counts[kRequests], 1);
    EXPECT_EQ(v.counts[kTotalTokens], 7);
    EXPECT_EQ(cost_text(v), "5");
}

TEST(EntryRules, AllNullIsZeroAndNoCost)
{
    EntryValues v = read({{"totalRequests", Value::null()}, {"totalCost", Value::null()}});
    EXPECT_EQ(v.counts[kRequests], 0);
    EXPECT_FALSE(v.cost_seen);
}

TEST(EntryRules, CountsWholeNumbersOnly)
{
    EXPECT_EQ(read({{"totalRequests", Value::num("12.0")}}).counts[kRequests], 12);
    EXPECT_EQ(read({{"totalRequests", Value::num("1.2e1")}}).counts[kRequests], 12);
    EXPECT_EQ(read({{"totalRequests", Value::num("-5")}}).counts[kRequests], -5);
    EXPECT_EQ(read({{"totalRequests", Value::num("9223372036854775807")}}).counts[kRequests], INT64_MAX);
    EXPECT_EQ(read({{"totalRequests", Value::num("-9223372036854775808")}}).counts[kRequests], INT64_MIN);
    Error e = read_error({{"totalRequests", Value::num("12.5")}});
    EXPECT_STREQ(e.sqlstate, "22023");
    EXPECT_EQ(e.detail, "aggregated_by_user on 2025-10-14, key \"u1\", field \"totalRequests\": a count must be "
                        "a whole number.");
    e = read_error({{"api_requests", Value::num("9223372036854775808")}});
    EXPECT_STREQ(e.sqlstate, "22003");
    EXPECT_EQ(e.message, "invalid usage value on 2025-10-14 for key \"u1\", field \"api_requests\"");
    EXPECT_EQ(e.detail, "aggregated_by_user on 2025-10-14, key \"u1\", field \"api_requests\": the count is out "
                        "of range for type bigint.");
}

TEST(EntryRules, NumbersAsStrings)
{
    EntryValues v = read({{"totalRequests", Value::str("12")}, {"totalCost", Value::str("-0.5")},
                          {"totalTokens", Value::str("1e3")}});
    EXPECT_EQ(v.counts[kRequests], 12);
    EXPECT_EQ(v.counts[kTotalTokens], 1000);
    EXPECT_EQ(cost_text(v), "-0.5");
    for (const char *bad : {"lots", "", " 12", "NaN", "Infinity", "+1", "01"}) {
        Error e = read_error({{"totalCost", Value::str(bad)}});
        EXPECT_STREQ(e.sqlstate, "22P02") << bad;
        EXPECT_EQ(e.detail, "aggregated_by_user on 2025-10-14, key \"u1\", field \"totalCost\": the string \"" +
                                std::string(bad) + "\" is not a number.");
    }
}

TEST(EntryRules, WrongKinds)
{
    struct Case { Value v; const char *name; };
    for (const Case &c : {Case{Value::boolean(), "a boolean"}, {Value::array(), "an array"},
                          {Value::object({}), "an object"}}) {
        Error e = read_error({{"spend", c.v}});
        EXPECT_STREQ(e.sqlstate, "22023");
        EXPECT_EQ(e.detail, std::string("aggregated_by_user on 2025-10-14, key \"u1\", field \"spend\": ") + c.name +
                                " is not a number.");
    }
    Error e = read_error({{"metrics", Value::array()}, {"totalRequests", Value::num("1")}});
    EXPECT_STREQ(e.sqlstate, "22023");
    EXPECT_EQ(e.message, "invalid usage value on 2025-10-14 for key \"u1\", field \"metrics\"");
    EXPECT_EQ(e.detail, "aggregated_by_user on 2025-10-14, key \"u1\", field \"metrics\": an array is not an object.");
    e = read_error({{"totalRequests", Value::num("NaN")}});
    EXPECT_EQ(e.detail, "aggregated_by_user on 2025-10-14, key \"u1\", field \"totalRequests\": the value is not a "
                        "finite number.");
}

TEST(EntryRules, EntryNotObject)
{
    try {
        throw_entry_not_object(EntrySite{"aggregated_by_model", kDay, "m"}, ValueKind::string);
        FAIL();
    } catch (const Error &e) {
        EXPECT_STREQ(e.sqlstate, "22023");
        EXPECT_EQ(e.message, "invalid usage entry on 2025-10-14 for key \"m\"");
        EXPECT_EQ(e.detail, "aggregated_by_model on 2025-10-14, key \"m\": the entry is a string, not an object.");
    }
}

TEST(EntryRules, LongKeysAreCut)
{
    std::string key(250, 'k');
    try {
        throw_entry_not_object(EntrySite{"c", kDay, key}, ValueKind::null);
        FAIL();
    } catch (const Error &e) {
        EXPECT_EQ(e.message, "invalid usage entry on 2025-10-14 for key \"" + std::string(200, 'k') + "...\"");
    }
}

TEST(EntryRules, PlanFollowsMembers)
{
    Members m = {{"cost", Value::num("1")}, {"x", Value::null()}, {"totalCost", Value::num("2")},
                 {"metrics", Value::null()}, {"email", Value::str("e")}, {"spend", Value::num("3")}};
    EntryPlan plan;
    plan_entry(entry_model::TreeView(m), plan);
    EXPECT_EQ(plan.metric_keys[kCost][0], 2);
    EXPECT_EQ(plan.metric_keys[kCost][1], 5);
    EXPECT_EQ(plan.metric_keys[kCost][2], 0);
    EXPECT_EQ(plan.metric_keys[kCost][3], -1);
    EXPECT_EQ(plan.metric_keys[kRequests][0], -1);
    EXPECT_EQ(plan.metrics_object, 3);
    EXPECT_EQ(plan.email, 4);
    EXPECT_EQ(plan.username, -1);
}

// The plan knows where a rollup entry's "~days" is: the member whose key is "~days", found here
// by a plain scan of the keys (the adapter's read_days_mask did that per entry).
TEST(EntryRules, PlanFindsDayMask)
{
    Members with = {{"cost", Value::num("1")}, {"~day", Value::num("2")}, {"~days", Value::num("3")},
                    {"~days2", Value::num("4")}, {"~identity", Value::null()}};
    Members without = {{"days", Value::num("1")}, {"~Days", Value::num("2")}, {"requests", Value::num("3")}};
    auto scan = [](const Members &m) {
        for (size_t i = 0; i < m.size(); i++)
            if (m[i].first == "~days")
                return int32_t(i);
        return int32_t(-1);
    };
    EntryPlan plan;
    plan_entry(entry_model::TreeView(with), plan);
    EXPECT_EQ(plan.days_mask, scan(with));
    EXPECT_EQ(plan.days_mask, 2);
    plan_entry(entry_model::TreeView(without), plan);
    EXPECT_EQ(plan.days_mask, scan(without));
    EXPECT_EQ(plan.days_mask, -1);
}

// The plan knows where a ducache_merge output's "days" is (core/merge_days.hpp's member: the
// merge reads an entry's day count there, found once per layout): the same member
// find_days_member finds by its scan, only the exact key, and only the entry's own (a "days"
// in its "metrics" object is a member of the inner layout's plan, which the merge never asks).
TEST(EntryRules, PlanFindsMergeDays)
{
    Members with = {{"day", Value::num("1")}, {"cost", Value::num("2")}, {"days", Value::num("3")},
                    {"~days", Value::num("4")}, {"requests", Value::num("5")}};
    Members without = {{"Days", Value::num("1")}, {"days ", Value::num("2")}, {"~days", Value::num("3")},
                       {"metrics", Value::null()}, {"daysx", Value::num("4")}};
    EntryPlan plan;
    plan_entry(entry_model::TreeView(with), plan);
    EXPECT_EQ(plan.days, 2);
    EXPECT_EQ(plan.days, find_days_member(entry_model::TreeView(with)));
    EXPECT_EQ(plan.days_mask, 3);
    EXPECT_EQ(plan.direct_count, 2);  // cost, requests: "days" is no metric
    plan_entry(entry_model::TreeView(without), plan);
    EXPECT_EQ(plan.days, -1);
    EXPECT_EQ(plan.days, find_days_member(entry_model::TreeView(without)));
}

// The plan knows where a rollup user entry's "~identity", "~keycost" and "~keymag" are (the
// dashboard's range walk searched each per entry): the members of those keys, by a plain scan.
TEST(EntryRules, PlanFindsRollupMembers)
{
    Members with = {{"~keymag", Value::num("1")}, {"~days", Value::num("2")}, {"metrics", Value::null()},
                    {"~keycost", Value::num("3")}, {"~identity", Value::null()}, {"~keycosts", Value::num("4")}};
    Members without = {{"~identit", Value::num("1")}, {"keycost", Value::num("2")}, {"~keyMag", Value::num("3")},
                       {"~keymag ", Value::num("4")}, {"totalCost", Value::num("5")}};
    auto scan = [](const Members &m, std::string_view key) {
        for (size_t i = 0; i < m.size(); i++)
            if (m[i].first == key)
                return int32_t(i);
        return int32_t(-1);
    };
    EXPECT_EQ(kIdentityMember, "~identity");
    EXPECT_EQ(kKeyCostMember, "~keycost");
    EXPECT_EQ(kKeyMagMember, "~keymag");
    EntryPlan plan;
    for (const Members *m : {&with, &without}) {
        plan_entry(entry_model::TreeView(*m), plan);
        EXPECT_EQ(plan.identity, scan(*m, "~identity"));
        EXPECT_EQ(plan.key_cost, scan(*m, "~keycost"));
        EXPECT_EQ(plan.key_mag, scan(*m, "~keymag"));
        EXPECT_EQ(plan.days_mask, scan(*m, "~days"));
    }
    plan_entry(entry_model::TreeView(with), plan);
    EXPECT_EQ(plan.key_mag, 0);
    EXPECT_EQ(plan.key_cost, 3);
    EXPECT_EQ(plan.identity, 4);
    plan_entry(entry_model::TreeView(without), plan);
    EXPECT_EQ(plan.identity, -1);
}

TEST(CountSum, AllOrNothingAndOneMessage)
{
    int64_t acc[kCountMetrics] = {1, INT64_MAX - 1, 0, 0, 0, 0};
    int64_t in[kCountMetrics] = {1, 2, 3, 0, 0, 0};
    EXPECT_EQ(add_counts(acc, in), kTotalTokens);
    EXPECT_EQ(acc[0], 1);  // unchanged
    try {
        add_counts_or_throw(acc, in, "aggregated_by_user", "big", FixedLabel("2030-02-02"));
        FAIL();
    } catch (const Error &e) {
        EXPECT_STREQ(e.sqlstate, "22003");
        EXPECT_EQ(e.message, "bigint out of range summing aggregated_by_user for key \"big\", field \"total_tokens\"");
        EXPECT_EQ(e.detail, "The sum passes 9223372036854775807 on 2030-02-02.");
    }
    int64_t neg[kCountMetrics] = {-2, -5, 0, 0, 0, 0};
    EXPECT_EQ(add_counts(acc, neg), kMetricCount);
    EXPECT_EQ(acc[0], -1);
    EXPECT_EQ(acc[1], INT64_MAX - 6);
    int64_t low[kCountMetrics] = {INT64_MIN, 0, 0, 0, 0, 0};
    EXPECT_EQ(add_counts(acc, low), kRequests);
}

// Every metric position, every pair of edge values: the first overflowing metric (or none)
// as __builtin_add_overflow finds it one by one, and acc changed only when none overflows.
TEST(CountSum, EdgeValuesAtEveryPositionAgreeWithOneByOne)
{
    const int64_t edges[] = {0, 1, -1, 2, INT64_MAX, INT64_MAX - 1, INT64_MIN, INT64_MIN + 1, 1LL << 62, -(1LL << 62)};
    for (int p = 0; p < kCountMetrics; p++)
        for (int64_t x : edges)
            for (int64_t y : edges)
                for (int q = 0; q < kCountMetrics; q++) {
                    // metric p adds x + y; metric q (another, or the same) adds INT64_MAX to 1
                    // when q != p, so two overflows race for "first".
                    int64_t acc[kCountMetrics] = {}, in[kCountMetrics] = {};
                    acc[p] = x;
                    in[p] = y;
                    if (q != p) {
                        acc[q] = 1;
                        in[q] = INT64_MAX;
                    }
                    int64_t before[kCountMetrics];
                    std::copy(acc, acc + kCountMetrics, before);
                    Metric want = kMetricCount;
                    for (int m = 0; m < kCountMetrics && want == kMetricCount; m++) {
                        int64_t r;
                        if (__builtin_add_overflow(acc[m], in[m], &r))
                            want = Metric(m);
                    }
                    ASSERT_EQ(add_counts(acc, in), want) << p << " " << x << " " << y << " " << q;
                    for (int m = 0; m < kCountMetrics; m++)
                        ASSERT_EQ(acc[m], want == kMetricCount ? before[m] + in[m] : before[m]);
                }
}

// add_counts_at (a dense layout's counts in member order, from registers) against add_counts over
// the same counts laid out by metric: the same all-or-nothing outcome and sums (on false the
// reader adds the entry by add_counts_or_throw, whose error is tested above), every pair of edge
// values at every member, for K = 4 (a flat entry's counts) and 6 (a nested "metrics"' counts)
// in a member order that is not the metric order.
template <int K>
void check_counts_at(const Metric (&metric)[K])
{
    const int64_t edges[] = {0, 1, -1, 2, INT64_MAX, INT64_MAX - 1, INT64_MIN, INT64_MIN + 1, 1LL << 62, -(1LL << 62)};
    for (int p = 0; p < K; p++)
        for (int64_t x : edges)
            for (int64_t y : edges)
                for (int q = 0; q < K; q++) {
                    int64_t acc[kCountMetrics] = {3, 5, 7, 11, 13, 17}, v[K] = {};
                    for (int k = 0; k < K; k++)
                        v[k] = k + 1;
                    acc[metric[p]] = x;
                    v[p] = y;
                    if (q != p) {  // a second overflow racing for "first"
                        acc[metric[q]] = INT64_MAX - 1;
                        v[q] = 2;
                    }
                    int64_t ref[kCountMetrics], in[kCountMetrics] = {};
                    std::copy(acc, acc + kCountMetrics, ref);
                    for (int k = 0; k < K; k++)
                        in[metric[k]] = v[k];
                    Metric want = add_counts(ref, in);
                    ASSERT_EQ(add_counts_at<K>(acc, metric, v), want == kMetricCount) << p << " " << x << " " << y << " " << q;
                    for (int m = 0; m < kCountMetrics; m++)
                        ASSERT_EQ(acc[m], ref[m]) << p << " " << x << " " << y << " " << q << " metric " << m;
                }
}

TEST(CountSum, CountsAtAgreeWithAddCountsAtTheEdges)
{
    // A flat entry's counts in member order (JSONB's: shorter keys first, after "totalCost"):
    // totalTokens, promptTokens, totalRequests, completionTokens; a nested "metrics"' six.
    const Metric flat[4] = {kTotalTokens, kPromptTokens, kRequests, kCompletionTokens};
    const Metric shuffled[4] = {kCompletionTokens, kRequests, kFailedRequests, kTotalTokens};
    const Metric nested[6] = {kFailedRequests, kRequests, kSuccessfulRequests, kTotalTokens, kPromptTokens,
                              kCompletionTokens};
    check_counts_at(flat);
    check_counts_at(shuffled);
    check_counts_at(nested);
    const Metric one[1] = {kPromptTokens};
    check_counts_at(one);
}

TEST(Metrics, OutputColumnsFollowTheContract)
{
    // CONTRACT §3: total_requests, total_tokens, prompt_tokens, completion_tokens, total_cost,
    // successful_requests, failed_requests.
    const char *want[] = {"requests", "total_tokens", "prompt_tokens", "completion_tokens", "cost",
                          "successful_requests", "failed_requests"};
    for (int i = 0; i < kMetricCount; i++)
        EXPECT_STREQ(metric_name(kOutputColumns[i]), want[i]);
    EXPECT_EQ(kTrendColumns, 5);
}

TEST(EntryModel, ReferenceAgreesOnTheHandCases)
{
    // The fuzzer trusts entry_model::reference; check it on a few cases with known answers.
    auto x = entry_model::reference({{"metrics", Value::object({{"spend", Value::num("1.50")},
                                                                {"tokens", Value::str("1e3")}})}},
                                    false);
    EXPECT_FALSE(x.error);
    EXPECT_EQ(x.cost, "1.50");
    EXPECT_EQ(x.counts[1], 1000);
    x = entry_model::reference({{"requests", Value::num("12.5")}}, false);
    EXPECT_TRUE(x.error);
    EXPECT_EQ(x.sqlstate, "22023");
    x = entry_model::reference({{"totalCost", Value::num("-0.000")}}, false);
    EXPECT_EQ(x.cost, "0.000");
}

}  // namespace ut_entry_rules_test
