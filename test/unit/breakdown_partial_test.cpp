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

// Version 2 carries a cost on the 128-bit path as its parts and a cost past it as text; both
// come back exactly, into an empty state and into one that holds the key already.
TEST(BreakdownPartial, CostsPastAndOn128BitsTravelExactly)
{
    const FixedLabel row("day");
    BreakdownPartial a(std::pmr::get_default_resource()), b(std::pmr::get_default_resource());
    DecimalSum want_big, want_small;
    auto add = [&](BreakdownPartial &p, const char *key, const char *cost, int day, DecimalSum &want) {
        EntryValues v{};
        v.cost_seen = true;
        ASSERT_TRUE(parse_json_number(cost, v.cost));
        ASSERT_FALSE(v.cost.big);
        p.add(p.agg.find_or_insert(key, strlen(key)), v, day, row, "c", key);
        want.add(v.cost);
    };
    // 10^30 at scale 0 and 10^-9: at one scale 10^39 does not fit 128 bits, the sum leaves the path.
    add(a, "big", "1000000000000000000000000000000", 1, want_big);
    add(b, "big", "0.000000001", 2, want_big);
    add(a, "small", "0.000001", 1, want_small);
    add(b, "small", "12.5", 2, want_small);
    a.combine(b);
    ASSERT_FALSE(a.failed);
    __int128 acc;
    int scale, dscale;
    EXPECT_FALSE(a.agg.find("big", 3)->totals.cost.fast_parts(acc, scale, dscale));  // the text form
    std::string bytes = serialize_breakdown_partial(a);
    EXPECT_EQ(bytes.size(), serialized_partial_size(a));
    BreakdownPartial back(std::pmr::get_default_resource());
    deserialize_breakdown_partial(bytes.data(), bytes.size(), back);
    EXPECT_EQ(back.agg.find("big", 3)->totals.cost.to_string(), want_big.to_string());
    EXPECT_EQ(back.agg.find("small", 5)->totals.cost.to_string(), want_small.to_string());
    EXPECT_EQ(back.agg.find("small", 5)->totals.cost.to_string(), "12.500001");
    deserialize_breakdown_partial(bytes.data(), bytes.size(), back);  // into held keys: the sums double
    DecimalSum twice_small;
    twice_small.add(want_small);
    twice_small.add(want_small);
    EXPECT_EQ(back.agg.find("small", 5)->totals.cost.to_string(), twice_small.to_string());
    EXPECT_EQ(back.agg.find("small", 5)->totals.active_days, 4);
    EXPECT_EQ(back.agg.find("small", 5)->totals.last_day, 2);
}

// A key twice in one buffer is refused whether the target is empty or holds keys (then each
// buffer is judged by itself: the target's own keys are no duplicates); so are unknown flags
// and costs whose parts are out of range.
TEST(BreakdownPartial, DuplicateKeysAndBadFlagsAreRefused)
{
    BreakdownPartial one(std::pmr::get_default_resource());
    read_day(one, 3);
    ASSERT_GE(one.agg.size(), 2u);
    std::string good = serialize_breakdown_partial(one);
    // The header, then the keys: cut the buffer into its keys by walking the format.
    const size_t header = 10;
    std::vector<std::string> keys;
    size_t at = header;
    for (size_t i = 0; i < one.agg.size(); i++) {
        size_t from = at;
        uint32_t klen;
        std::memcpy(&klen, &good[at], 4);
        at += 4 + klen + 8 * kCountMetrics + 8;
        uint8_t flags = uint8_t(good[at++]);
        if (flags & 1) {
            uint32_t clen;
            std::memcpy(&clen, &good[at], 4);
            at += 4 + clen;
        } else {
            at += 24;
        }
        if (flags & 2)
            for (int f = 0; f < 3; f++) {
                uint32_t ilen;
                std::memcpy(&ilen, &good[at + 4], 4);
                at += 8 + ilen;
            }
        keys.push_back(good.substr(from, at - from));
    }
    ASSERT_EQ(at, good.size());
    auto with_keys = [&](const std::vector<std::string> &ks) {
        std::string out = good.substr(0, header);
        uint32_t n = uint32_t(ks.size());
        std::memcpy(&out[6], &n, 4);
        for (const std::string &k : ks)
            out += k;
        return out;
    };
    auto refused = [](const std::string &bytes, BreakdownPartial &into) {
        try {
            deserialize_breakdown_partial(bytes.data(), bytes.size(), into);
        } catch (const Error &e) {
            return std::string(e.sqlstate) == "22P03";
        }
        return false;
    };
    std::string dup = with_keys({keys[0], keys[1], keys[0]});
    BreakdownPartial empty(std::pmr::get_default_resource());
    EXPECT_TRUE(refused(dup, empty));
    BreakdownPartial holding(std::pmr::get_default_resource());
    read_day(holding, 4);
    EXPECT_TRUE(refused(dup, holding));
    BreakdownPartial holding2(std::pmr::get_default_resource());
    read_day(holding2, 3);  // the same keys as the buffer: each once per buffer, twice over
    EXPECT_FALSE(refused(good, holding2));
    EXPECT_FALSE(refused(good, holding2));
    // Unknown flags; a cost's scale past the 128-bit path's.
    std::string bad_flags = with_keys({keys[0]});
    uint32_t klen;
    std::memcpy(&klen, &bad_flags[header], 4);
    size_t flags_at = header + 4 + klen + 8 * kCountMetrics + 8;
    bad_flags[flags_at] = char(bad_flags[flags_at] | 4);
    BreakdownPartial e1(std::pmr::get_default_resource());
    EXPECT_TRUE(refused(bad_flags, e1));
    std::string bad_scale = with_keys({keys[0]});
    if ((bad_scale[flags_at] & 1) == 0) {
        int32_t scale = kMaxFastScale + 1;
        std::memcpy(&bad_scale[flags_at + 1 + 16], &scale, 4);
        BreakdownPartial e2(std::pmr::get_default_resource());
        EXPECT_TRUE(refused(bad_scale, e2));
    }
}

}  // namespace

}  // namespace ut_breakdown_partial_test
