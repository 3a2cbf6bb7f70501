// The coordinator's merge of typed shard rows (core/shard_rows_merge): the one-node ORDER BY of
// each read (expected orders written out by hand from the SQL ORDER BY clauses), the trend's
// dates added as sum(...) would (expected sums worked out by hand), NULLs, overflow, and a
// random-order check against std::sort on parsed values.
#include "core/error.hpp"
#include "core/shard_rows.hpp"
#include "core/shard_rows_merge.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <tuple>

namespace ut_shard_rows_merge_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

using C = ColumnKind;

// user breakdown's 13 columns; only user_id (0) and total_cost (8) matter to the order.
const std::vector<C> kUserCols = {C::text, C::text, C::text, C::text, C::int8, C::int8, C::int8,
                                  C::int8, C::numeric, C::int8, C::int8, C::int4, C::date};

std::string user_part(const std::vector<std::pair<std::string, std::string>> &rows)
{
    RowsWriter w(kUserCols);
    for (auto &[user, cost] : rows) {
        w.text(user);
        for (int c = 1; c < 4; c++)
            w.null();
        for (int c = 4; c < 8; c++)
            w.int8(1);
        w.numeric(cost);
        w.int8(1), w.int8(0), w.int4(1), w.int4(9000);
        w.end_row();
    }
    return w.finish();
}

std::vector<std::string> column_text(const MergedRows &m, int col)
{
    std::vector<std::string> out;
    for (size_t r = 0; r < m.rows(); r++)
        out.push_back(m.at(r, col).null ? "NULL" : std::string(m.at(r, col).s));
    return out;
}

}  // namespace

TEST(ShardRowsMerge, UserOrderIsCostDescendingThenUserBytewise)
{
    // 10 > 9.5 by value (not by text); equal costs by user_id in byte order ("B" < "a").
    std::string p1 = user_part({{"a", "9.5"}, {"B", "2.00"}}), p2 = user_part({{"c", "10"}, {"a2", "2"}, {"A", "2.0"}});
    MergedRows m(RowsRead::user, kUserCols);
    m.add_part(p1.data(), p1.size(), 1);
    m.add_part(p2.data(), p2.size(), 2);
    m.finish();
    EXPECT_EQ(column_text(m, 0), (std::vector<std::string>{"c", "a", "A", "B", "a2"}));
    EXPECT_EQ(column_text(m, 8), (std::vector<std::string>{"10", "9.5", "2.0", "2.00", "2"}));
}

TEST(ShardRowsMerge, UserModelAndApiKeyOrders)
{
    std::vector<C> um = {C::text, C::text, C::text, C::int8, C::int8, C::int8, C::int8, C::numeric, C::int8, C::int8, C::int4};
    auto part = [&](std::vector<std::tuple<std::string, std::string, std::string>> rows) {
        RowsWriter w(um);
        for (auto &[a, b, cost] : rows) {
            w.text(a), w.text(b), w.null();
            for (int c = 3; c < 7; c++)
                w.int8(0);
            w.numeric(cost), w.int8(0), w.int8(0), w.int4(1);
            w.end_row();
        }
        return w.finish();
    };
    // user x model: user_id, total_cost DESC, model.
    std::string a = part({{"u2", "m1", "1"}, {"u1", "m9", "0.5"}}), b = part({{"u1", "m2", "0.5"}, {"u1", "m0", "3"}});
    MergedRows m(RowsRead::user_model, um);
    m.add_part(a.data(), a.size(), 1);
    m.add_part(b.data(), b.size(), 2);
    m.finish();
    EXPECT_EQ(column_text(m, 0), (std::vector<std::string>{"u1", "u1", "u1", "u2"}));
    EXPECT_EQ(column_text(m, 1), (std::vector<std::string>{"m0", "m2", "m9", "m1"}));
    // API keys (same column kinds up to here; key_alias 0, user_id 2, total_cost 7):
    // total_cost DESC, key_alias, user_id.
    std::vector<C> ak = {C::text, C::text, C::text, C::int8, C::int8, C::int8, C::int8, C::numeric, C::int8, C::int8, C::int4, C::date};
    auto kpart = [&](std::vector<std::tuple<std::string, std::string, std::string>> rows) {
        RowsWriter w(ak);
        for (auto &[alias, user, cost] : rows) {
            w.text(alias), w.null(), w.text(user);
            for (int c = 3; c < 7; c++)
                w.int8(0);
            w.numeric(cost), w.int8(0), w.int8(0), w.int4(1), w.int4(1);
            w.end_row();
        }
        return w.finish();
    };
    std::string k1 = kpart({{"k", "u2", "1"}, {"j", "u9", "1"}}), k2 = kpart({{"k", "u1", "1.000"}, {"z", "u0", "-1"}});
    MergedRows keys(RowsRead::api_key, ak);
    keys.add_part(k1.data(), k1.size(), 1);
    keys.add_part(k2.data(), k2.size(), 2);
    keys.finish();
    EXPECT_EQ(column_text(keys, 0), (std::vector<std::string>{"j", "k", "k", "z"}));
    EXPECT_EQ(column_text(keys, 2), (std::vector<std::string>{"u9", "u1", "u2", "u0"}));
}

TEST(ShardRowsMerge, TrendAddsTheRowsOfADate)
{
    std::vector<C> cols = {C::date, C::int4, C::int8, C::int8, C::int8, C::int8, C::numeric};
    auto row = [](RowsWriter &w, int32_t day, int32_t users, int64_t req, const char *cost) {
        w.int4(day), w.int4(users), w.int8(req), w.int8(req * 10), w.null(), w.int8(1);
        if (cost)
            w.numeric(cost);
        else
            w.null();
        w.end_row();
    };
    RowsWriter w1(cols), w2(cols), w3(cols);
    row(w1, 100, 2, 5, "0.0246"), row(w1, 101, 1, 1, nullptr);
    row(w2, 101, 3, 2, nullptr), row(w2, 99, 1, 1, "1.50");
    row(w3, 100, 4, 7, "0.45"), row(w3, 99, 0, 0, "2");
    std::string p1 = w1.finish(), p2 = w2.finish(), p3 = w3.finish();
    MergedRows m(RowsRead::trend, cols);
    m.add_part(p1.data(), p1.size(), 1);
    m.add_part(p2.data(), p2.size(), 2);
    m.add_part(p3.data(), p3.size(), 3);
    m.finish();
    ASSERT_EQ(m.rows(), 3u);
    EXPECT_EQ(m.at(0, 0).i, 99);
    EXPECT_EQ(m.at(0, 1).i, 1);
    EXPECT_EQ(m.at(0, 2).i, 1);
    EXPECT_EQ(m.at(0, 3).i, 10);
    EXPECT_TRUE(m.at(0, 4).null);  // all NULL stays NULL
    EXPECT_EQ(m.at(0, 5).i, 2);
    EXPECT_EQ(m.at(0, 6).s, "3.50");  // 1.50 + 2
    EXPECT_EQ(m.at(1, 0).i, 100);
    EXPECT_EQ(m.at(1, 1).i, 6);
    EXPECT_EQ(m.at(1, 3).i, 120);
    EXPECT_EQ(m.at(1, 6).s, "0.4746");  // 0.0246 + 0.45
    EXPECT_EQ(m.at(2, 0).i, 101);
    EXPECT_EQ(m.at(2, 1).i, 4);
    EXPECT_TRUE(m.at(2, 6).null);
}

TEST(ShardRowsMerge, TrendSumOutsideItsTypeIs22003)
{
    std::vector<C> cols = {C::date, C::int4, C::int8, C::int8, C::int8, C::int8, C::numeric};
    auto part = [&](int32_t users, int64_t req) {
        RowsWriter w(cols);
        w.int4(1), w.int4(users), w.int8(req), w.int8(0), w.int8(0), w.int8(0), w.numeric("0"), w.end_row();
        return w.finish();
    };
    for (auto [a, b] : {std::pair{part(INT32_MAX, 0), part(1, 0)}, std::pair{part(0, INT64_MAX), part(0, 1)}}) {
        MergedRows m(RowsRead::trend, cols);
        m.add_part(a.data(), a.size(), 1);
        m.add_part(b.data(), b.size(), 2);
        try {
            m.finish();
            FAIL() << "an overflowing sum was accepted";
        } catch (const Error &e) {
            EXPECT_STREQ(e.sqlstate, "22003");
        }
    }
}

TEST(ShardRowsMerge, OtherColumnsOrMalformedPartsAre22P03)
{
    std::string p = user_part({{"a", "1"}});
    std::vector<C> other = kUserCols;
    other[4] = C::int4;
    MergedRows m(RowsRead::user, other);
    try {
        m.add_part(p.data(), p.size(), 2);
        FAIL();
    } catch (const Error &e) {
        EXPECT_STREQ(e.sqlstate, "22P03");
    }
    EXPECT_THROW(MergedRows(RowsRead::user, {C::text}), Error);  // fewer columns than the order needs
    std::string bad = user_part({{"a", "1e"}});
    MergedRows n(RowsRead::user, kUserCols);
    EXPECT_THROW(n.add_part(bad.data(), bad.size(), 1), Error);
}

TEST(ShardRowsMerge, RandomUsersMatchASortOnParsedValues)
{
    std::mt19937 rng(7);
    std::vector<std::pair<std::string, std::string>> all;
    std::vector<std::string> parts(3);
    for (int k = 0; k < 3; k++) {
        std::vector<std::pair<std::string, std::string>> rows;
        for (int i = 0; i < 200; i++) {
            long cents = long(rng() % 2000);
            std::string cost = std::to_string(cents / 100) + "." + std::to_string(cents / 10 % 10) + std::to_string(cents % 10);
            std::string user = "u" + std::to_string(k) + "_" + std::to_string(rng() % 100000);
            rows.push_back({user, cost});
        }
        all.insert(all.end(), rows.begin(), rows.end());
        parts[k] = user_part(rows);
    }
    MergedRows m(RowsRead::user, kUserCols);
    for (int k = 0; k < 3; k++)
        m.add_part(parts[k].data(), parts[k].size(), k + 1);
    m.finish();
    // Reference: costs as integer cents, descending; then user_id bytewise; stable.
    auto cents = [](const std::string &c) { return std::stol(c.substr(0, c.find('.'))) * 100 + std::stol(c.substr(c.find('.') + 1)); };
    std::stable_sort(all.begin(), all.end(), [&](auto &x, auto &y) {
        return cents(x.second) != cents(y.second) ? cents(x.second) > cents(y.second) : x.first < y.first;
    });
    ASSERT_EQ(m.rows(), all.size());
    for (size_t r = 0; r < all.size(); r++) {
        EXPECT_EQ(m.at(r, 0).s, all[r].first) << r;
        EXPECT_EQ(m.at(r, 8).s, all[r].second) << r;
    }
}

}  // namespace ut_shard_rows_merge_test
