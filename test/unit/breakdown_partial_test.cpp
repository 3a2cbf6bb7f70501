// The parallel user breakdown's partial state (core/breakdown_partial): days read in any order
// by any number of partials, combined in memory or through the wire form, give what reading
// every day in date order gives; failures travel; malformed buffers are refused with 22P03.
#include "core/breakdown_partial.hpp"
#include "core/error.hpp"
#include "core/error_text.hpp"
#include "core/number.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace ut_breakdown_partial_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

struct Entry {
    std::string key;
    int64_t counts[kCountMetrics];
    std::string cost;
    std::string username, email, role;
};

// Day d (0-based offset): a few keys, identity that changes with the day and is sometimes absent.
std::vector<Entry> day_entries(int d)
{
    std::vector<Entry> out;
    for (int u = 0; u < 12; u++) {
        if ((d + u) % (1 + u % 3) != 0)
            continue;
        Entry e{"user-" + std::to_string(u), {d * u % 50, d * 7 + u, u, d, d % 3, u % 2},
                std::to_string(d * u % 97) + (u % 4 ? "." + std::string(size_t(u % 4), '3') : ""), "", "", ""};
        if (d % 3 != 0)
            e.username = "name-" + std::to_string(u) + "-" + std::to_string(d / 10);
        if (u % 2 == 0 && d % 4 != 1)
            e.email = "e" + std::to_string(u) + "-" + std::to_string(d / 7);
        if (u % 4 == 0 && d % 2 == 0)
            e.role = "role-" + std::to_string(d / 5);
        out.push_back(e);
    }
    return out;
}

EntryValues values_of(const Entry &e)
{
    EntryValues v{};
    std::copy(e.counts, e.counts + kCountMetrics, v.counts);
    EXPECT_TRUE(parse_json_number(e.cost, v.cost));
    v.cost_seen = true;
    v.username = e.username;
    v.email = e.email;
    v.role = e.role;
    return v;
}

void read_day(BreakdownPartial &p, int d)
{
    const FixedLabel row("day " + std::to_string(d));
    for (const Entry &e : day_entries(d)) {
        EntryValues v = values_of(e);
        ASSERT_TRUE(BreakdownPartial::order_free(v));
        Slot &s = p.agg.find_or_insert(e.key.data(), e.key.size());
        p.add(s, v, d, row, "aggregated_by_user", e.key);
    }
}

// The serial rule, written out: sums, distinct days, the last day, the latest non-empty
// identity in day order.
struct Expected {
    int64_t counts[kCountMetrics] = {};
    DecimalSum cost;
    int days = 0, last = INT32_MIN;
    std::string username, email, role;
};

std::map<std::string, Expected> serial(int ndays)
{
    std::map<std::string, Expected> out;
    for (int d = 0; d < ndays; d++)
        for (const Entry &e : day_entries(d)) {
            Expected &x = out[e.key];
            for (int m = 0; m < kCountMetrics; m++)
                x.counts[m] += e.counts[m];
            x.cost.add(values_of(e).cost);
            x.days++;
            x.last = d;
            if (!e.username.empty()) x.username = e.username;
            if (!e.email.empty()) x.email = e.email;
            if (!e.role.empty()) x.role = e.role;
        }
    return out;
}

void expect_equal(const BreakdownPartial &p, const std::map<std::string, Expected> &want)
{
    ASSERT_FALSE(p.failed);
    ASSERT_EQ(p.agg.size(), want.size());
    for (const auto &[key, x] : want) {
        const Slot *s = p.agg.find(key.data(), key.size());
        ASSERT_NE(s, nullptr) << key;
        for (int m = 0; m < kCountMetrics; m++)
            EXPECT_EQ(s->totals.counts[m], x.counts[m]) << key;
        EXPECT_EQ(s->totals.cost.to_string(), x.cost.to_string()) << key;
        EXPECT_EQ(s->totals.active_days, x.days) << key;
        EXPECT_EQ(s->totals.last_day, x.last) << key;
        EXPECT_EQ(std::string(s->totals.username), x.username) << key;
        EXPECT_EQ(std::string(s->totals.email), x.email) << key;
        EXPECT_EQ(std::string(s->totals.role), x.role) << key;
    }
}

TEST(BreakdownPartial, AnySplitAnyOrderEqualsTheDateOrder)
{
    const int ndays = 40;
    auto want = serial(ndays);
    std::mt19937 rng(13);
    for (int trial = 0; trial < 30; trial++) {
        int parts = 1 + trial % 5;
        std::vector<int> days(ndays);
        for (int d = 0; d < ndays; d++)
            days[d] = d;
        std::shuffle(days.begin(), days.end(), rng);
        std::vector<std::unique_ptr<BreakdownPartial>> partials;
        for (int i = 0; i < parts; i++)
            partials.push_back(std::make_unique<BreakdownPartial>(std::pmr::get_default_resource()));
        for (int i = 0; i < ndays; i++)
            read_day(*partials[size_t(int(rng() % unsigned(parts)))], days[size_t(i)]);
        // Combined in memory, and through the wire form (into an empty state, then into one
        // that already holds keys), in a shuffled order.
        std::vector<int> order(static_cast<size_t>(parts));
        for (int i = 0; i < parts; i++)
            order[size_t(i)] = i;
        std::shuffle(order.begin(), order.end(), rng);
        BreakdownPartial in_memory(std::pmr::get_default_resource()), wired(std::pmr::get_default_resource());
        for (int i : order) {
            in_memory.combine(*partials[size_t(i)]);
            std::string bytes = serialize_breakdown_partial(*partials[size_t(i)]);
            deserialize_breakdown_partial(bytes.data(), bytes.size(), wired);
        }
        expect_equal(in_memory, want);
        expect_equal(wired, want);
        std::string again = serialize_breakdown_partial(wired);
        BreakdownPartial back(std::pmr::get_default_resource());
        deserialize_breakdown_partial(again.data(), again.size(), back);
        expect_equal(back, want);
    }
}

TEST(BreakdownPartial, OrderDependentValuesAreNotOrderFree)
{
    EntryValues v{};
    v.cost_seen = true;
    ASSERT_TRUE(parse_json_number("1.5", v.cost));
    EXPECT_TRUE(BreakdownPartial::order_free(v));
    v.counts[2] = -1;
    EXPECT_FALSE(BreakdownPartial::order_free(v));
    v.counts[2] = 0;
    ASSERT_TRUE(parse_json_number("1e60", v.cost));
    EXPECT_EQ(v.cost.big, true);
    EXPECT_FALSE(BreakdownPartial::order_free(v));
}

TEST(BreakdownPartial, FailureAndOverflowTravel)
{
    BreakdownPartial a(std::pmr::get_default_resource()), b(std::pmr::get_default_resource());
    read_day(a, 1);
    b.failed = true;
    std::string bytes = serialize_breakdown_partial(b);
    EXPECT_TRUE(serialized_partial_failed(bytes.data(), bytes.size()));
    deserialize_breakdown_partial(bytes.data(), bytes.size(), a);
    EXPECT_TRUE(a.failed);

    // Two partials each within bigint whose sum is not: the combine fails (the serial path
    // then names the day), it never wraps.
    BreakdownPartial x(std::pmr::get_default_resource()), y(std::pmr::get_default_resource());
    const FixedLabel row("day");
    EntryValues v{};
    v.counts[0] = INT64_MAX - 5;
    x.add(x.agg.find_or_insert("k", 1), v, 1, row, "c", "k");
    v.counts[0] = 6;
    y.add(y.agg.find_or_insert("k", 1), v, 2, row, "c", "k");
    x.combine(y);
    EXPECT_TRUE(x.failed);
    std::string failed = serialize_breakdown_partial(x);
    EXPECT_TRUE(serialized_partial_failed(failed.data(), failed.size()));
}

TEST(BreakdownPartial, MalformedBuffersAreRefused)
{
    BreakdownPartial p(std::pmr::get_default_resource());
    read_day(p, 2);
    std::string good = serialize_breakdown_partial(p);
    auto refused = [](const std::string &bytes) {
        BreakdownPartial into(std::pmr::get_default_resource());
        try {
            deserialize_breakdown_partial(bytes.data(), bytes.size(), into);
        } catch (const Error &e) {
            return std::string(e.sqlstate) == "22P03";
        }
        return false;
    };
    for (size_t n = 0; n < good.size(); n += 7)
        EXPECT_TRUE(refused(good.substr(0, n))) << n;
    EXPECT_TRUE(refused(good + "x"));
    std::string other_version = good;
    other_version[0] = char(kBreakdownPartialVersion + 1);
    EXPECT_TRUE(refused(other_version));
    std::string huge_count = good;
    uint32_t n = 0x7fffffff;
    std::memcpy(&huge_count[6], &n, sizeof n);
    EXPECT_TRUE(refused(huge_count));
}

}  // namespace

}  // namespace ut_breakdown_partial_test
