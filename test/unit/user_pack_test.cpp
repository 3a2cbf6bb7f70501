// core/user_pack: the packed users column. Round trips of random rows against the values handed
// in (counts, costs at mixed scales with their display scales, bounds, identities), the narrowest
// widths, the cases that give no pack (a value that does not fit exactly), and the reader's
// refusal of malformed bytes (every truncation, every single-byte change it cannot accept).
#include "core/decimal.hpp"
#include "core/number.hpp"
#include "core/user_pack.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace ut_user_pack_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

struct Row {
    std::string user, username, email, role;
    EntryValues v{};
    bool has_keycost = true;
    Decimal keycost;
    int64_t keymag = 0;
};

Decimal dec(const char *text)
{
    Decimal d;
    EXPECT_TRUE(parse_json_number(text, d)) << text;
    return d;
}

std::string sum_text(const Decimal &d)
{
    DecimalSum s;
    s.add(d);
    return s.to_string();
}

bool pack(const std::vector<Row> &rows, std::string &out)
{
    UserPackWriter w(std::pmr::get_default_resource());
    for (const Row &r : rows)
        w.add(r.user, r.v, r.has_keycost ? &r.keycost : nullptr, r.keymag, PackIdentity{r.username, r.email, r.role});
    return w.finish(out);
}

// Reads a pack back and checks it against rows (values and printed costs).
void expect_same(const std::string &bytes, const std::vector<Row> &rows)
{
    UserPackView view;
    ASSERT_TRUE(view.parse(bytes.data(), bytes.size()));
    ASSERT_EQ(view.users(), rows.size());
    bool bounds = true;
    for (const Row &r : rows)
        bounds &= r.has_keycost;
    EXPECT_EQ(view.has_bounds(), bounds);
    std::vector<std::vector<int64_t>> arrays(kUserPackArrays, std::vector<int64_t>(rows.size()));
    const int64_t *ptrs[kUserPackArrays];
    for (int a = 0; a < kUserPackArrays; a++) {
        ASSERT_TRUE(view.decode(a, arrays[a].data()));
        ptrs[a] = arrays[a].data();
    }
    UserPackView::Cursor c(view);
    for (uint32_t i = 0; i < rows.size(); i++) {
        const Row &r = rows[i];
        std::string_view name, rec;
        c.next(name, rec);
        EXPECT_EQ(name, r.user);
        PackIdentity id = UserPackView::identity(rec);
        EXPECT_EQ(id.username, r.username);
        EXPECT_EQ(id.email, r.email);
        EXPECT_EQ(id.role, r.role);
        EntryValues v;
        pack_entry_values(view, ptrs, i, v);
        for (int m = 0; m < kCountMetrics; m++)
            EXPECT_EQ(v.counts[m], r.v.counts[m]);
        EXPECT_EQ(v.cost_seen, r.v.cost_seen);
        if (r.v.cost_seen) {
            EXPECT_EQ(sum_text(v.cost), sum_text(r.v.cost)) << r.user;
            EXPECT_EQ(v.cost.dscale, r.v.cost.dscale);
        }
        if (bounds) {
            Decimal k;
            pack_keycost(view, ptrs, i, k);
            EXPECT_EQ(sum_text(k), sum_text(r.keycost));
            EXPECT_EQ(arrays[kPackKeyMag][i], r.keymag < 0 ? -1 : r.keymag);
        }
    }
}

const char *kCosts[] = {"0", "0.5", "1.50", "0.0000000001", "12.3456789012", "-3.25", "100", "0.10",
                        "7.000000", "99999.9999", "1e-3", "2.5E2"};

std::vector<Row> random_rows(std::mt19937_64 &rng, size_t n)
{
    std::vector<Row> rows(n);
    for (size_t i = 0; i < n; i++) {
        Row &r = rows[i];
        r.user = "user-" + std::to_string(rng() % 100000) + (i % 7 == 0 ? std::string("\xc3\xa9") : "");
        if (rng() % 3 != 0) {
            r.username = "name" + std::to_string(i);
            r.email = rng() % 2 ? "u" + std::to_string(i) + "@example.com" : "";
            r.role = rng() % 2 ? "admin" : "";
        }
        int range = int(rng() % 4);
        for (int m = 0; m < kCountMetrics; m++) {
            int64_t v = int64_t(rng() % (range == 0 ? 100 : range == 1 ? 30000 : range == 2 ? 3000000000ULL : UINT64_MAX / 4));
            r.v.counts[m] = rng() % 10 == 0 ? -v : v;
        }
        r.v.cost_seen = rng() % 5 != 0;
        if (r.v.cost_seen)
            r.v.cost = dec(kCosts[rng() % (sizeof kCosts / sizeof *kCosts)]);
        r.keycost = dec(kCosts[rng() % (sizeof kCosts / sizeof *kCosts)]);
        r.keymag = rng() % 20 == 0 ? -1 : int64_t(rng() % 1000000);
    }
    return rows;
}

}  // namespace

TEST(UserPack, RoundTripsRandomRows)
{
    std::mt19937_64 rng(12);
    for (int t = 0; t < 300; t++) {
        std::vector<Row> rows = random_rows(rng, size_t(rng() % 40));
        if (t % 5 == 0 && !rows.empty())
            rows[rng() % rows.size()].has_keycost = false;
        std::string bytes;
        ASSERT_TRUE(pack(rows, bytes));
        expect_same(bytes, rows);
    }
}

TEST(UserPack, NarrowestWidthsAndLargest)
{
    std::vector<Row> rows(3);
    for (int i = 0; i < 3; i++) {
        rows[i].user = "u" + std::to_string(i);
        rows[i].v.cost_seen = true;
        rows[i].v.cost = dec("0.25");
        rows[i].keycost = dec("1");
    }
    rows[0].v.counts[kRequests] = 127;
    rows[1].v.counts[kRequests] = -128;
    rows[2].v.counts[kTotalTokens] = 40000;
    rows[1].v.counts[kPromptTokens] = 3000000000LL;
    rows[0].keymag = 5;
    std::string bytes;
    ASSERT_TRUE(pack(rows, bytes));
    UserPackView v;
    ASSERT_TRUE(v.parse(bytes.data(), bytes.size()));
    EXPECT_EQ(v.width(kRequests), 1);
    EXPECT_EQ(v.max_abs(kRequests), 128);
    EXPECT_EQ(v.width(kTotalTokens), 4);
    EXPECT_EQ(v.width(kPromptTokens), 8);
    EXPECT_EQ(v.width(kCompletionTokens), 0);
    EXPECT_EQ(v.width(kPackCost), 1);  // 25 at scale 2
    EXPECT_EQ(v.cost_scale(), 2);
    EXPECT_EQ(v.max_abs(kPackCost), 25);
    EXPECT_EQ(v.width(kPackKeyMag), 1);
    expect_same(bytes, rows);
}

TEST(UserPack, MixedScalesKeepValuesAndDisplayScales)
{
    std::vector<Row> rows(4);
    const char *costs[] = {"1.5", "0.00000001", "3", "2.000000000000"};
    for (int i = 0; i < 4; i++) {
        rows[i].user = std::string(1, char('a' + i));
        rows[i].v.cost_seen = true;
        rows[i].v.cost = dec(costs[i]);
        rows[i].keycost = dec(costs[3 - i]);
    }
    std::string bytes;
    ASSERT_TRUE(pack(rows, bytes));
    expect_same(bytes, rows);
    // The sums print as over the values themselves.
    UserPackView view;
    ASSERT_TRUE(view.parse(bytes.data(), bytes.size()));
    std::vector<std::vector<int64_t>> arrays(kUserPackArrays, std::vector<int64_t>(4));
    const int64_t *ptrs[kUserPackArrays];
    for (int a = 0; a < kUserPackArrays; a++) {
        ASSERT_TRUE(view.decode(a, arrays[a].data()));
        ptrs[a] = arrays[a].data();
    }
    DecimalSum direct, packed;
    for (uint32_t i = 0; i < 4; i++) {
        EntryValues v;
        pack_entry_values(view, ptrs, i, v);
        packed.add(v.cost);
        direct.add(rows[i].v.cost);
    }
    EXPECT_EQ(packed.to_string(), direct.to_string());
    EXPECT_EQ(packed.to_string(), "6.500000010000");
}

TEST(UserPack, NoPackWhenAValueDoesNotFit)
{
    auto one = [](const char *cost) {
        std::vector<Row> rows(2);
        rows[0].user = "a";
        rows[0].v.cost_seen = true;
        rows[0].v.cost = dec("0.0000000000000001");  // scale 16
        rows[1].user = "b";
        rows[1].v.cost_seen = true;
        rows[1].v.cost = dec(cost);
        std::string bytes;
        return pack(rows, bytes);
    };
    EXPECT_TRUE(one("100"));
    EXPECT_FALSE(one("1000"));  // 1000 x 10^16 passes int64
    EXPECT_FALSE(one("123456789012345678901234567890123456789012"));  // arbitrary precision
    std::string big_dscale = "1." + std::string(300, '0');
    EXPECT_FALSE(one(big_dscale.c_str()));  // a display scale past 254
    std::vector<Row> rows(1);
    rows[0].user = "m";
    rows[0].v.counts[kRequests] = INT64_MIN;  // its absolute value is no int64
    std::string bytes;
    EXPECT_FALSE(pack(rows, bytes));
}

TEST(UserPack, EmptyRow)
{
    std::string bytes;
    ASSERT_TRUE(pack({}, bytes));
    EXPECT_EQ(bytes.size(), kUserPackHeader);  // no users: the header alone
    UserPackView v;
    ASSERT_TRUE(v.parse(bytes.data(), bytes.size()));
    EXPECT_EQ(v.users(), 0u);
}

TEST(UserPack, RefusesMalformedBytes)
{
    std::mt19937_64 rng(7);
    std::vector<Row> rows = random_rows(rng, 12);
    std::string bytes;
    ASSERT_TRUE(pack(rows, bytes));
    UserPackView v;
    for (size_t len = 0; len < bytes.size(); len++)
        EXPECT_FALSE(v.parse(bytes.data(), len)) << len;
    std::string longer = bytes + "x";
    EXPECT_FALSE(v.parse(longer.data(), longer.size()));
    // Every byte changed in turn: parsed or not, never read out of bounds (ASan in scripts/fuzz.sh),
    // and whatever parses decodes without reading past the bytes.
    std::vector<int64_t> out(64);
    for (size_t i = 0; i < bytes.size(); i++)
        for (int delta : {1, 0x80, 0xff}) {
            std::string b = bytes;
            b[i] = char(uint8_t(b[i]) + delta);
            std::vector<char> exact(b.begin(), b.end());  // exactly sized: ASan sees any overread
            if (!v.parse(exact.data(), exact.size()))
                continue;
            ASSERT_LE(v.users(), 64u);
            for (int a = 0; a < kUserPackArrays; a++)
                (void)v.decode(a, out.data());
            UserPackView::Cursor c(v);
            for (uint32_t u = 0; u < v.users(); u++) {
                std::string_view name, rec;
                c.next(name, rec);
                (void)UserPackView::identity(rec);
            }
        }
    // A wrong version or magic.
    std::string b = bytes;
    b[3] = 2;
    EXPECT_FALSE(v.parse(b.data(), b.size()));
    b = bytes;
    b[0] = 'X';
    EXPECT_FALSE(v.parse(b.data(), b.size()));
}

TEST(UserPack, DecodeRefusesAValuePastTheLargest)
{
    std::vector<Row> rows(2);
    rows[0].user = "a";
    rows[1].user = "b";
    rows[0].v.counts[kRequests] = 100;
    rows[1].v.counts[kRequests] = 3;
    std::string bytes;
    ASSERT_TRUE(pack(rows, bytes));
    bytes[20 + 8] = 50;  // requests' largest: 50 < 100
    UserPackView v;
    ASSERT_TRUE(v.parse(bytes.data(), bytes.size()));
    int64_t out[2];
    EXPECT_FALSE(v.decode(kRequests, out));
}

}  // namespace ut_user_pack_test
