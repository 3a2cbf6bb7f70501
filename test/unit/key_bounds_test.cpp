// The top API key from per-user bounds (core/key_bounds.hpp) against brute force: every pair
// summed over every row, then the first by cost (cost descending, then "alias NUL user" bytes).
#include "core/aggregator.hpp"
#include "core/key_bounds.hpp"
#include "core/metrics.hpp"
#include "core/number.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <vector>

using namespace ducache::core;

namespace {

struct Value {
    int64_t counts[kCountMetrics] = {};
    std::string cost;  // JSON number text
};

struct Row {
    bool kept;                                            // a rollup row kept aside
    std::vector<std::string> users;                       // its user entries (some without pairs)
    std::map<std::string, std::map<std::string, Value>> pairs;  // user -> alias -> value
};

std::string pair_key(const std::string &alias, const std::string &user)
{
    std::string k = alias;
    k.push_back('\0');
    k += user;
    return k;
}

void add_to(KeyAggregator &agg, const std::string &key, const Value &v)
{
    Slot &s = agg.find_or_insert(key.data(), key.size());
    Decimal d;
    ASSERT_TRUE(parse_json_number(v.cost, d));
    ASSERT_EQ(s.totals.add(v.counts, &d), kMetricCount);
}

const Slot *first_by_cost(const KeyAggregator &agg)
{
    const Slot *best = nullptr;
    for (const Slot &s : agg.slots()) {
        if (best == nullptr) {
            best = &s;
            continue;
        }
        int c = s.totals.cost.compare(best->totals.cost);
        if (c > 0 || (c == 0 && s.key_view() < best->key_view()))
            best = &s;
    }
    return best;
}

std::string describe(const Slot *s)
{
    if (s == nullptr)
        return "none";
    std::string out(s->key_view());
    for (char &c : out)
        if (c == '\0')
            c = '|';
    out += " cost " + s->totals.cost.to_string();
    for (int m = 0; m < kCountMetrics; m++)
        out += " " + std::to_string(s->totals.counts[m]);
    return out;
}

// The read of pg/dashboard_top_key.cpp over rows, with bounds as the writer makes them (text).
std::string with_bounds(const std::vector<Row> &rows, size_t max_probes, size_t *probes = nullptr)
{
    std::pmr::monotonic_buffer_resource mr;
    KeyAggregator sums(&mr);
    KeyBounds bounds(&mr);
    for (const Row &r : rows) {
        if (!r.kept) {
            for (const auto &[user, aliases] : r.pairs)
                for (const auto &[alias, v] : aliases)
                    add_to(sums, pair_key(alias, user), v);
            continue;
        }
        uint32_t position = 0;
        for (const std::string &user : r.users) {
            UserKeyBound b;
            auto it = r.pairs.find(user);
            if (it != r.pairs.end())
                for (const auto &[alias, v] : it->second) {
                    Totals t(&mr);
                    Decimal d;
                    EXPECT_TRUE(parse_json_number(v.cost, d));
                    EXPECT_EQ(t.add(v.counts, &d), kMetricCount);
                    b.add(t);
                }
            Decimal cost;
            EXPECT_TRUE(parse_json_number(b.cost_text(), cost));
            bounds.add_bound(user, cost, position++);
        }
    }
    for (size_t i = 0; i < sums.slots().size(); i++) {
        std::string_view both = sums.slots()[i].key_view();
        bounds.add_walked_pair(both.substr(both.find('\0') + 1), sums.slots()[i].totals.cost, uint32_t(i));
    }
    auto sum_user = [&](const std::string &user, std::vector<std::string> &touched) {
        for (const Row &r : rows) {
            if (!r.kept)
                continue;
            auto it = r.pairs.find(user);
            if (it == r.pairs.end())
                continue;
            for (const auto &[alias, v] : it->second) {
                add_to(sums, pair_key(alias, user), v);
                touched.push_back(alias);
            }
        }
    };
    bool decided = bounds.select(max_probes, [&](std::string_view user_view, const std::pmr::vector<uint32_t> &walked,
                                                 DecimalSum &best) {
        std::string user(user_view);
        std::vector<std::string> touched;
        sum_user(user, touched);
        bool any = false;
        auto consider = [&](const Slot &s) {
            if (!any || s.totals.cost.compare(best) > 0)
                best = s.totals.cost;
            any = true;
        };
        for (uint32_t i : walked)
            consider(sums.slots()[i]);
        for (const std::string &alias : touched) {
            std::string k = pair_key(alias, user);
            consider(*sums.find(k.data(), k.size()));
        }
        return any;
    });
    if (!decided)
        for (const Row &r : rows)
            if (r.kept)
                for (const auto &[user, aliases] : r.pairs)
                    if (!bounds.probed(user))
                        for (const auto &[alias, v] : aliases)
                            add_to(sums, pair_key(alias, user), v);
    if (probes)
        *probes = bounds.probes();
    return describe(first_by_cost(sums));
}

std::string brute_force(const std::vector<Row> &rows)
{
    std::pmr::monotonic_buffer_resource mr;
    KeyAggregator sums(&mr);
    for (const Row &r : rows)
        for (const auto &[user, aliases] : r.pairs)
            for (const auto &[alias, v] : aliases)
                add_to(sums, pair_key(alias, user), v);
    return describe(first_by_cost(sums));
}

}  // namespace

TEST(KeyBounds, BoundMembers)
{
    std::pmr::monotonic_buffer_resource mr;
    UserKeyBound none;
    EXPECT_EQ(none.cost_text(), "0");
    EXPECT_EQ(none.mag_text(), "0");
    UserKeyBound b;
    auto pair = [&](const char *cost, std::vector<int64_t> counts) {
        Totals t(&mr);
        Decimal d;
        ASSERT_TRUE(parse_json_number(cost, d));
        int64_t c[kCountMetrics] = {};
        for (size_t i = 0; i < counts.size(); i++)
            c[i] = counts[i];
        ASSERT_EQ(t.add(c, &d), kMetricCount);
        b.add(t);
    };
    pair("-1.50", {3, -7});
    EXPECT_EQ(b.cost_text(), "0");  // every pair negative: a key absent from the row adds 0
    EXPECT_EQ(b.mag_text(), "7");
    pair("0.125", {-4, 2});
    EXPECT_EQ(b.cost_text(), "0.125");
    EXPECT_EQ(b.mag_text(), "9");  // |-7| + |2| beats |3| + |-4|
    pair("2", {INT64_MIN, 0});
    EXPECT_EQ(b.cost_text(), "2");
    EXPECT_EQ(b.mag_text(), "9223372036854775815");  // 3 + 4 + 2^63, past bigint: written as numeric
}

TEST(KeyBounds, Magnitude)
{
    KeyMagnitude m;
    EXPECT_TRUE(m.fits());
    int64_t big[kCountMetrics] = {INT64_MAX, 0, 0, 0, 0, 0};
    m.add_values(big);
    EXPECT_TRUE(m.fits());
    int64_t one[kCountMetrics] = {0, 0, -1, 0, 0, 0};
    m.add_values(one);
    EXPECT_FALSE(m.fits());
    KeyMagnitude n;
    int64_t low[kCountMetrics] = {INT64_MIN, 0, 0, 0, 0, 0};
    n.add_values(low);  // |INT64_MIN| = 2^63 > INT64_MAX
    EXPECT_FALSE(n.fits());
    KeyMagnitude u;
    u.add_unknown();
    EXPECT_FALSE(u.fits());
    KeyMagnitude s;
    s.add((unsigned __int128)(INT64_MAX) * 4);
    s.add(1);
    EXPECT_FALSE(s.fits());  // saturated, never wraps
}

// Randomized: flat costs (ties), negative costs and counts, users without pairs, day rows mixed
// in, users whose second key wins; the winner and its sums equal brute force's.
TEST(KeyBounds, RandomAgainstBruteForce)
{
    std::mt19937_64 rng(20261127);
    const char *flat_costs[] = {"1.00", "1.00", "0.5", "2", "-0.25", "0", "1.000", "3.14"};
    size_t runs = 0, fallbacks = 0, total_probes = 0;
    for (int run = 0; run < 20000; run++) {
        int nusers = 1 + int(rng() % 8), nrows = 1 + int(rng() % 6);
        bool flat = rng() % 3 == 0, negatives = rng() % 4 == 0;
        std::vector<Row> rows(static_cast<size_t>(nrows));
        for (Row &r : rows) {
            r.kept = rng() % 3 != 0;
            for (int u = 0; u < nusers; u++) {
                std::string user = "u" + std::to_string(u);
                if (rng() % 5 == 0)
                    continue;  // not in this row
                r.users.push_back(user);
                int nkeys = int(rng() % 4);  // 0: an entry without pairs
                for (int k = 0; k < nkeys; k++) {
                    std::string alias = "k" + std::to_string(rng() % 3);
                    Value v;
                    for (int m = 0; m < kCountMetrics; m++)
                        v.counts[m] = int64_t(rng() % 1000) - (negatives ? 300 : 0);
                    if (flat)
                        v.cost = flat_costs[rng() % 8];
                    else
                        v.cost = std::to_string(int64_t(rng() % 2000) - (negatives ? 800 : 0)) + "." +
                                 std::to_string(rng() % 100);
                    r.pairs[user][alias] = v;  // a repeated alias: the last value
                }
            }
            // JSONB order of the row's users (by length, then bytes): the names here sort alike.
        }
        std::string expect = brute_force(rows);
        size_t probes = 0;
        ASSERT_EQ(with_bounds(rows, SIZE_MAX, &probes), expect) << "run " << run;
        total_probes += probes;
        // A small probe budget: the rest summed in full, still the same pair.
        size_t small = rng() % 3;
        size_t probes_small = 0;
        ASSERT_EQ(with_bounds(rows, small, &probes_small), expect) << "run " << run << " max_probes " << small;
        fallbacks += probes_small == small;
        runs++;
    }
    EXPECT_EQ(runs, 20000u);
    EXPECT_GT(fallbacks, 0u);
    EXPECT_GT(total_probes, 0u);
}

// A user whose second key wins, with ties at the bound: the bound of the other user equals the
// winner's cost, so it is probed, and the tie goes to the smaller pair key.
TEST(KeyBounds, TieAtTheBound)
{
    Value a, b, c;
    a.cost = "5";
    b.cost = "7";
    c.cost = "7.0";
    a.counts[0] = b.counts[0] = c.counts[0] = 1;
    std::vector<Row> rows(2);
    rows[0].kept = true;
    rows[0].users = {"ua", "ub"};
    rows[0].pairs["ua"]["k1"] = a;
    rows[0].pairs["ua"]["k2"] = b;  // ua's second key
    rows[1].kept = true;
    rows[1].users = {"ua", "ub"};
    rows[1].pairs["ub"]["k0"] = c;  // the same cost: "k0 NUL ub" < "k2 NUL ua"
    EXPECT_EQ(with_bounds(rows, SIZE_MAX), brute_force(rows));
    EXPECT_EQ(brute_force(rows).substr(0, 5), std::string("k0|ub"));
}
