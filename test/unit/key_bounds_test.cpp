// The top API key from per-user bounds (core/key_bounds.hpp) against brute force: every pair
// summed over every row, then the first by cost (cost descending, then "alias NUL user" bytes).
#include "core/aggregator.hpp"
#include "core/key_bounds.hpp"
#include "core/metrics.hpp"
#include "core/number.hpp"
#include "random_rounds.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace ut_key_bounds_test {  // one per test file: the unity build (CMakeLists.txt)

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

// The reference's winner: the head of the full sort (cost descending, then key in byte order),
// not the document's own single-pass pick.
const Slot *first_by_cost(const KeyAggregator &agg)
{
    std::vector<const Slot *> all = agg.sorted();
    return all.empty() ? nullptr : all.front();
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
// index_mode: how the bounds are handed in: 0 add_bound (by name, the position a hint), 1
// add_bound_at with each user's own index (the dashboard's users slot), 2 add_bound_at with
// another numbering of the users (distinct, sparse, in no order: an index names one user).
std::string with_bounds(const std::vector<Row> &rows, size_t max_probes, size_t *probes = nullptr,
                        size_t first_batch = 1, size_t *rounds = nullptr, bool *decided_out = nullptr,
                        int index_mode = 0, std::mt19937_64 *rng = nullptr, bool *exact_path = nullptr)
{
    std::pmr::monotonic_buffer_resource mr;
    KeyAggregator sums(&mr);
    KeyBounds bounds(&mr);
    std::vector<uint32_t> numbering(64);
    for (uint32_t i = 0; i < numbering.size(); i++)
        numbering[i] = 3 * i + 1;
    if (index_mode == 2)
        std::shuffle(numbering.begin(), numbering.end(), *rng);
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
            if (index_mode == 0)
                bounds.add_bound(user, cost, position++);
            else if (index_mode == 1)
                bounds.add_bound_at(uint32_t(std::stoul(user.substr(1))), user, cost);
            else
                bounds.add_bound_at(numbering[std::stoul(user.substr(1))], user, cost);
        }
    }
    for (size_t i = 0; i < sums.slots().size(); i++) {
        std::string_view both = sums.slots()[i].key_view();
        bounds.add_walked_pair(both.substr(both.find('\0') + 1), sums.slots()[i].totals.cost, uint32_t(i));
    }
    // One read of the rollup rows per round (pass 2, 3 of pg/dashboard_top_key.cpp): every
    // candidate's pairs summed, then the best exact cost among them.
    size_t reads = 0, reads_after_a_pair = 0;
    bool seen_pair = false;
    bool decided = bounds.select(first_batch, max_probes, [&](const auto &candidates, DecimalSum &best) {
        reads++;
        reads_after_a_pair += seen_pair;
        std::vector<std::vector<std::string>> touched(candidates.size());
        for (const Row &r : rows) {
            if (!r.kept)
                continue;
            for (size_t c = 0; c < candidates.size(); c++) {
                auto it = r.pairs.find(std::string(candidates[c].user));
                if (it == r.pairs.end())
                    continue;
                for (const auto &[alias, v] : it->second) {
                    add_to(sums, pair_key(alias, it->first), v);
                    touched[c].push_back(alias);
                }
            }
        }
        bool any = false;
        auto consider = [&](const Slot &s) {
            if (!any || s.totals.cost.compare(best) > 0)
                best = s.totals.cost;
            any = true;
        };
        for (size_t c = 0; c < candidates.size(); c++) {
            for (size_t i = 0; i < candidates[c].n_walked; i++)
                consider(sums.slots()[candidates[c].walked[i].second]);
            for (const std::string &alias : touched[c]) {
                std::string k = pair_key(alias, std::string(candidates[c].user));
                consider(*sums.find(k.data(), k.size()));
            }
        }
        seen_pair = seen_pair || any;
        return any;
    });
    EXPECT_EQ(reads, bounds.rounds());
    EXPECT_LE(reads_after_a_pair, 1u);  // once L is known, one more read takes every user that can reach it
    if (!decided)
        for (const Row &r : rows)
            if (r.kept)
                for (const auto &[user, aliases] : r.pairs)
                    if (!bounds.probed(user))
                        for (const auto &[alias, v] : aliases)
                            add_to(sums, pair_key(alias, user), v);
    if (probes)
        *probes = bounds.probes();
    if (rounds)
        *rounds = bounds.rounds();
    if (decided_out)
        *decided_out = decided;
    if (exact_path)
        *exact_path = bounds.exact_path();
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

// add_column() against add() of each value (add_unknown() for a negative one): the same fits()
// on random columns of small values, values near 2^63, and a negative value anywhere.
TEST(KeyBounds, MagnitudeColumn)
{
    std::mt19937_64 rng(17);
    size_t fit = 0, not_fit = 0;
    for (int run = 0; run < 20000; run++) {
        const uint32_t n = uint32_t(rng() % 40);
        const int kind = int(rng() % 4);
        std::vector<int64_t> v(n);
        for (int64_t &x : v)
            x = kind == 0 ? int64_t(rng() % 1000)
              : kind == 1 ? int64_t(rng() >> 1) >> (rng() % 64)
              : kind == 2 ? INT64_MAX / int64_t(1 + n) - int64_t(rng() % 3)
                          : int64_t(rng() % 100) - 3;
        KeyMagnitude by_column, by_value;
        const int64_t start = int64_t(rng() >> (1 + rng() % 63));
        for (KeyMagnitude *m : {&by_column, &by_value})
            m->add((unsigned __int128)(start));
        by_column.add_column(v.data(), n);
        bool negative = false;
        unsigned __int128 sum = 0;
        for (int64_t x : v) {
            negative = negative || x < 0;
            sum += (unsigned __int128)(x < 0 ? 0 : x);
        }
        if (negative)
            by_value.add_unknown();
        else
            by_value.add(sum);
        ASSERT_EQ(by_column.fits(), by_value.fits()) << "run " << run;
        (by_column.fits() ? fit : not_fit)++;
    }
    EXPECT_GT(fit, 1000u);
    EXPECT_GT(not_fit, 1000u);
}

// Randomized: flat costs (ties), negative costs and counts, users without pairs, day rows mixed
// in, users whose second key wins; the winner and its sums equal brute force's.
TEST(KeyBounds, RandomAgainstBruteForce)
{
    std::mt19937_64 rng(20261127);
    const char *flat_costs[] = {"1.00", "1.00", "0.5", "2", "-0.25", "0", "1.000", "3.14"};
    size_t runs = 0, fallbacks = 0, total_probes = 0, second_reads = 0;
    for (int run = 0; run < random_rounds(20000); run++) {
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
        size_t probes = 0, rounds = 0, first = 1 + rng() % 3;
        ASSERT_EQ(with_bounds(rows, SIZE_MAX, &probes, first, &rounds), expect) << "run " << run << " first " << first;
        total_probes += probes;
        second_reads += rounds >= 2;
        // The bounds handed in by the users' indexes (add_bound_at), in two numberings: the
        // same bounds, so the same probes in the same rounds and the same pair.
        for (int mode : {1, 2}) {
            size_t probes_at = 0, rounds_at = 0;
            ASSERT_EQ(with_bounds(rows, SIZE_MAX, &probes_at, first, &rounds_at, nullptr, mode, &rng), expect)
                << "run " << run << " index mode " << mode;
            ASSERT_EQ(probes_at, probes) << "run " << run << " index mode " << mode;
            ASSERT_EQ(rounds_at, rounds) << "run " << run << " index mode " << mode;
        }
        // A small probe budget: the rest summed in full, still the same pair.
        size_t small = rng() % 3;
        size_t probes_small = 0;
        bool decided = true;
        ASSERT_EQ(with_bounds(rows, small, &probes_small, 1 + rng() % 2, nullptr, &decided), expect)
            << "run " << run << " max_probes " << small;
        ASSERT_LE(probes_small, small);
        fallbacks += !decided;
        runs++;
    }
    EXPECT_EQ(runs, size_t(random_rounds(20000)));
    EXPECT_GT(fallbacks, 0u);
    EXPECT_GT(total_probes, 0u);
    EXPECT_GT(second_reads, 0u);  // the first round did not settle it: a second read
}

// The bounds' 128-bit path at one scale, raised as costs of more digits come (every bound with
// it), and its exact path (DecimalSums) when a value cannot be held: scales past 36, sums past
// 128 bits, costs of many digits. Same pair as brute force, same probes and rounds in every
// numbering; both paths met.
TEST(KeyBounds, ScalesAndTheExactPath)
{
    std::mt19937_64 rng(20261128);
    size_t exact_runs = 0, fast_runs = 0;
    for (int run = 0; run < random_rounds(2000); run++) {
        int nusers = 1 + int(rng() % 6), nrows = 1 + int(rng() % 5);
        const int kind = int(rng() % 4);  // 0 small scales, 1 up to 36, 2 past 36, 3 near 2^127
        std::vector<Row> rows(static_cast<size_t>(nrows));
        for (Row &r : rows) {
            r.kept = rng() % 4 != 0;
            for (int u = 0; u < nusers; u++) {
                std::string user = "u" + std::to_string(u);
                if (rng() % 5 == 0)
                    continue;
                r.users.push_back(user);
                int nkeys = int(rng() % 3);
                for (int k = 0; k < nkeys; k++) {
                    Value v;
                    for (int m = 0; m < kCountMetrics; m++)
                        v.counts[m] = int64_t(rng() % 100);
                    std::string digits = std::to_string(rng() % 100000);
                    int frac = kind == 0 ? int(rng() % 4) : kind == 1 ? int(rng() % 37) : kind == 2 ? 30 + int(rng() % 12) : 0;
                    if (kind == 3)
                        digits = "1" + std::string(37, char('0' + rng() % 10)) + std::to_string(rng() % 10);
                    if (frac >= int(digits.size()))
                        digits = std::string(size_t(frac) - digits.size() + 1, '0') + digits;
                    v.cost = (rng() % 5 == 0 ? "-" : "") + digits.substr(0, digits.size() - size_t(frac)) +
                             (frac ? "." + digits.substr(digits.size() - size_t(frac)) : "");
                    r.pairs[user]["k" + std::to_string(rng() % 3)] = v;
                }
            }
        }
        std::string expect = brute_force(rows);
        size_t probes = 0, rounds = 0, first = 1 + rng() % 3;
        bool exact = false;
        ASSERT_EQ(with_bounds(rows, SIZE_MAX, &probes, first, &rounds, nullptr, 0, nullptr, &exact), expect)
            << "run " << run;
        for (int mode : {1, 2}) {
            size_t probes_at = 0, rounds_at = 0;
            bool exact_at = false;
            ASSERT_EQ(with_bounds(rows, SIZE_MAX, &probes_at, first, &rounds_at, nullptr, mode, &rng, &exact_at), expect)
                << "run " << run << " index mode " << mode;
            ASSERT_EQ(probes_at, probes) << "run " << run << " index mode " << mode;
            ASSERT_EQ(rounds_at, rounds) << "run " << run << " index mode " << mode;
            ASSERT_EQ(exact_at, exact) << "run " << run << " index mode " << mode;
        }
        (exact ? exact_runs : fast_runs)++;
    }
    EXPECT_GT(exact_runs, size_t(random_rounds(100)));
    EXPECT_GT(fast_runs, size_t(random_rounds(100)));
}

// add_bound_columns() (by column: unchecked adds while no bound can pass 2^126, checked ones,
// scales raised, the exact path) against add_bound_at() of each entry's Decimal: the users come
// out of select() in the same order (it orders them by their exact bounds), on rows of random
// scales (0..36) and keycosts up to both ends of int64, entries without a cost among them.
TEST(KeyBounds, ColumnsAreTheEntriesBounds)
{
    std::mt19937_64 rng(1717);
    size_t exact_runs = 0;
    for (int run = 0; run < 3000; run++) {
        std::pmr::monotonic_buffer_resource mr;
        KeyBounds by_columns(&mr), by_entries(&mr);
        const uint32_t users = 1 + uint32_t(rng() % 12);
        std::vector<std::string> names(users);
        for (uint32_t u = 0; u < users; u++)
            names[u] = "user-" + std::to_string(u);
        const int rows = 1 + int(rng() % 6);
        const bool extreme = rng() % 3 == 0;
        for (int r = 0; r < rows; r++) {
            const int scale = rng() % 5 == 0 ? int(rng() % 37) : int(rng() % 3) * 2;
            std::vector<uint32_t> index;
            std::vector<std::string_view> row_names;
            std::vector<int64_t> keycost;
            std::vector<uint8_t> dscale;
            for (uint32_t u = 0; u < users; u++) {
                if (rng() % 4 == 0)
                    continue;
                index.push_back(u);
                row_names.push_back(names[u]);
                int64_t m = extreme ? (rng() % 2 ? INT64_MAX - int64_t(rng() % 5) : INT64_MIN + int64_t(rng() % 5))
                                    : int64_t(rng() % 100000) - 20000;
                keycost.push_back(m);
                dscale.push_back(rng() % 6 == 0 ? kColumnNoCost : uint8_t(scale));
            }
            ASSERT_TRUE(by_columns.add_bound_columns(index.data(), row_names.data(), keycost.data(), dscale.data(), scale,
                                                     uint32_t(index.size())));
            for (size_t i = 0; i < index.size(); i++) {
                Decimal d;
                const bool none = dscale[i] == kColumnNoCost;
                d.mantissa = none ? 0 : keycost[i];
                d.scale = none ? 0 : scale;
                d.dscale = none ? 0 : dscale[i];
                by_entries.add_bound_at(index[i], row_names[i], d);
            }
        }
        ASSERT_EQ(by_columns.users(), by_entries.users());
        std::vector<std::string> order_columns, order_entries;
        auto order = [](KeyBounds &b, std::vector<std::string> &out) {
            b.select(1, SIZE_MAX, [&](const auto &cs, DecimalSum &) {
                for (const KeyBounds::Candidate &c : cs)
                    out.emplace_back(c.user);
                return false;  // no pair: the next user, one a round, by bound descending
            });
        };
        order(by_columns, order_columns);
        order(by_entries, order_entries);
        ASSERT_EQ(order_columns, order_entries) << "run " << run;
        exact_runs += by_columns.exact_path();
    }
    EXPECT_GT(exact_runs, 10u);
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

}  // namespace ut_key_bounds_test
