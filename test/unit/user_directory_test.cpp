// core/user_directory.hpp: a backend's directory of a pack's users, kept between calls, and the
// builder's first sight of a run of users (DashboardBuilder::first_users, KeyBounds::
// first_bound_columns, PeriodUsers::first_run) against the one-by-one path
// (user_slot_index / identity_columns / previous_user_id / add_bound_columns) of the same
// packs. Calls in sequence share one directory, as a pooled connection's do, with the users
// changed between calls (a user added, one removed, an identity changed): each call's
// outcome (document, top-key candidates, or error) is the one-by-one path's, and the
// directory is reused only for byte-identical blocks. Round 17: the range's other rows (day
// projections, rows of the directory's users) mapped to slots through the directory
// (run_subset_indexes + DashboardBuilder::run_slots) and the blocks walked by walk_blocks(),
// against the same one-by-one path.
#include "core/dashboard.hpp"
#include "core/error.hpp"
#include "core/key_bounds.hpp"
#include "core/ordered_lookup.hpp"
#include "core/user_columns.hpp"
#include "core/user_directory.hpp"
#include "core/user_pack.hpp"
#include "random_rounds.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace ut_user_directory_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

struct User {
    std::string name, username, email, role;
};

// JSONB key order: shorter first, then bytewise.
bool key_less(const std::string &a, const std::string &b) { return a.size() != b.size() ? a.size() < b.size() : a < b; }

struct Row {
    bool current, month;  // month: may build the directory (a day projection may not)
    std::string bytes;
};

struct Outcome {
    std::optional<std::string> error;
    std::string document;
    std::vector<std::string> candidates;
    bool operator==(const Outcome &o) const { return error == o.error && document == o.document && candidates == o.candidates; }
};

struct Decoded {
    UserPackView view;
    std::vector<std::vector<int64_t>> arrays;
    const int64_t *ptrs[kUserPackArrays] = {};
    std::vector<std::string_view> names, records;
    explicit Decoded(const std::string &bytes) : arrays(kUserPackArrays)
    {
        EXPECT_TRUE(view.parse(bytes.data(), bytes.size(), false));
        for (int a = 0; a < kUserPackArrays; a++) {
            arrays[a].resize(view.users());
            EXPECT_TRUE(view.decode(a, arrays[a].data()));
            ptrs[a] = arrays[a].data();
        }
    }
    void walk()
    {
        UserPackView::Cursor c(view);
        names.resize(view.users());
        records.resize(view.users());
        for (uint32_t i = 0; i < view.users(); i++)
            c.next(names[i], records[i]);
    }
};

// The backend's directory between calls (pg/user_directory.cpp's job: here one object,
// replaced by a new one; the old ones kept alive, as a transaction keeps them).
struct Backend {
    std::vector<std::unique_ptr<UserDirectory>> dirs;
    const UserDirectory *current = nullptr;
    int builds = 0, hits = 0, by_run = 0, run_refused = 0, prev_by_run = 0;
};

// One call over the rows: directory (nullptr: the one-by-one path of round 15).
Outcome call(const std::vector<Row> &rows, Backend *backend)
{
    Outcome out;
    DashboardBuilder b(std::pmr::get_default_resource(), DashboardOptions{});
    KeyBounds bounds(std::pmr::get_default_resource());
    KeyMagnitude mag;
    try {
        int n_row = 0;
        for (const Row &r : rows) {
            Decoded d(r.bytes);
            b.begin_rollup("2025-0" + std::to_string(1 + n_row++ % 9) + "-01", r.current);
            const UserDirectory *dir = nullptr;
            if (backend) {  // PackRow::parse's use of the directory
                if (backend->current && backend->current->same(d.view.users(), d.view.names_block(),
                                                               d.view.identities_block())) {
                    dir = backend->current;
                    backend->hits++;
                } else {
                    EXPECT_TRUE(d.view.check_blocks());
                    if (r.month) {
                        auto nd = std::make_unique<UserDirectory>(std::pmr::get_default_resource());
                        if (nd->build(d.view)) {
                            backend->current = dir = nd.get();
                            backend->dirs.push_back(std::move(nd));
                            backend->builds++;
                        }
                    }
                }
            }
            d.walk();
            if (backend && dir == nullptr) {  // PackRow::parse's one pass: what the Cursor gives
                std::vector<std::string_view> names(d.view.users()), records(d.view.users());
                EXPECT_TRUE(d.view.walk_blocks(names.data(), records.data()));
                EXPECT_TRUE(names == d.names && records == d.records);
            }
            const std::string_view *names = dir ? dir->names() : d.names.data();
            const std::string_view *records = dir ? dir->records() : d.records.data();
            const UserColumns c = pack_columns(d.view, d.ptrs);
            std::vector<uint32_t> idx(c.n);
            const UserRun run = dir ? dir->run() : UserRun{};
            const bool first = dir && b.first_users(run, idx.data());
            if (!r.current) {
                bool by_run = false;  // the comparison period's ids by run index, as the range's slots
                if (!first && backend && backend->current) {
                    const UserDirectory *cd = backend->current;
                    std::vector<uint32_t> at(c.n);
                    const bool subset = dir == cd || run_subset_indexes(cd->run(), names, c.n, at.data());
                    by_run = subset && b.run_slots(cd->run(), dir == cd ? nullptr : at.data(), c.n, idx.data());
                    backend->prev_by_run += by_run;
                }
                if (!first && !by_run)
                    for (uint32_t i = 0; i < c.n; i++)
                        idx[i] = b.previous_user_id(names[i]);
                b.previous_usage_columns(idx.data(), c);
                continue;
            }
            // pg/dashboard.cpp: a row of the current directory's users, or a subset of them,
            // by their indexes there; else each user looked up.
            bool by_run = false;
            if (!first && backend && backend->current) {
                const UserDirectory *cd = backend->current;
                std::vector<uint32_t> at(c.n);
                const bool subset = dir == cd || run_subset_indexes(cd->run(), names, c.n, at.data());
                by_run = subset && b.run_slots(cd->run(), dir == cd ? nullptr : at.data(), c.n, idx.data());
                backend->by_run += by_run;
                backend->run_refused += subset && !by_run;
            }
            if (!first && !by_run)
                for (uint32_t i = 0; i < c.n; i++)
                    idx[i] = b.user_slot_index(names[i]);
            b.user_usage_columns(idx.data(), c);
            if (d.view.has_bounds()) {
                if (!first || !bounds.first_bound_columns(run, d.ptrs[kPackKeyCost], d.view.keycost_dscales(),
                                                          d.view.keycost_scale())) {
                    EXPECT_TRUE(bounds.add_bound_columns(idx.data(), names, d.ptrs[kPackKeyCost],
                                                         d.view.keycost_dscales(), d.view.keycost_scale(), c.n));
                }
                mag.add_column(d.ptrs[kPackKeyMag], c.n);
            }
            if (!first)
                b.identity_columns(idx.data(), records, c.n);
        }
        out.document = b.document("2025-01-01", "2025-12-31");
        bounds.select(bounds.users(), SIZE_MAX, [&](const auto &cs, DecimalSum &) {
            for (const KeyBounds::Candidate &cand : cs)
                out.candidates.emplace_back(cand.user);
            return false;
        });
    } catch (const Error &e) {
        out.error = std::string(e.sqlstate) + " | " + e.message + " | " + e.detail;
    }
    return out;
}

struct Gen {
    std::mt19937_64 rng;
    std::vector<User> pool;  // in key order
    explicit Gen(uint64_t seed) : rng(seed)
    {
        int n = 1 + int(rng() % 30);
        for (int i = 0; i < n; i++)
            add_user();
    }
    // A user id: short, or of 8, 9, 16, 17 or 36 bytes (LiteMaaS's UUIDs) sharing long prefixes,
    // so the merge's compares meet names that differ in their first, middle and last bytes.
    std::string user_name()
    {
        const std::string digits = std::to_string(rng() % 1000);
        switch (rng() % 4) {
        case 0: return "u" + digits;
        case 1: {
            const size_t len = std::vector<size_t>{8, 9, 16, 17, 36}[rng() % 5];
            std::string n = std::string("0016553c-034c-3474-913b-f7c4306f5592").substr(0, len);
            for (int k = 0; k < 2; k++)
                n[rng() % len] = "0a9f"[rng() % 4];
            return n;
        }
        default: {
            std::string n = "0016553c-034c-3474-913b-f7c4306f5592";
            n.replace(36 - digits.size(), digits.size(), digits);
            return n;
        }
        }
    }
    User make_user()
    {
        return User{user_name(), rng() % 4 ? "name" + std::to_string(rng() % 3) : "",
                    rng() % 3 ? "e" + std::to_string(rng() % 2) + "@x" : "", rng() % 2 ? "user" : ""};
    }
    static void insert_sorted(std::vector<User> &users, const User &u)
    {
        for (const User &p : users)
            if (p.name == u.name)
                return;
        users.insert(std::upper_bound(users.begin(), users.end(), u,
                                      [](const User &a, const User &b) { return key_less(a.name, b.name); }),
                     u);
    }
    void add_user() { insert_sorted(pool, make_user()); }
    // Between calls: a user added, one removed, an identity changed (or some of these).
    void change()
    {
        const int what = int(rng() % 8);
        if (what & 1)
            add_user();
        if ((what & 2) && pool.size() > 1)
            pool.erase(pool.begin() + long(rng() % pool.size()));
        if ((what & 4) || what == 0) {
            User &u = pool[rng() % pool.size()];
            u.email = u.email == "x@y" ? "y@x" : "x@y";  // the same length: only the bytes differ
        }
    }
    // subset: a day's users (some of the pool; a sixth of the time with a user the pool lacks:
    // a row of another month than the directory's).
    std::string pack(bool subset, bool bounds)
    {
        std::vector<User> users = pool;
        if (subset && rng() % 6 == 0)
            insert_sorted(users, make_user());
        for (;;) {
            UserPackWriter w(std::pmr::get_default_resource());
            for (const User &u : users) {
                if (subset && rng() % 3 == 0)
                    continue;
                EntryValues v{};
                for (int m = 0; m < kCountMetrics; m++)
                    v.counts[m] = int64_t(rng() % 1000) - (rng() % 9 == 0 ? 500 : 0);
                v.cost_seen = rng() % 6 != 0;
                v.cost.scale = 4;
                v.cost.mantissa = int64_t(rng() % 2000000);
                v.cost.dscale = int(rng() % 4 == 0 ? rng() % 9 : 4);
                Decimal kc;
                kc.scale = 4;
                kc.mantissa = int64_t(rng() % 200000);
                kc.dscale = 4;
                w.add(u.name, v, bounds ? &kc : nullptr, int64_t(rng() % 1000), PackIdentity{u.username, u.email, u.role});
            }
            std::string out;
            if (w.finish(out))
                return out;
        }
    }
    // A call's rows: the comparison period's months, then the range's (months repeat the
    // period's user list; day projections list subsets, first or between the months).
    std::vector<Row> rows()
    {
        std::vector<Row> rows;
        const bool bounds = rng() % 8 != 0;
        int prev = int(rng() % 3), cur = 1 + int(rng() % 4);
        for (int i = 0; i < prev; i++)
            rows.push_back(Row{false, rng() % 4 != 0, pack(rng() % 5 == 0, false)});
        for (int i = 0; i < cur; i++) {
            const bool day = rng() % 2 == 0;
            rows.push_back(Row{true, !day, pack(day, bounds)});
        }
        return rows;
    }
};

}  // namespace

TEST(UserDirectory, CallsWithChangingUsersAreTheOneByOnePath)
{
    int builds = 0, hits = 0, firsts = 0, by_run = 0, run_refused = 0, prev_by_run = 0;
    for (uint64_t seed = 1; seed <= uint64_t(random_rounds(1500)); seed++) {
        Gen g(seed);
        Backend backend;
        for (int k = 0; k < 4; k++) {  // calls of one backend, the users changed between some
            if (k > 0 && g.rng() % 2)
                g.change();
            std::vector<Row> rows = g.rows();
            if (k > 0 && g.rng() % 2)  // the same rows' bytes as a later call reads them again
                rows = g.rows();
            Outcome a = call(rows, nullptr), b = call(rows, &backend);
            ASSERT_TRUE(a == b) << "seed " << seed << " call " << k << "\none by one: " << a.error.value_or(a.document)
                                << "\ndirectory: " << b.error.value_or(b.document);
            firsts += !rows.empty();
        }
        builds += backend.builds;
        hits += backend.hits;
        by_run += backend.by_run;
        run_refused += backend.run_refused;
        prev_by_run += backend.prev_by_run;
    }
    EXPECT_GT(builds, random_rounds(1500));  // directories were built and reused
    EXPECT_GT(hits, random_rounds(3000));
    EXPECT_GT(by_run, random_rounds(3000));      // rows mapped through the directory
    EXPECT_GT(run_refused, random_rounds(100));  // and rows refused: the range's slots not all the run's
    EXPECT_GT(prev_by_run, random_rounds(300));  // the comparison period's rows by run index
    EXPECT_GT(firsts, 0);
}

// The rule: same() is byte identity of the user count and both blocks; a changed name, an
// identity changed in bytes only (same length), a user added or removed: not the same.
TEST(UserDirectory, SameOnlyForIdenticalBlocks)
{
    auto pack = [](const std::vector<User> &users) {
        UserPackWriter w(std::pmr::get_default_resource());
        for (const User &u : users) {
            EntryValues v{};
            v.counts[0] = 1;
            w.add(u.name, v, nullptr, 0, PackIdentity{u.username, u.email, u.role});
        }
        std::string out;
        EXPECT_TRUE(w.finish(out));
        return out;
    };
    const std::vector<User> base = {{"a", "A", "a@x", "user"}, {"b", "", "", ""}, {"cc", "C", "c@x", "admin"}};
    std::string bytes = pack(base);
    UserPackView v;
    ASSERT_TRUE(v.parse(bytes.data(), bytes.size()));
    UserDirectory d(std::pmr::get_default_resource());
    ASSERT_TRUE(d.build(v));
    EXPECT_TRUE(d.run().ordered);
    EXPECT_EQ(d.users(), 3u);
    EXPECT_EQ(d.names()[2], "cc");
    EXPECT_EQ(d.run().identities[0].email, "a@x");
    EXPECT_EQ(d.run().hashes[1], KeyAggregator::hash_bytes("b", 1));
    EXPECT_TRUE(d.same(v.users(), v.names_block(), v.identities_block()));
    auto differs = [&](const std::vector<User> &users) {
        std::string other = pack(users);
        UserPackView o;
        EXPECT_TRUE(o.parse(other.data(), other.size()));
        return !d.same(o.users(), o.names_block(), o.identities_block());
    };
    std::vector<User> u = base;
    u[0].email = "a@y";  // same length
    EXPECT_TRUE(differs(u));
    u = base;
    u[1].name = "d";  // same length, same order
    EXPECT_TRUE(differs(u));
    u = base;
    u.push_back({"dd", "", "", ""});
    EXPECT_TRUE(differs(u));
    u = base;
    u.erase(u.begin() + 1);
    EXPECT_TRUE(differs(u));
    u = base;
    u[1] = {"bb", "", "", ""};  // one removed, one added: the same count
    EXPECT_TRUE(differs(u));
    EXPECT_FALSE(differs(base));
    // Not in key order: built, but not a run the builder takes at once.
    std::string unordered = pack({{"b", "", "", ""}, {"a", "", "", ""}});
    UserPackView w;
    ASSERT_TRUE(w.parse(unordered.data(), unordered.size()));
    UserDirectory d2(std::pmr::get_default_resource());
    ASSERT_TRUE(d2.build(w));
    EXPECT_FALSE(d2.run().ordered);
    DashboardBuilder b(std::pmr::get_default_resource(), DashboardOptions{});
    b.begin_rollup("2025-01-01", true);
    std::vector<uint32_t> slots(2);
    EXPECT_FALSE(b.first_users(d2.run(), slots.data()));
}

// run_subset_indexes against the naive answer: each name's index in the run by a search, the
// row a subset exactly when every name is found and the indexes strictly increase.
TEST(UserDirectory, SubsetIndexesAreTheNaiveMerge)
{
    std::mt19937_64 rng(17);
    int subsets = 0, refused = 0;
    for (int round = 0; round < 3000; round++) {
        Gen g(rng());
        std::vector<std::string> run_names;
        for (const User &u : g.pool)
            run_names.push_back(u.name);
        std::vector<std::string_view> views(run_names.begin(), run_names.end());
        std::vector<uint64_t> hashes(views.size());
        UserRun run;
        run.n = uint32_t(views.size());
        run.names = views.data();
        run.hashes = hashes.data();
        run.ordered = true;
        // A subset, then (some rounds) a change: a name not in the run (one byte changed, or a
        // byte added), two names swapped, a name twice.
        std::vector<std::string> row;
        for (const std::string &n : run_names)
            if (rng() % 3 != 0)
                row.push_back(n);
        const int change = int(rng() % 5);
        if (!row.empty() && change == 1)
            row[rng() % row.size()][0] ^= 1;
        if (!row.empty() && change == 2)
            row[rng() % row.size()].push_back('x');
        if (row.size() > 1 && change == 3) {
            size_t k = rng() % (row.size() - 1);
            std::swap(row[k], row[k + 1]);
        }
        if (!row.empty() && change == 4) {
            size_t k = rng() % row.size();
            row.insert(row.begin() + long(k), row[k]);
        }
        std::vector<std::string_view> row_views(row.begin(), row.end());
        std::vector<uint32_t> want(row.size()), got(row.size());
        bool naive = true;
        for (size_t i = 0; i < row.size() && naive; i++) {
            auto it = std::find(run_names.begin(), run_names.end(), row[i]);
            naive = it != run_names.end() && (i == 0 || uint32_t(it - run_names.begin()) > want[i - 1]);
            if (naive)
                want[i] = uint32_t(it - run_names.begin());
        }
        const bool merged = run_subset_indexes(run, row_views.data(), uint32_t(row.size()), got.data());
        ASSERT_EQ(merged, naive) << "round " << round;
        if (merged) {
            ASSERT_EQ(got, want) << "round " << round;
        }
        subsets += merged;
        refused += !merged;
        run.ordered = false;  // a run not known ordered is never merged
        EXPECT_FALSE(run_subset_indexes(run, row_views.data(), uint32_t(row.size()), got.data()));
    }
    EXPECT_GT(subsets, 500);
    EXPECT_GT(refused, 1000);
}

// walk_blocks: false exactly when check_blocks() is; else the Cursor's names and records. Packs
// with lengths of one and two varint bytes, every byte of the blocks changed in turn.
TEST(UserDirectory, WalkBlocksIsCheckBlocksAndTheCursor)
{
    std::mt19937_64 rng(23);
    int walked = 0, refused = 0;
    for (int round = 0; round < 40; round++) {
        UserPackWriter w(std::pmr::get_default_resource());
        const int n = 1 + int(rng() % 12);
        for (int u = 0; u < n; u++) {
            EntryValues v{};
            v.counts[0] = 1;
            std::string name = "u" + std::to_string(u) + std::string(rng() % 3 == 0 ? 130 : rng() % 40, 'n');
            std::string username = rng() % 4 ? std::string(rng() % 3 == 0 ? 140 : rng() % 20, 'a') : "";
            std::string email = rng() % 3 ? std::string(rng() % 5 == 0 ? 129 : rng() % 20, 'e') : "";
            w.add(name, v, nullptr, 0, PackIdentity{username, email, rng() % 2 ? "user" : ""});
        }
        std::string bytes;
        ASSERT_TRUE(w.finish(bytes));
        UserPackView v;
        ASSERT_TRUE(v.parse(bytes.data(), bytes.size()));
        const size_t from = size_t(v.names_block().data() - bytes.data());
        const size_t to = from + v.names_block().size() + v.identities_block().size();
        for (size_t i = from; i <= to; i++)
            for (int delta : {0, 1, 0x7f, 0x80, 0xff}) {
                std::string b = bytes;
                if (i < to)
                    b[i] = char(uint8_t(b[i]) + delta);
                std::vector<char> exact(b.begin(), b.end());  // exactly sized: ASan sees any overread
                UserPackView x;
                if (!x.parse(exact.data(), exact.size(), false))
                    continue;
                std::vector<std::string_view> names(x.users()), records(x.users());
                const bool ok = x.walk_blocks(names.data(), records.data());
                ASSERT_EQ(ok, x.check_blocks()) << round << " " << i << " " << delta;
                walked += ok;
                refused += !ok;
                if (!ok)
                    continue;
                UserPackView::Cursor c(x);
                for (uint32_t u = 0; u < x.users(); u++) {
                    std::string_view name, rec;
                    c.next(name, rec);
                    ASSERT_TRUE(name.data() == names[u].data() && name.size() == names[u].size());
                    ASSERT_TRUE(rec.data() == records[u].data() && rec.size() == records[u].size());
                }
            }
    }
    EXPECT_GT(walked, 1000);
    EXPECT_GT(refused, 1000);
}

}  // namespace ut_user_directory_test
