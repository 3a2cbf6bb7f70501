#include "core/aggregator.hpp"
#include "core/error.hpp"
#include "core/metrics.hpp"
#include "core/number.hpp"

#include "aggregator_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace ut_aggregator_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {
using ut_aggregator_fixture::add;  // test/unit/aggregator_fixture.hpp
}  // namespace

TEST(Metrics, AliasesAndPriorities)
{
    struct Case { const char *key; Metric m; int prio; };
    for (Case c : {Case{"totalRequests", kRequests, 0}, {"api_requests", kRequests, 1}, {"requests", kRequests, 2},
                   {"totalTokens", kTotalTokens, 0}, {"total_tokens", kTotalTokens, 1}, {"tokens", kTotalTokens, 2},
                   {"promptTokens", kPromptTokens, 0}, {"prompt_tokens", kPromptTokens, 1},
                   {"completionTokens", kCompletionTokens, 0}, {"completion_tokens", kCompletionTokens, 1},
                   {"totalCost", kCost, 0}, {"spend", kCost, 1}, {"cost", kCost, 2},
                   {"successfulRequests", kSuccessfulRequests, 0}, {"successful_requests", kSuccessfulRequests, 1},
                   {"failedRequests", kFailedRequests, 0}, {"failed_requests", kFailedRequests, 1}}) {
        KeyClass k = classify_key(c.key, std::strlen(c.key));
        EXPECT_EQ(k.kind, KeyKind::metric) << c.key;
        EXPECT_EQ(k.metric, c.m) << c.key;
        EXPECT_EQ(k.priority, c.prio) << c.key;
    }
    EXPECT_EQ(classify_key("metrics", 7).kind, KeyKind::metrics_object);
    EXPECT_EQ(classify_key("username", 8).kind, KeyKind::username);
    EXPECT_EQ(classify_key("email", 5).kind, KeyKind::email);
    EXPECT_EQ(classify_key("role", 4).kind, KeyKind::role);
    for (const char *other : {"TotalRequests", "models", "userId", "spent", "", "costs"})
        EXPECT_EQ(classify_key(other, std::strlen(other)).kind, KeyKind::none) << other;
}

TEST(Aggregator, SumsCountsDaysAndOrdersByCostThenKey)
{
    KeyAggregator agg;
    add(agg, "b", 1, "0.5", 1);
    add(agg, "a", 2, "0.5", 1);
    add(agg, "c", 3, "0.25", 1);
    add(agg, "a", 5, "0.001", 2);
    add(agg, "a", 1, "0", 2);  // same day twice counts once
    add(agg, "ü-ключ", 1, "9.99", 3);
    ASSERT_EQ(agg.size(), 4u);
    auto order = agg.sorted();
    EXPECT_EQ(order[0]->key_view(), "ü-ключ");
    EXPECT_EQ(order[1]->key_view(), "a");  // 0.501
    EXPECT_EQ(order[2]->key_view(), "b");  // 0.5
    EXPECT_EQ(order[3]->key_view(), "c");
    const Slot *a = agg.find("a", 1);
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->totals.counts[kRequests], 8);
    EXPECT_EQ(a->totals.counts[kTotalTokens], 80);
    EXPECT_EQ(a->totals.active_days, 2);
    EXPECT_EQ(a->totals.cost.to_string(), "0.501");
}

TEST(Aggregator, TiesOnCostBreakByKeyBytes)
{
    KeyAggregator agg;
    for (const char *k : {"b", "B", "a", "aa", "A"})
        add(agg, k, 1, "1.0", 1);
    auto order = agg.sorted();
    std::string got;
    for (auto *s : order)
        got += std::string(s->key_view()) + ",";
    EXPECT_EQ(got, "A,B,a,aa,b,");
}

// sorted()'s order checked against an independent one: every slot by DecimalSum::compare of
// its cost (greatest first), ties by key bytes.
void expect_sorted_by_cost(const KeyAggregator &agg, int round)
{
    std::vector<const Slot *> want;
    for (const Slot &s : agg.slots())
        want.push_back(&s);
    std::sort(want.begin(), want.end(), [](const Slot *a, const Slot *b) {
        int c = a->totals.cost.compare(b->totals.cost);
        return c != 0 ? c > 0 : a->key_view() < b->key_view();
    });
    std::vector<const Slot *> got = agg.sorted();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); i++)
        ASSERT_EQ(got[i], want[i]) << "round " << round << " position " << i << " " << got[i]->key_view() << " "
                                   << got[i]->totals.cost.to_string() << " / " << want[i]->key_view() << " "
                                   << want[i]->totals.cost.to_string();
}

// sorted() sorts (cost at one scale, slot) pairs when every cost is on the 128-bit path, and
// compares sums otherwise: both give the order DecimalSum::compare and the key bytes give.
TEST(Aggregator, SortedAgreesWithCompareOnMixedScalesAndWideSums)
{
    const char *costs[] = {"0.5", "0.25", "3", "0.000001", "-2.5", "0", "1.50", "12345678901234567890.123456",
                           "-0.000001", "7", "0.1", "99999999999999999999999999999999.5"};
    // 10^37 at scale 0: at scale 6 past 128 bits (the pairs' fallback).
    const char *near_top = "10000000000000000000000000000000000000";
    const char *wide = "123456789012345678901234567890123456789012345.5";  // past 128 bits
    uint64_t seed = 99;
    auto next = [&seed] {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        return uint32_t(seed >> 33);
    };
    for (int round = 0; round < 40; round++) {
        KeyAggregator agg;
        int keys = 1 + int(next() % 300);
        for (int k = 0; k < keys; k++) {
            std::string key = "k" + std::to_string(next() % 1000);
            int adds = 1 + int(next() % 3);
            for (int a = 0; a < adds; a++)
                add(agg, key, 1, costs[next() % (sizeof costs / sizeof costs[0])], a);
        }
        if (round % 4 == 3)
            add(agg, "wide", 1, wide, 0);
        if (round % 4 == 1)
            add(agg, "near-top", 1, near_top, 0);
        ASSERT_NO_FATAL_FAILURE(expect_sorted_by_cost(agg, round));
    }
}

// With every cost a 64-bit integer at the call's largest scale, sorted() radix-sorts those
// integers (core/cost_order.cpp): the order equals a sort by DecimalSum::compare and the key
// bytes over costs whose range needs 0 to 6 passes, the int64 bounds at scale 6, negative
// costs, ties on most keys and keys with bytes >= 0x80; one past int64 (the pairs' path) too.
TEST(Aggregator, SortedRadixAgreesWithCompare)
{
    uint64_t seed = 7;
    auto next = [&seed] {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        return uint64_t(seed >> 11);
    };
    // Per round: the integer part's bound (0 = the costs from `tied` only), the fraction's digits.
    struct Profile { uint64_t int_bound; int frac_digits; int keys; };
    const Profile profiles[] = {{0, 0, 3000},         {1, 0, 50},        {3, 1, 2000},       {1000, 2, 5000},
                                {1000000, 6, 20000},  {9223372036854ULL, 6, 4000}, {50, 6, 1},  {0, 0, 0},
                                {100000000000ULL, 3, 3000}};
    const char *tied[] = {"0.5", "0.25", "-0.5", "0", "3"};
    const char *bounds[] = {"9223372036854.775807", "-9223372036854.775808", "9223372036854.775806"};
    for (int round = 0; round < 20; round++) {
        const Profile &p = profiles[size_t(round) % (sizeof profiles / sizeof profiles[0])];
        KeyAggregator agg;
        for (int k = 0; k < p.keys; k++) {
            // Distinct keys (a key's costs would add up past int64), in random byte order.
            std::string key = "u" + std::to_string(next() % 100000) + "-" + std::to_string(k);
            if (k % 7 == 0)
                key += "\xc3\xa9";  // a byte >= 0x80
            std::string cost;
            if (p.int_bound == 0) {
                cost = tied[next() % 5];
            } else {
                cost = (next() % 5 == 0 ? "-" : "") + std::to_string(next() % p.int_bound);
                if (p.frac_digits > 0) {
                    std::string frac = std::to_string(next() % 1000000);
                    frac.insert(0, 6 - frac.size(), '0');
                    cost += "." + frac.substr(0, size_t(p.frac_digits));
                }
            }
            add(agg, key, 1, cost.c_str(), 0);
        }
        if (p.int_bound == 9223372036854ULL) {
            for (const char *b : bounds)
                add(agg, std::string("bound") + b, 1, b, 0);
            if (round % 2 == 1)  // past int64 at scale 6: the (cost, slot) pairs
                add(agg, "past", 1, "9223372036854.775808", 0);
        }
        ASSERT_NO_FATAL_FAILURE(expect_sorted_by_cost(agg, round));
    }
}

TEST(Aggregator, ManyKeysSurviveGrowth)
{
    KeyAggregator agg;
    for (int day = 0; day < 3; day++)
        for (int u = 0; u < 20000; u++)
            add(agg, "user-" + std::to_string(u), 1, "0.01", day);
    ASSERT_EQ(agg.size(), 20000u);
    const Slot *s = agg.find("user-12345", 10);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->totals.counts[kRequests], 3);
    EXPECT_EQ(s->totals.active_days, 3);
    EXPECT_EQ(s->totals.cost.to_string(), "0.03");
    EXPECT_EQ(agg.find("user-20000", 10), nullptr);
}

TEST(Aggregator, OverflowIsReportedNotWrapped)
{
    KeyAggregator agg;
    Slot &s = agg.find_or_insert("k", 1);
    int64_t big[kCountMetrics] = {INT64_MAX, 0, 0, 0, 0, 0};
    int64_t one[kCountMetrics] = {0, 1, 0, 0, 0, 1};
    EXPECT_EQ(s.totals.add(big, nullptr), kMetricCount);
    EXPECT_EQ(s.totals.add(one, nullptr), kMetricCount);
    int64_t again[kCountMetrics] = {1, 0, 0, 0, 0, 0};
    EXPECT_EQ(s.totals.add(again, nullptr), kRequests);
    EXPECT_EQ(s.totals.counts[kRequests], INT64_MAX);  // unchanged after the refused add
    EXPECT_EQ(s.totals.counts[kTotalTokens], 1);
}

TEST(Aggregator, MergeAddsPartials)
{
    KeyAggregator a, b;
    add(a, "x", 1, "0.1", 1);
    add(b, "x", 2, "0.25", 2);
    add(b, "y", 3, "1", 2);
    a.merge(b);
    EXPECT_EQ(a.find("x", 1)->totals.counts[kRequests], 3);
    EXPECT_EQ(a.find("x", 1)->totals.active_days, 2);
    EXPECT_EQ(a.find("x", 1)->totals.cost.to_string(), "0.35");
    EXPECT_EQ(a.find("y", 1)->totals.cost.to_string(), "1");
}

// Days as (base, mask) per row: the union of the masks of one row, rows never sharing days;
// the last day is the highest day counted.
TEST(Aggregator, MarkDaysUnionsMasksPerRow)
{
    Totals t(std::pmr::get_default_resource());
    EXPECT_EQ(t.active_days, 0);
    t.mark_days(0, 0x5);    // days 0, 2 (a rollup's cell)
    t.mark_days(0, 0x6);    // days 1, 2: one more (another cell of the same row)
    t.mark_days(0, 0x0);    // nothing
    EXPECT_EQ(t.active_days, 3);
    EXPECT_EQ(t.last_day, 2);
    t.mark_days(31, 0x40000000);  // day 61
    EXPECT_EQ(t.active_days, 4);
    EXPECT_EQ(t.last_day, 61);
    t.mark_day(75);
    t.mark_day(75);
    EXPECT_EQ(t.active_days, 5);
    EXPECT_EQ(t.last_day, 75);
    Totals empty(std::pmr::get_default_resource());
    empty.mark_days(4, 0);
    EXPECT_EQ(empty.active_days, 0);
    EXPECT_LT(empty.last_day, 0);
}

TEST(Aggregator, KeyListsThatShiftFindTheirKeysWithFewHashes)
{
    // Day after day the same sorted key list with keys coming and going (users active on some
    // days only): every key lands in its own slot, the one find() gives, whatever the hints; and
    // once every key has been met, a key more or less costs a few hashed lookups, not one for
    // every key after it (the position hint's cascade; Slot::next is the second guess).
    KeyAggregator agg;
    std::vector<std::string> all;
    for (int u = 0; u < 2000; u++) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "u%09d", u);  // 10 bytes, sorted as JSONB sorts them
        all.push_back(buf);
    }
    std::vector<int64_t> want(all.size(), 0);
    uint64_t seed = 12345;
    auto next_random = [&] {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        return uint32_t(seed >> 33);
    };
    size_t absent_before = 0;
    for (int day = 0; day < 60; day++) {
        // Days 0-1: everyone (every key met once); then each key is absent with probability
        // 1/200 on days 2-49, and every 5th key only on every other day from day 50.
        std::vector<size_t> present;
        for (size_t i = 0; i < all.size(); i++) {
            bool in = day < 2 || (day < 50 ? next_random() % 200 != 0 : (i % 5 != 0 || day % 2 == 0));
            if (in)
                present.push_back(i);
        }
        uint64_t hashed_before = agg.hashed();
        for (uint32_t p = 0; p < present.size(); p++) {
            const std::string &k = all[present[p]];
            Slot &s = agg.find_or_insert_at(k.data(), k.size(), p);
            ASSERT_EQ(s.key_view(), k);
            ASSERT_EQ(&s, agg.find(k.data(), k.size()));
            s.totals.counts[0]++;
            want[present[p]]++;
        }
        // Keys absent today or yesterday: each shifts the positions after it.
        size_t absent = all.size() - present.size(), changes = absent + absent_before;
        absent_before = absent;
        if (day >= 2 && day < 50) {
            EXPECT_LE(agg.hashed() - hashed_before, 2 * changes + 2) << "day " << day;
        }
        if (day >= 52) {  // the two alternating lists have each had their own hint set
            EXPECT_LE(agg.hashed() - hashed_before, 2u) << "day " << day;
        }
    }
    ASSERT_EQ(agg.size(), all.size());
    for (size_t i = 0; i < all.size(); i++)
        EXPECT_EQ(agg.find(all[i].data(), all[i].size())->totals.counts[0], want[i]) << all[i];
}

TEST(Aggregator, FixedLengthLookupFindsWhatTheGeneralOneFinds)
{
    // find_or_insert_at_len<36> (the LiteMaaS loop's UUID keys) against find_or_insert_at over
    // the same days: UUID-like keys, a few of other lengths (35, 37, 10 bytes) and keys that
    // differ from another only in their last or first byte, lists that shift from day to day and
    // grow past the hints' size. Every lookup returns the key's own slot (find()'s); both
    // aggregators end with the same keys, counts and hashed lookups.
    KeyAggregator fixed, general;
    std::vector<std::string> all;
    for (int u = 0; u < 600; u++) {
        char buf[48];
        std::snprintf(buf, sizeof buf, "%08x-%04x-4000-8000-%012x", u * 2654435761u, u % 65536, u);
        std::string k(buf);
        if (u % 50 == 7)
            k.pop_back();  // 35 bytes
        else if (u % 50 == 8)
            k += "z";  // 37 bytes
        else if (u % 50 == 9)
            k = k.substr(0, 10);
        all.push_back(k);
        if (u % 40 == 3) {  // a key differing only in its last byte, another in its first
            std::string last = k, first = k;
            last.back() ^= 1;
            first.front() ^= 1;
            all.push_back(last);
            all.push_back(first);
        }
    }
    std::sort(all.begin(), all.end());
    uint64_t seed = 99;
    auto next_random = [&] {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        return uint32_t(seed >> 33);
    };
    for (int day = 0; day < 40; day++) {
        std::vector<size_t> present;
        const size_t reach = day < 5 ? all.size() / 2 : all.size();  // the list grows on day 5
        for (size_t i = 0; i < reach; i++)
            if (day % 10 == 0 || next_random() % 20 != 0)
                present.push_back(i);
        for (uint32_t p = 0; p < present.size(); p++) {
            const std::string &k = all[present[p]];
            Slot &a = fixed.find_or_insert_at_len<36>(k.data(), k.size(), p);
            Slot &b = general.find_or_insert_at(k.data(), k.size(), p);
            ASSERT_EQ(a.key_view(), k) << "day " << day;
            ASSERT_EQ(&a, fixed.find(k.data(), k.size()));
            ASSERT_EQ(b.key_view(), k);
            a.totals.counts[0] += day + 1;
            b.totals.counts[0] += day + 1;
        }
    }
    ASSERT_EQ(fixed.size(), all.size());
    ASSERT_EQ(general.size(), all.size());
    EXPECT_EQ(fixed.hashed(), general.hashed());
    for (const std::string &k : all)
        EXPECT_EQ(fixed.find(k.data(), k.size())->totals.counts[0], general.find(k.data(), k.size())->totals.counts[0])
            << k;
}

TEST(Aggregator, HashesKeysOfEveryLengthApart)
{
    // hash_bytes reads keys of 0-7 bytes as overlapping halves and longer ones by words ending
    // on their last 8 bytes: keys that differ in any one byte, at any length, stay apart.
    KeyAggregator agg;
    std::vector<std::string> keys;
    for (size_t len = 0; len <= 40; len++) {
        std::string base(len, 'a');
        keys.push_back(base);
        for (size_t i = 0; i < len; i++) {
            std::string k = base;
            k[i] = 'b';
            keys.push_back(k);
        }
    }
    for (size_t i = 0; i < keys.size(); i++)
        agg.find_or_insert(keys[i].data(), keys[i].size()).totals.counts[0] = int64_t(i);
    ASSERT_EQ(agg.size(), keys.size());
    for (size_t i = 0; i < keys.size(); i++) {
        const Slot *s = agg.find(keys[i].data(), keys[i].size());
        ASSERT_NE(s, nullptr);
        EXPECT_EQ(s->totals.counts[0], int64_t(i));
        EXPECT_EQ(s->key_view(), keys[i]);
    }
}

namespace {
// A key list in known_keys' form: range a its keys' lengths (4 bytes each, as JSONB's JEntries
// carry them), range b its keys' bytes one after the other.
struct KeyList {
    std::vector<std::string> keys;
    std::vector<uint32_t> lengths;
    std::string bytes;
    explicit KeyList(std::vector<std::string> k) : keys(std::move(k))
    {
        for (const std::string &key : keys) {
            lengths.push_back(uint32_t(key.size()));
            bytes += key;
        }
    }
    const uint32_t *known(KeyAggregator &agg) const
    {
        return agg.known_keys(keys[0].data(), keys[0].size(), lengths.data(), lengths.size() * 4, bytes.data(),
                              bytes.size(), uint32_t(keys.size()));
    }
    void remember(KeyAggregator &agg) const
    {
        agg.remember_keys(lengths.data(), lengths.size() * 4, bytes.data(), bytes.size(), uint32_t(keys.size()));
    }
    // Reads the list as the breakdown's loops do: every position's slot by the known hints, or
    // by find_or_insert_at and then remembered. Returns whether the hints were known.
    bool read(KeyAggregator &agg, std::vector<int64_t> *counts = nullptr, size_t stop_at = SIZE_MAX) const
    {
        const uint32_t *hints = known(agg);
        for (uint32_t p = 0; p < keys.size(); p++) {
            if (p == stop_at)
                return hints != nullptr;  // an error in the row: nothing remembered
            Slot &s = hints ? agg.slot_at(hints[p]) : agg.find_or_insert_at(keys[p].data(), keys[p].size(), p);
            EXPECT_EQ(s.key_view(), keys[p]);
            EXPECT_EQ(&s, agg.find(keys[p].data(), keys[p].size()));
            s.totals.counts[0]++;
            if (counts)
                (*counts)[size_t(&s - agg.slots().data())]++;
        }
        if (!hints)
            remember(agg);
        return hints != nullptr;
    }
};
KeyList users(int from, int step, int count, int width = 9)
{
    std::vector<std::string> k;
    for (int u = from; u < from + step * count; u += step) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "u%0*d", width, u);
        k.push_back(buf);
    }
    return KeyList(std::move(k));
}
}  // namespace

TEST(Aggregator, KnownKeyListsGiveEveryPositionsSlot)
{
    // The sparse year's rows: five lists taking turns (every 5th user), each known from its
    // second turn on; every entry lands in its key's slot either way.
    KeyAggregator agg;
    std::vector<KeyList> kinds;
    for (int k = 0; k < 5; k++)
        kinds.push_back(users(k, 5, 400));
    for (int day = 0; day < 30; day++)
        EXPECT_EQ(kinds[size_t(day % 5)].read(agg), day >= 5) << "day " << day;
    ASSERT_EQ(agg.size(), 2000u);
    for (int u = 0; u < 2000; u++) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "u%09d", u);
        EXPECT_EQ(agg.find(buf, 10)->totals.counts[0], 6) << buf;
    }
}

TEST(Aggregator, KnownKeyListsForgetWhatChangedTheirHints)
{
    KeyAggregator agg;
    const KeyList a = users(0, 1, 50), b = users(0, 2, 25);  // the same first key: one kind
    EXPECT_FALSE(a.read(agg));
    EXPECT_TRUE(a.read(agg));
    // Read by positions only (another loop, no known_keys): b moved the hints; a is not known.
    for (uint32_t p = 0; p < b.keys.size(); p++)
        agg.find_or_insert_at(b.keys[p].data(), b.keys[p].size(), p);
    EXPECT_FALSE(a.read(agg));
    EXPECT_TRUE(a.read(agg));
    // A row stopped by an error after its list missed: not remembered.
    EXPECT_FALSE(b.read(agg, nullptr, 10));
    EXPECT_FALSE(b.read(agg));
    EXPECT_TRUE(b.read(agg));
    EXPECT_FALSE(a.read(agg));
    // The same bytes with the keys cut elsewhere ("u1" "u23" against "u12" "u3"): the lengths
    // tell them apart. A list one key longer or shorter, or another length's keys: not known.
    const KeyList c(std::vector<std::string>{"u1", "u23"}), d(std::vector<std::string>{"u12", "u3"});
    EXPECT_FALSE(c.read(agg));
    EXPECT_TRUE(c.read(agg));
    EXPECT_FALSE(KeyList(std::vector<std::string>{"u1", "u23", "u4"}).read(agg));
    EXPECT_FALSE(c.read(agg));
    EXPECT_FALSE(KeyList(std::vector<std::string>{"u1"}).read(agg));
    EXPECT_FALSE(c.read(agg));
    EXPECT_FALSE(d.read(agg));
    // Nine kinds take turns over eight hint sets: a set given to a new kind forgets its list.
    std::vector<KeyList> kinds;
    for (int k = 0; k < 9; k++)
        kinds.push_back(users(100 + k, 9, 30, 12));
    for (int round = 0; round < 3; round++)
        for (const KeyList &k : kinds)
            EXPECT_FALSE(k.read(agg));
    EXPECT_FALSE(kinds[0].read(agg));
    EXPECT_TRUE(kinds[0].read(agg));
    EXPECT_TRUE(kinds[8].read(agg));  // the last kind kept its set
    // Growth moves the slots, not their indexes: a known list stays right.
    const KeyList e = users(5000, 1, 10);
    EXPECT_FALSE(e.read(agg));
    agg.reserve(agg.size() * 4);
    EXPECT_TRUE(e.read(agg));
}

}  // namespace ut_aggregator_test
