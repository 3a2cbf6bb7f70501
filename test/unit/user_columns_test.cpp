// core/user_columns.hpp: a rollup row's users added column by column (DashboardBuilder's
// user_slot_index / user_usage_columns / identity_columns / previous_user_id /
// previous_usage_columns, KeyBounds::add_bound_columns, KeyMagnitude::add_column) against the
// entry walk of the same packs (round 14's path: pack_entry_values per user into
// user_usage_slot, identity_read_before / identity_of, previous_user_usage, add_bound_at, and
// KeyMagnitude::add per user). Random packs (core/user_pack.hpp's writer) of random subsets of a
// user pool in JSONB key order, costs at mixed scales and display scales, missing costs and
// identities, bounds; counts near bigint's ends so that some users' sums, some totals or both
// pass it: the same document (every sum, count, identity), the same top key candidates in the
// same order, or the same error (SQLSTATE, message, detail) at the same entry.
#include "core/dashboard.hpp"
#include "core/error.hpp"
#include "core/key_bounds.hpp"
#include "core/ordered_lookup.hpp"
#include "core/user_columns.hpp"
#include "core/user_pack.hpp"
#include "random_rounds.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <climits>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace ut_user_columns_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

struct Pack {
    bool current;
    std::string bytes;
};

// A decoded pack as round 14's reader holds it.
struct Decoded {
    UserPackView view;
    std::vector<std::vector<int64_t>> arrays;
    const int64_t *ptrs[kUserPackArrays] = {};
    std::vector<std::string_view> names, records;
    explicit Decoded(const std::string &bytes) : arrays(kUserPackArrays)
    {
        EXPECT_TRUE(view.parse(bytes.data(), bytes.size()));
        for (int a = 0; a < kUserPackArrays; a++) {
            arrays[a].resize(view.users());
            EXPECT_TRUE(view.decode(a, arrays[a].data()));
            ptrs[a] = arrays[a].data();
        }
        UserPackView::Cursor c(view);
        for (uint32_t i = 0; i < view.users(); i++) {
            std::string_view n, r;
            c.next(n, r);
            names.push_back(n);
            records.push_back(r);
        }
    }
};

struct Outcome {
    std::optional<std::string> error;  // sqlstate | message | detail
    std::string document;
    std::vector<std::string> candidates;  // the top key's users in probing order
    size_t bound_users = 0;
    bool magnitude_fits = false;
    bool operator==(const Outcome &o) const
    {
        return error == o.error && document == o.document && candidates == o.candidates &&
               bound_users == o.bound_users && magnitude_fits == o.magnitude_fits;
    }
};

std::string error_text(const Error &e) { return std::string(e.sqlstate) + " | " + e.message + " | " + e.detail; }

void finish(DashboardBuilder &b, KeyBounds &bounds, KeyMagnitude &mag, Outcome &out)
{
    out.document = b.document("2025-01-01", "2025-12-31");
    out.bound_users = bounds.users();
    out.magnitude_fits = mag.fits();
    bounds.select(bounds.users(), SIZE_MAX, [&](const auto &cs, DecimalSum &) {
        for (const KeyBounds::Candidate &c : cs)
            out.candidates.emplace_back(c.user);
        return false;
    });
}

// Round 14's entry walk of the packs.
Outcome by_entries(const std::vector<Pack> &packs)
{
    Outcome out;
    DashboardBuilder b(std::pmr::get_default_resource(), DashboardOptions{});
    KeyBounds bounds(std::pmr::get_default_resource());
    KeyMagnitude mag;
    try {
        int row = 0;
        for (const Pack &p : packs) {
            Decoded d(p.bytes);
            b.begin_rollup("2025-0" + std::to_string(1 + row++ % 9) + "-01", p.current);
            EntryValues v{}, ident{};
            Decimal keycost;
            for (uint32_t i = 0; i < d.view.users(); i++) {
                pack_entry_values(d.view, d.ptrs, i, v);
                if (!p.current) {
                    b.previous_user_usage(d.names[i], v);
                    continue;
                }
                const Slot &slot = b.user_usage_slot(d.names[i], v, i);
                if (d.view.has_bounds()) {
                    pack_keycost(d.view, d.ptrs, i, keycost);
                    bounds.add_bound_at(b.user_index(slot), d.names[i], keycost);
                    int64_t m = d.arrays[kPackKeyMag][i];
                    if (m >= 0)
                        mag.add((unsigned __int128)(m));
                    else
                        mag.add_unknown();
                }
                if (b.identity_read_before(slot, d.records[i]))
                    continue;
                PackIdentity id = UserPackView::identity(d.records[i]);
                ident.username = id.username;
                ident.email = id.email;
                ident.role = id.role;
                b.identity_of(slot, ident, &d.records[i]);
            }
        }
        finish(b, bounds, mag, out);
    } catch (const Error &e) {
        out.error = error_text(e);
    }
    return out;
}

// This round's column path. runs: every row may start a run (round 17's ColumnRun: rows with the
// same users summed entry-wise first), else none does.
Outcome by_columns(const std::vector<Pack> &packs, bool runs = false)
{
    Outcome out;
    DashboardBuilder b(std::pmr::get_default_resource(), DashboardOptions{});
    KeyBounds bounds(std::pmr::get_default_resource());
    KeyMagnitude mag;
    try {
        int row = 0;
        for (const Pack &p : packs) {
            Decoded d(p.bytes);
            b.begin_rollup("2025-0" + std::to_string(1 + row++ % 9) + "-01", p.current);
            const UserColumns c = pack_columns(d.view, d.ptrs);
            std::vector<uint32_t> idx(c.n);
            if (!p.current) {
                for (uint32_t i = 0; i < c.n; i++)
                    idx[i] = b.previous_user_id(d.names[i]);
                b.previous_usage_columns(idx.data(), c, runs);
                continue;
            }
            for (uint32_t i = 0; i < c.n; i++)
                idx[i] = b.user_slot_index(d.names[i]);
            b.user_usage_columns(idx.data(), c, runs);
            if (d.view.has_bounds()) {
                bounds.add_bound_columns(idx.data(), d.names.data(), d.ptrs[kPackKeyCost], d.view.keycost_dscales(),
                                         d.view.keycost_scale(), c.n);
                mag.add_column(d.ptrs[kPackKeyMag], c.n);
            }
            b.identity_columns(idx.data(), d.records.data(), c.n);
        }
        finish(b, bounds, mag, out);
    } catch (const Error &e) {
        out.error = error_text(e);
    }
    return out;
}

// JSONB key order: shorter first, then bytewise.
bool key_less(const std::string &a, const std::string &b)
{
    return a.size() != b.size() ? a.size() < b.size() : a < b;
}

struct Gen {
    std::mt19937_64 rng;
    std::vector<std::string> pool;
    int edge_percent;  // how often a count is near bigint's ends
    explicit Gen(uint64_t seed, int edges) : rng(seed), edge_percent(edges)
    {
        int n = 2 + int(rng() % 40);
        for (int i = 0; i < n; i++)
            pool.push_back("u" + std::to_string(rng() % 1000));
        std::sort(pool.begin(), pool.end(), key_less);
        pool.erase(std::unique(pool.begin(), pool.end()), pool.end());
    }
    int64_t count()
    {
        if (int(rng() % 100) < edge_percent) {
            int64_t big = INT64_MAX / int64_t(2 + rng() % 3) + int64_t(rng() % 1000);
            return rng() % 2 ? big : -big;
        }
        switch (rng() % 8) {
        case 0: return 0;
        case 1: return -int64_t(rng() % 100);
        case 2: return int64_t(rng() % 100000000);
        default: return int64_t(rng() % 1000);
        }
    }
    Decimal cost(int scale)
    {
        Decimal d;
        d.scale = scale;
        d.mantissa = int64_t(rng() % 2000000) - (rng() % 5 == 0 ? 1000000 : 0);
        if (rng() % 20 == 0)
            d.mantissa *= 1000000000000LL;  // large costs
        d.dscale = int(rng() % 4 == 0 ? rng() % 40 : scale);
        return d;
    }
    // One row's pack: a subset of the pool (or the whole pool) in key order.
    std::string pack(bool bounds)
    {
        for (;;) {
            UserPackWriter w(std::pmr::get_default_resource());
            const int scales[] = {0, 2, 4, 8, 10, 12};
            const int row_scale = scales[rng() % 6];
            bool whole = rng() % 3 == 0;
            for (const std::string &u : pool) {
                if (!whole && rng() % 3 == 0)
                    continue;
                EntryValues v{};
                for (int m = 0; m < kCountMetrics; m++)
                    v.counts[m] = count();
                v.cost_seen = rng() % 6 != 0;
                if (v.cost_seen)
                    v.cost = cost(int(rng() % 2) ? row_scale : scales[rng() % 6]);
                Decimal kc = cost(row_scale);
                std::string un = rng() % 4 ? "name" + std::to_string(rng() % 3) : "";
                std::string em = rng() % 3 ? "e" + std::to_string(rng() % 2) + "@x" : "";
                std::string ro = rng() % 2 ? "user" : "";
                int64_t keymag = rng() % 50 == 0 ? -1 : int64_t(rng() % 1000000);
                w.add(u, v, bounds ? &kc : nullptr, keymag, PackIdentity{un, em, ro});
            }
            std::string out;
            if (w.finish(out))
                return out;
        }
    }
};

std::vector<Pack> random_packs(Gen &g)
{
    std::vector<Pack> packs;
    int prev = int(g.rng() % 4), cur = 1 + int(g.rng() % 5);
    for (int i = 0; i < prev; i++) {
        packs.push_back(Pack{false, g.pack(false)});
        if (g.rng() % 3 == 0)  // the comparison period's months and blocks: the same users
            packs.push_back(packs.back());
    }
    const bool bounds = g.rng() % 8 != 0;
    for (int i = 0; i < cur; i++) {
        packs.push_back(Pack{true, g.pack(bounds)});
        if (g.rng() % 4 == 0)  // a row repeated (a month and its block: the same users)
            packs.push_back(packs.back());
    }
    return packs;
}

}  // namespace

TEST(UserColumns, SameAsTheEntryWalkOnRandomPacks)
{
    int errors = 0, documents = 0;
    for (uint64_t seed = 1; seed <= uint64_t(random_rounds(1500)); seed++) {
        Gen g(seed, seed % 3 == 0 ? int(seed % 7) : 0);
        std::vector<Pack> packs = random_packs(g);
        Outcome a = by_entries(packs), b = by_columns(packs), r = by_columns(packs, true);
        ASSERT_TRUE(a == b) << "seed " << seed << "\nentries: " << a.error.value_or(a.document)
                            << "\ncolumns: " << b.error.value_or(b.document);
        ASSERT_TRUE(a == r) << "seed " << seed << "\nentries: " << a.error.value_or(a.document)
                            << "\ncolumns in runs: " << r.error.value_or(r.document);
        (a.error ? errors : documents)++;
    }
    // Both outcomes were exercised, the errors in both periods' sums and totals.
    EXPECT_GT(errors, random_rounds(100));
    EXPECT_GT(documents, random_rounds(800));
}

namespace {

// A pack row of the users' requests, each entry with a cost of 0.5 and `tokens` total tokens.
std::string requests_row(const std::vector<std::pair<std::string, int64_t>> &users, int64_t tokens)
{
    UserPackWriter w(std::pmr::get_default_resource());
    for (const auto &[u, requests] : users) {
        EntryValues v{};
        v.counts[kRequests] = requests;
        v.counts[kTotalTokens] = tokens;
        v.cost_seen = true;
        v.cost.mantissa = 5;
        v.cost.scale = 1;
        v.cost.dscale = 1;
        Decimal kc;
        w.add(u, v, &kc, 1, PackIdentity{});
    }
    std::string out;
    EXPECT_TRUE(w.finish(out));
    return out;
}

}  // namespace

// A row whose users' sums pass bigint is undone and added entry by entry: the error names the
// entry the walk names, whether a user's sum or the total passes first, in either period.
TEST(UserColumns, OverflowEdges)
{
    auto row = [](const std::vector<std::pair<std::string, int64_t>> &users) { return requests_row(users, 1); };
    const int64_t big = INT64_MAX - 10;
    const std::vector<std::vector<Pack>> cases = {
        // a user's sum passes bigint in the second row
        {{true, row({{"a", big}, {"b", 1}})}, {true, row({{"a", 11}, {"b", 1}})}},
        // the total passes first (no user's sum does)
        {{true, row({{"a", big}, {"b", 20}})}},
        // negative: a user's sum passes -2^63
        {{true, row({{"a", -big}, {"b", 1}})}, {true, row({{"a", -big}})}},
        // the comparison period: the total
        {{false, row({{"a", big}, {"b", big}})}, {true, row({{"a", 1}})}},
        // the comparison period: a user's sum (the total went negative in between)
        {{false, row({{"a", big}, {"b", -big}})}, {false, row({{"a", 20}})}},
        // exactly at bigint's end: fits
        {{true, row({{"a", big}, {"b", 10}})}, {false, row({{"a", big}, {"b", 10}})}},
        // a sum that passes bigint and comes back (the walk raises at the step that passes)
        {{true, row({{"a", big}, {"a2", 20}, {"b", -30}})}},
    };
    int errors = 0;
    for (size_t k = 0; k < cases.size(); k++) {
        Outcome a = by_entries(cases[k]), b = by_columns(cases[k]), r = by_columns(cases[k], true);
        EXPECT_TRUE(a == b) << "case " << k << "\nentries: " << a.error.value_or(a.document)
                            << "\ncolumns: " << b.error.value_or(b.document);
        EXPECT_TRUE(a == r) << "case " << k << "\nentries: " << a.error.value_or(a.document)
                            << "\ncolumns in runs: " << r.error.value_or(r.document);
        errors += a.error.has_value();
    }
    EXPECT_EQ(errors, 6);
}

// The column adds' own rule: all or nothing, and the sums after an undone row are the sums before.
TEST(UserColumns, UndoneRowLeavesEverySum)
{
    int64_t a[kCountMetrics] = {1, 2, 3, 4, 5, INT64_MAX - 1}, b[kCountMetrics] = {7, 7, 7, 7, 7, 7};
    int64_t total[kCountMetrics] = {10, 20, 30, 40, 50, 60};
    const int64_t c0[] = {1, 2, 3}, c5[] = {1, 0, 5};
    UserColumns c;
    c.n = 3;
    for (int m = 0; m < kCountMetrics; m++)
        c.counts[m] = m == 5 ? c5 : c0;
    int64_t *acc[3] = {a, b, a};  // entry 2 is entry 0's user again: its sum passes at entry 2
    int64_t a0[kCountMetrics], b0[kCountMetrics], t0[kCountMetrics];
    std::copy(a, a + kCountMetrics, a0);
    std::copy(b, b + kCountMetrics, b0);
    std::copy(total, total + kCountMetrics, t0);
    EXPECT_FALSE(add_count_columns([&](uint32_t i) { return acc[i]; }, total, c));
    EXPECT_TRUE(std::equal(a, a + kCountMetrics, a0));
    EXPECT_TRUE(std::equal(b, b + kCountMetrics, b0));
    EXPECT_TRUE(std::equal(total, total + kCountMetrics, t0));
    a[5] = INT64_MAX - 7;  // now 1 + 5 fits
    EXPECT_TRUE(add_count_columns([&](uint32_t i) { return acc[i]; }, total, c));
    EXPECT_EQ(a[5], INT64_MAX - 1);
    EXPECT_EQ(a[0], 1 + 1 + 3);
    EXPECT_EQ(b[0], 7 + 2);
    EXPECT_EQ(total[5], 60 + 6);
}

// Round 16: the total's steps go unchecked only when no prefix can pass bigint (|total| +
// n x largest fits), at the edge and one past it, either sign; past it the checked steps still
// see a passing total and undo the row.
TEST(UserColumns, TotalBoundAtItsEdge)
{
    const int64_t col[] = {5, 5, 5, -5};
    UserColumns c;
    c.n = 4;
    for (int m = 0; m < kCountMetrics; m++) {
        c.counts[m] = col;
        c.largest[m] = 5;
    }
    for (int64_t sign : {1, -1}) {
        int64_t total[kCountMetrics];
        std::fill(total, total + kCountMetrics, sign * (INT64_MAX - 20));
        EXPECT_TRUE(total_cannot_pass(total, c));
        total[3] = sign * (INT64_MAX - 19);
        EXPECT_FALSE(total_cannot_pass(total, c));
    }
    UserColumns unknown = c;
    std::fill(unknown.largest, unknown.largest + kCountMetrics, INT64_MAX);
    int64_t zero[kCountMetrics] = {};
    EXPECT_FALSE(total_cannot_pass(zero, unknown));
    // INT64_MAX - 14 + 5 + 5 + 5 passes at the third entry, though the row's sum (+10) fits.
    int64_t sums[4][kCountMetrics] = {};
    int64_t total[kCountMetrics] = {0, 0, INT64_MAX - 14, 0, 0, 0};
    EXPECT_FALSE(total_cannot_pass(total, c));
    EXPECT_FALSE(add_count_columns([&](uint32_t i) { return sums[i]; }, total, c));
    EXPECT_EQ(total[2], INT64_MAX - 14);
    total[2] = INT64_MAX - 15;  // every step fits
    EXPECT_TRUE(add_count_columns([&](uint32_t i) { return sums[i]; }, total, c));
    EXPECT_EQ(total[2], INT64_MAX - 5);
    EXPECT_EQ(total[0], 10);
    EXPECT_EQ(sums[3][0], -5);
}

// Round 17: CountBound proves a row only while n x largest summed over the period's rows,
// this one included, fits bigint; at the edge and one past it; forgotten, never.
TEST(UserColumns, CountBoundAtItsEdge)
{
    const int64_t col[] = {5, 5, 5, -5};
    UserColumns c;
    c.n = 4;
    for (int m = 0; m < kCountMetrics; m++) {
        c.counts[m] = col;
        c.largest[m] = 5;
    }
    CountBound b;
    EXPECT_TRUE(b.proves(c));
    b.add(c);
    EXPECT_EQ(uint64_t(b.sum[0]), 20u);
    for (int m = 0; m < kCountMetrics; m++)
        b.sum[m] = (unsigned __int128)(INT64_MAX - 20);
    EXPECT_TRUE(b.proves(c));  // INT64_MAX - 20 + 4 x 5: exactly bigint's end
    b.sum[4] += 1;
    EXPECT_FALSE(b.proves(c));
    b.sum[4] -= 1;
    b.forget();
    EXPECT_FALSE(b.proves(c));
    CountBound fresh;
    UserColumns unknown = c;  // nothing known of the values
    std::fill(unknown.largest, unknown.largest + kCountMetrics, INT64_MAX);
    EXPECT_FALSE(fresh.proves(unknown));
    for (int k = 0; k < 100; k++)  // saturates, never wraps back into range
        fresh.add(unknown);
    EXPECT_FALSE(fresh.proves(c));
}

// A user's sum from an entry (a day row's walk: no header's largest) is outside any row's
// bound: the column rows after it are checked, in runs or not, and raise the walk's error.
// (Without the entry's forget() the rows were proven, summed unchecked and wrapped.)
TEST(UserColumns, EntryForgetsTheBound)
{
    auto row = [](const std::vector<std::pair<std::string, int64_t>> &users) { return requests_row(users, 0); };
    const std::string small = row({{"a", 3}, {"b", 1}});
    for (bool current : {true, false}) {
        for (bool runs : {true, false}) {
            DashboardBuilder b(std::pmr::get_default_resource(), DashboardOptions{});
            std::optional<std::string> error;
            try {
                b.begin_day(1, "2025-01-01", current);
                EntryValues v{};
                v.counts[kRequests] = INT64_MAX - 5;
                if (current)
                    b.user_usage_slot("a", v, 0);
                else
                    b.previous_user_usage("a", v);
                for (int k = 0; k < 2; k++) {  // INT64_MAX - 5 + 3 + 3 passes at the second row
                    b.begin_rollup("2025-02-01", current);
                    Decoded d(small);
                    const UserColumns c = pack_columns(d.view, d.ptrs);
                    std::vector<uint32_t> idx(c.n);
                    for (uint32_t i = 0; i < c.n; i++)
                        idx[i] = current ? b.user_slot_index(d.names[i]) : b.previous_user_id(d.names[i]);
                    if (current)
                        b.user_usage_columns(idx.data(), c, runs);
                    else
                        b.previous_usage_columns(idx.data(), c, runs);
                }
                b.begin_rollup("2025-03-01", true);
                b.document("2025-01-01", "2025-12-31");
            } catch (const Error &e) {
                error = error_text(e);
            }
            ASSERT_TRUE(error.has_value()) << "current " << current << " runs " << runs;
            EXPECT_NE(error->find("22003"), std::string::npos) << *error;
            EXPECT_NE(error->find("2025-02-01"), std::string::npos) << *error;
        }
    }
}

// A run's sums are the sums of its rows one by one: counts, each user's cost (value and display
// scale: the largest), the total's; a user without a cost in some rows; a row at another cost
// scale, or whose largest cost could take a user's cost sum past int64, ends the run (flushed,
// a new one started).
TEST(UserColumns, RunIsTheRowsOneByOne)
{
    std::mt19937_64 rng(17);
    int runs_added = 0;
    for (int trial = 0; trial < 200; trial++) {
        const uint32_t n = 1 + uint32_t(rng() % 40);
        const int rows = 1 + int(rng() % 6);
        std::vector<std::vector<int64_t>> counts(size_t(rows) * kCountMetrics, std::vector<int64_t>(n));
        std::vector<std::vector<int64_t>> costs(rows, std::vector<int64_t>(n));
        std::vector<std::vector<uint8_t>> ds(rows, std::vector<uint8_t>(n));
        std::vector<UserColumns> cs(rows);
        std::vector<uint32_t> index(n);
        for (uint32_t i = 0; i < n; i++)
            index[i] = uint32_t(rng() % (n + 3));  // entries may share an accumulator
        for (int r = 0; r < rows; r++) {
            UserColumns &c = cs[r];
            c.n = n;
            for (int m = 0; m < kCountMetrics; m++) {
                for (uint32_t i = 0; i < n; i++)
                    counts[size_t(r) * kCountMetrics + m][i] = int64_t(rng() % 2000000) - 1000000;
                c.counts[m] = counts[size_t(r) * kCountMetrics + m].data();
                c.largest[m] = 1000000;
            }
            c.cost_largest = 0;
            for (uint32_t i = 0; i < n; i++) {
                // up to 2^61 (a run's sums stay in int64 over a few rows, then a new run starts)
                costs[r][i] = int64_t(rng()) >> int(2 + rng() % 62);
                ds[r][i] = rng() % 5 == 0 ? kColumnNoCost : uint8_t(rng() % 30);
                c.cost_largest = std::max(c.cost_largest, costs[r][i] < 0 ? -costs[r][i] : costs[r][i]);
            }
            if (rng() % 8 == 0)
                c.cost_largest = INT64_MAX;  // nothing known: the row is a run of its own
            c.cost = costs[r].data();
            c.cost_dscale = ds[r].data();
            c.cost_scale = rng() % 4 == 0 ? 4 : 8;
        }
        // One by one.
        std::vector<std::array<int64_t, kCountMetrics>> a(n + 3), b(n + 3);
        std::vector<DecimalSum> acost(n + 3), bcost(n + 3);
        int64_t atotal[kCountMetrics] = {}, btotal[kCountMetrics] = {};
        DecimalSum atc, btc;
        for (const UserColumns &c : cs) {
            ASSERT_TRUE(add_count_columns([&](uint32_t i) { return a[index[i]].data(); }, atotal, c));
            add_cost_columns([&](uint32_t i) -> DecimalSum & { return acost[index[i]]; }, &atc, c);
        }
        // In runs.
        ColumnRun run(std::pmr::get_default_resource());
        int added = 0;
        auto flush = [&] {
            run.flush([&](uint32_t k) { return b[k].data(); }, [&](uint32_t k) -> DecimalSum * { return &bcost[k]; },
                      btotal, btc);
        };
        for (const UserColumns &c : cs) {
            if (run.continues(1, index.data(), c)) {
                run.add(c);
                added++;
                continue;
            }
            if (run.active())
                flush();
            run.start(1, index.data(), c);
        }
        flush();
        EXPECT_FALSE(run.active());
        for (uint32_t k = 0; k < n + 3; k++) {
            EXPECT_EQ(a[k], b[k]) << "trial " << trial;
            EXPECT_EQ(acost[k].to_string(), bcost[k].to_string()) << "trial " << trial;
        }
        EXPECT_TRUE(std::equal(atotal, atotal + kCountMetrics, btotal)) << "trial " << trial;
        EXPECT_EQ(atc.to_string(), btc.to_string()) << "trial " << trial;
        runs_added += added;
    }
    EXPECT_GT(runs_added, 100);  // rows were summed in runs, not only started
}

}  // namespace ut_user_columns_test

namespace ut_user_columns_test {

// UserPackView::decode's wide path (sixteen bytes a step, then the rest one by one) against the
// values written, at every width, at lengths around the steps; a header's largest lowered below
// some value (in a step or in the rest) is refused.
TEST(UserColumns, DecodeWidthsAndLargest)
{
    std::mt19937_64 rng(7);
    const int64_t limits[] = {0, 100, 30000, 2000000000, INT64_MAX / 4};
    for (int64_t limit : limits) {
        for (uint32_t n : {0u, 1u, 3u, 7u, 8u, 15u, 16u, 17u, 31u, 32u, 33u, 100u}) {
            UserPackWriter w(std::pmr::get_default_resource());
            std::vector<int64_t> want(n);
            for (uint32_t i = 0; i < n; i++) {
                EntryValues v{};
                int64_t x = limit == 0 ? 0 : int64_t(rng() % uint64_t(2 * limit + 1)) - limit;
                if (i == n / 2)
                    x = rng() % 2 ? limit : -limit;  // the extremes
                v.counts[kRequests] = want[i] = x;
                w.add("u" + std::to_string(1000 + i), v, nullptr, 0, PackIdentity{});
            }
            std::string bytes;
            ASSERT_TRUE(w.finish(bytes));
            UserPackView view;
            ASSERT_TRUE(view.parse(bytes.data(), bytes.size()));
            std::vector<int64_t> got(n + 1, 12345);
            ASSERT_TRUE(view.decode(kRequests, got.data()));
            EXPECT_TRUE(std::equal(want.begin(), want.end(), got.begin())) << limit << " " << n;
            EXPECT_EQ(got[n], 12345);  // nothing written past the users
            // The largest in the header (its 8 bytes after the width byte): one below the
            // largest absolute value is refused, the value itself is not.
            uint64_t most = 0;
            for (int64_t x : want)
                most = std::max<uint64_t>(most, x < 0 ? uint64_t(0) - uint64_t(x) : uint64_t(x));
            if (most == 0)
                continue;
            std::string bad = bytes;
            const size_t at = 20 + 16 * size_t(kRequests) + 8;
            const uint64_t lower = most - 1;
            for (int k = 0; k < 8; k++)
                bad[at + k] = char(uint8_t(lower >> (8 * k)));
            UserPackView v2;
            ASSERT_TRUE(v2.parse(bad.data(), bad.size()));
            EXPECT_FALSE(v2.decode(kRequests, got.data())) << limit << " " << n;
        }
    }
}

}  // namespace ut_user_columns_test

namespace ut_user_columns_test {

// parse() in two steps (the dashboard's pack rows: parse(.., false), then check_blocks() unless
// the blocks repeat the previous row's): the same answer as parse() for every single-byte change
// and every truncation of random packs.
TEST(UserColumns, ParseInTwoStepsIsParse)
{
    for (uint64_t seed = 1; seed <= 20; seed++) {
        Gen g(seed, 0);
        const std::string bytes = g.pack(seed % 2 == 0);
        auto same = [](const std::string &b) {
            UserPackView one, two;
            const bool whole = one.parse(b.data(), b.size());
            const bool steps = two.parse(b.data(), b.size(), false) && two.check_blocks();
            return whole == steps;
        };
        ASSERT_TRUE(same(bytes));
        for (size_t at = 0; at < bytes.size(); at++) {
            std::string b = bytes;
            b[at] = char(uint8_t(b[at]) ^ (at % 2 ? 0x80 : 0x01));
            ASSERT_TRUE(same(b)) << seed << " " << at;
            ASSERT_TRUE(same(bytes.substr(0, at))) << seed << " " << at;
        }
    }
}

}  // namespace ut_user_columns_test
