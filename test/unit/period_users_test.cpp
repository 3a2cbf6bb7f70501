// core/period_users.hpp against the straightforward computation (a std::map of each user's six
// checked sums, the same add_counts_or_throw): the same sums, the same count of users with
// requests != 0, and the same error at the same entry, whatever the rows' key lists (random
// subsets of a user pool in JSONB key order, repeated rows, rows out of order, duplicates).
// And DashboardBuilder::previous_user_usage() against user_usage() (the documents).
#include "core/dashboard.hpp"
#include "core/error.hpp"
#include "core/number.hpp"
#include "core/ordered_lookup.hpp"
#include "core/period_users.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace ut_period_users_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

struct Entry {
    std::string user;
    int64_t counts[kCountMetrics];
};
using Row = std::vector<Entry>;

// Every entry into both; the first error (message) and where it came, or the final figures.
struct Outcome {
    std::optional<std::string> error;
    size_t entries_done = 0;
    int64_t nonzero = 0;
    std::map<std::string, std::vector<int64_t>> sums;
};

Outcome run_reference(const std::vector<Row> &rows)
{
    Outcome o;
    std::map<std::string, std::vector<int64_t>> sums;
    try {
        for (size_t r = 0; r < rows.size(); r++) {
            FixedLabel where("row " + std::to_string(r));
            for (const Entry &e : rows[r]) {
                auto &s = sums[e.user];
                s.resize(kCountMetrics, 0);
                add_counts_or_throw(s.data(), e.counts, "the dashboard's users", e.user, where);
                o.entries_done++;
            }
        }
    } catch (const Error &err) {
        o.error = std::string(err.what());
    }
    for (const auto &[u, s] : sums)
        o.nonzero += s[kRequests] != 0;
    o.sums = sums;
    return o;
}

Outcome run_period(const std::vector<Row> &rows, bool *hashed = nullptr)
{
    Outcome o;
    PeriodUsers users(std::pmr::get_default_resource());
    std::map<std::string, bool> seen;
    try {
        for (size_t r = 0; r < rows.size(); r++) {
            users.begin_row();
            FixedLabel where("row " + std::to_string(r));
            for (const Entry &e : rows[r]) {
                seen[e.user] = true;
                users.add(e.user, e.counts, "the dashboard's users", where);
                o.entries_done++;
            }
        }
    } catch (const Error &err) {
        o.error = std::string(err.what());
    }
    o.nonzero = users.nonzero_requests();
    for (const auto &[u, b] : seen) {
        const int64_t *s = users.sums_of(u);
        if (s)
            o.sums[u] = std::vector<int64_t>(s, s + kCountMetrics);
    }
    EXPECT_EQ(users.size(), seen.size());
    if (hashed)
        *hashed = users.hashing();
    return o;
}

void expect_same(const std::vector<Row> &rows, bool expect_no_hashing = false)
{
    bool hashed = false;
    Outcome ref = run_reference(rows), got = run_period(rows, &hashed);
    ASSERT_EQ(ref.error, got.error);
    ASSERT_EQ(ref.entries_done, got.entries_done);
    if (!ref.error) {
        ASSERT_EQ(ref.nonzero, got.nonzero);
        ASSERT_EQ(ref.sums, got.sums);
    }
    if (expect_no_hashing) {
        EXPECT_FALSE(hashed);
    }
}

std::string user_name(std::mt19937_64 &rng, int i)
{
    // Mixed lengths, so the JSONB order (length first) differs from byte order.
    std::string s = "u" + std::to_string(i);
    if (rng() % 3 == 0)
        s += std::string(rng() % 5, 'x');
    return s;
}

void sort_jsonb(Row &row)
{
    std::sort(row.begin(), row.end(),
              [](const Entry &a, const Entry &b) { return jsonb_key_compare(a.user, b.user) < 0; });
}

int64_t value(std::mt19937_64 &rng, int mode)
{
    switch (mode) {
    case 0: return int64_t(rng() % 50);                          // small, often 0
    case 1: return int64_t(rng() % 7) - 3;                       // signs: sums may cancel to 0
    default: {                                                    // near bigint's ends
        int64_t big = INT64_MAX / 3 + int64_t(rng() % 1000);
        return rng() % 2 ? big : -big;
    }
    }
}

}  // namespace

TEST(PeriodUsers, RandomRowsMatchTheStraightforwardSums)
{
    std::mt19937_64 rng(12345);
    for (int run = 0; run < 3000; run++) {
        int pool_n = 1 + int(rng() % 40);
        std::vector<std::string> pool;
        for (int i = 0; i < pool_n; i++)
            pool.push_back(user_name(rng, i));
        std::sort(pool.begin(), pool.end());
        pool.erase(std::unique(pool.begin(), pool.end()), pool.end());
        int mode = int(rng() % 8 == 0 ? 2 : rng() % 2);
        int rows_n = 1 + int(rng() % 8);
        int keep = int(rng() % 4);  // how much of the pool a row holds: all, most, half, few
        std::vector<Row> rows;
        for (int r = 0; r < rows_n; r++) {
            Row row;
            if (r > 0 && rng() % 3 == 0) {  // the same users as the row before
                for (const Entry &e : rows.back()) {
                    Entry n{e.user, {}};
                    for (int m = 0; m < kCountMetrics; m++)
                        n.counts[m] = value(rng, mode);
                    row.push_back(n);
                }
            } else {
                for (const std::string &u : pool) {
                    bool in = keep == 0 || (keep == 1 && rng() % 8 != 0) || (keep == 2 && rng() % 2 == 0) ||
                              (keep == 3 && rng() % 6 == 0);
                    if (!in)
                        continue;
                    Entry e{u, {}};
                    for (int m = 0; m < kCountMetrics; m++)
                        e.counts[m] = value(rng, mode);
                    row.push_back(e);
                }
            }
            sort_jsonb(row);
            rows.push_back(row);
        }
        SCOPED_TRACE(run);
        expect_same(rows, true);  // JSONB-ordered rows never hash
    }
}

TEST(PeriodUsers, RowsOutOfOrderOrWithDuplicatesStillExact)
{
    std::mt19937_64 rng(777);
    for (int run = 0; run < 2000; run++) {
        int pool_n = 1 + int(rng() % 20);
        std::vector<Row> rows;
        int rows_n = 1 + int(rng() % 6);
        for (int r = 0; r < rows_n; r++) {
            Row row;
            for (int i = 0; i < pool_n; i++)
                if (rng() % 3 != 0) {
                    Entry e{"k" + std::to_string(i), {}};
                    for (int m = 0; m < kCountMetrics; m++)
                        e.counts[m] = value(rng, int(rng() % 2));
                    row.push_back(e);
                }
            if (rng() % 2)
                sort_jsonb(row);
            if (rng() % 3 == 0)
                std::shuffle(row.begin(), row.end(), rng);
            if (!row.empty() && rng() % 4 == 0)
                row.push_back(row[rng() % row.size()]);  // a key twice
            if (r > 0 && rng() % 4 == 0)
                row = rows.back();  // the same list again (maybe out of order)
            rows.push_back(row);
        }
        SCOPED_TRACE(run);
        expect_same(rows);
    }
}

TEST(PeriodUsers, TheOverflowIsTheSlotPathsError)
{
    Entry a{"a", {INT64_MAX, 0, 0, 0, 0, 0}}, b{"bb", {1, 2, 3, 4, 5, 6}}, a2{"a", {0, 0, 0, 0, 0, 1}},
        a3{"a", {1, 0, 0, 0, 0, 0}};
    std::vector<Row> rows = {{a, b}, {a2, b}, {a3, b}};
    Outcome got = run_period(rows);
    ASSERT_TRUE(got.error.has_value());
    EXPECT_EQ(got.entries_done, 4u);  // the third row's "a"
    EXPECT_NE(got.error->find("the dashboard's users"), std::string::npos) << *got.error;
    EXPECT_NE(got.error->find("\"a\""), std::string::npos) << *got.error;
    expect_same(rows);
    // Requests summing to 0 do not count the user; -0 sums of other counts do not matter.
    Entry p{"p", {5, 1, 1, 1, 1, 1}}, q{"p", {-5, 1, 1, 1, 1, 1}}, r{"r", {0, 9, 9, 9, 9, 9}};
    Outcome z = run_period({{p, r}, {q}});
    EXPECT_EQ(z.nonzero, 0);
    expect_same({{p, r}, {q}});
}

namespace {
EntryValues usage_of(const int64_t counts[kCountMetrics], const char *cost)
{
    EntryValues v{};
    for (int m = 0; m < kCountMetrics; m++)
        v.counts[m] = counts[m];
    v.cost_seen = cost != nullptr && parse_json_number(cost, v.cost);
    return v;
}
}  // namespace

// The builder: the comparison period through previous_user_usage() writes the document
// user_usage() writes (trends' previous values, usersTrend included), or the same error.
TEST(PeriodUsers, BuilderDocumentsMatchUserUsage)
{
    std::mt19937_64 rng(99);
    const char *costs[] = {"0.5", "1.25", "0", "-0.75", "0.0000000001", nullptr};
    for (int run = 0; run < 400; run++) {
        std::vector<std::vector<std::pair<std::string, EntryValues>>> prev_rows, cur_rows;
        int pool_n = 1 + int(rng() % 15);
        auto make_rows = [&](auto &rows, int n) {
            for (int r = 0; r < n; r++) {
                Row row;
                for (int i = 0; i < pool_n; i++)
                    if (rng() % 4 != 0) {
                        Entry e{"user" + std::string(rng() % 3, 'z') + std::to_string(i), {}};
                        for (int m = 0; m < kCountMetrics; m++)
                            e.counts[m] = value(rng, rng() % 10 == 0 ? 2 : int(rng() % 2));
                        row.push_back(e);
                    }
                sort_jsonb(row);
                row.erase(std::unique(row.begin(), row.end(),
                                      [](const Entry &x, const Entry &y) { return x.user == y.user; }),
                          row.end());
                std::vector<std::pair<std::string, EntryValues>> out;
                for (const Entry &e : row)
                    out.emplace_back(e.user, usage_of(e.counts, costs[rng() % 6]));
                rows.push_back(out);
            }
        };
        make_rows(prev_rows, int(rng() % 4));
        make_rows(cur_rows, 1 + int(rng() % 2));
        auto build = [&](bool fast) -> std::string {
            try {
                DashboardBuilder b(std::pmr::get_default_resource(), DashboardOptions{});
                int day = 0;
                for (const auto &row : prev_rows) {
                    b.begin_day(day, "2025-01-0" + std::to_string(day + 1), false);
                    day++;
                    uint32_t at = 0;
                    for (const auto &[u, v] : row) {
                        if (fast)
                            b.previous_user_usage(u, v);
                        else
                            b.user_usage(u, v, at++);
                    }
                }
                for (const auto &row : cur_rows) {
                    b.begin_day(day, "2025-01-0" + std::to_string(day + 1), true);
                    day++;
                    uint32_t at = 0;
                    for (const auto &[u, v] : row)
                        b.user_usage(u, v, at++);
                }
                return b.document("2025-01-05", "2025-01-06");
            } catch (const Error &e) {
                return std::string("error: ") + e.what();
            }
        };
        SCOPED_TRACE(run);
        ASSERT_EQ(build(false), build(true));
    }
}

// A row out of order whose keys partly sit at the previous row's positions: a key taken by
// position must still be checked against the row's previous key, or the merge cursor moves back
// and new keys are placed out of order (a user would then get two entries).
TEST(PeriodUsers, PositionalHitsInARowOutOfOrder)
{
    auto e = [](const char *u, int64_t r) { return Entry{u, {r, 1, 1, 1, 1, 1}}; };
    std::vector<Row> rows = {{e("a", 1), e("b", 1), e("c", 1), e("d", 1)},
                             {e("f", 1), e("b", 1), e("e", 1)},
                             {e("e", 1), e("f", 1)},
                             {e("a", 1), e("b", 1), e("c", 1), e("d", 1), e("e", -2), e("f", 1)}};
    expect_same(rows);
    Outcome got = run_period(rows);
    EXPECT_EQ(got.sums.size(), 6u);
    EXPECT_EQ(got.nonzero, 5);  // e: 1 + 1 - 2
}

}  // namespace ut_period_users_test
