// Issue 13's fast paths against references that do not use them: the inline 64-bit numeric
// decode against numeric's digits written out as text (BigDecimal::from_plain), the inline
// same-scale DecimalSum::add against BigDecimal sums, add_scaled against add and compare against
// BigDecimal's order, same_bytes and same_bytes_likely against memcmp, the direct
// entry plan (no alias choice) against which layouts may use it, and the aggregator's hint sets
// against its hash lookup.
#include "core/aggregator.hpp"
#include "core/decimal.hpp"
#include "core/entry_rules.hpp"
#include "core/same_bytes.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace ut_fast_paths_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

// numeric's value of base-10000 digits as plain text with exactly dscale fractional digits,
// built digit by digit (the independent reference).
std::string digits_text(bool negative, int weight, int dscale, const std::vector<int16_t> &d)
{
    std::string all;  // the decimal digits of sum d[i] * 10000^(weight - i), point after `point`
    char buf[8];
    for (int16_t x : d) {
        std::snprintf(buf, sizeof buf, "%04d", int(x));
        all += buf;
    }
    int point = (weight + 1) * 4;  // decimal digits before the point
    if (point > int(all.size()))
        all.append(size_t(point - int(all.size())), '0');
    if (point < 0) {
        all.insert(0, size_t(-point), '0');
        point = 0;
    }
    std::string ip = all.substr(0, size_t(point)), fp = all.substr(size_t(point));
    fp.resize(size_t(dscale), '0');  // the digits past dscale are zeros in these tests
    size_t nz = ip.find_first_not_of('0');
    ip = nz == std::string::npos ? "0" : ip.substr(nz);
    std::string out = ip + (dscale > 0 ? "." + fp : "");
    bool zero = out.find_first_not_of("0.") == std::string::npos;
    return (negative && !zero ? "-" : "") + out;
}

std::string sum_text(const Decimal &d)
{
    DecimalSum s;
    s.add(d);
    return s.to_string();
}

}  // namespace

TEST(FastDecode, InlineAndWideAgreeWithTheDigits)
{
    struct Case {
        bool negative;
        int weight, dscale;
        std::vector<int16_t> digits;
    };
    const std::vector<Case> cases = {
        {false, -1, 6, {1234, 5600}},           // 0.123456 (the 6-decimal costs)
        {true, -1, 6, {1234, 5600}},            // -0.123456
        {false, -2, 6, {100}},                  // 0.000001
        {false, 0, 2, {12, 3400}},              // 12.34
        {false, 3, 0, {9999, 9999, 9999, 9999}},  // 16 nines: the widest inline value
        {false, 1, 10, {1, 2, 3, 4}},           // 10002.00030004
        {false, -9, 36, {1}},                   // 1e-36: the last inline scale
        {false, -10, 40, {1}},                  // 1e-40: past it, the wide path
        {false, 4, 0, {1, 2, 3, 4, 5}},         // five digits: the wide path
        {false, 2, 0, {5}},                     // 500000000: integer zeros implied by weight
        {true, 0, 0, {7}},
        // 1234567890123456789012340000000000000000 (40 digits): six digits and four integer
        // zeros of 10000, past 128 bits (the wide path once multiplied them out and overflowed).
        {false, 9, 0, {1234, 5678, 9012, 3456, 7890, 1234}},
        {false, 8, 0, {1, 2, 3, 4, 5}},  // 5 digits + 4 zeros: 10^36 range, still 128-bit
    };
    for (const Case &c : cases) {
        Decimal inline_d, wide_d;
        Decimal::from_base10000(inline_d, c.negative, c.weight, c.dscale, c.digits.data(), int(c.digits.size()));
        Decimal::from_base10000_wide(wide_d, c.negative, c.weight, c.dscale, c.digits.data(), int(c.digits.size()));
        std::string want = digits_text(c.negative, c.weight, c.dscale, c.digits);
        EXPECT_EQ(sum_text(inline_d), want) << want;
        EXPECT_EQ(sum_text(wide_d), want) << want;
    }
}

TEST(FastSum, SameScaleAddsMatchBigDecimal)
{
    // 10^35 - 1 at scale 8 added until the 128-bit sum overflows: the fast path must hand over
    // to the exact path without losing what it held.
    Decimal v;
    v.mantissa = (__int128)99999999999999999ll * 1000000000000000000ll;
    v.scale = 8;
    v.dscale = 8;
    DecimalSum fast;
    BigDecimal ref = BigDecimal::from_int128(0, 8, std::pmr::get_default_resource());
    for (int i = 0; i < 200; i++) {
        fast.add(v);
        ref.add(BigDecimal::from_int128(v.mantissa, 8, std::pmr::get_default_resource()));
    }
    EXPECT_EQ(fast.to_string(), ref.to_string(8));
    // Then negative values of the same scale, down through zero.
    v.mantissa = -v.mantissa;
    for (int i = 0; i < 400; i++) {
        fast.add(v);
        ref.add(BigDecimal::from_int128(v.mantissa, 8, std::pmr::get_default_resource()));
    }
    EXPECT_EQ(fast.to_string(), ref.to_string(8));
    EXPECT_EQ(fast.to_string()[0], '-');
}

TEST(FastSum, DisplayScaleStillTheLargest)
{
    // Same scale (8: two base-10000 digits after the point), different display scales.
    Decimal a, b;
    const int16_t d1[] = {1200}, d2[] = {1234, 5600};
    Decimal::from_base10000(a, false, -1, 2, d1, 1);  // 0.12, scale 4
    Decimal::from_base10000(b, false, -1, 6, d2, 2);  // 0.123456, scale 8
    DecimalSum s;
    s.add(b);
    s.add(b);
    EXPECT_EQ(s.to_string(), "0.246912");
    s.add(a);
    EXPECT_EQ(s.to_string(), "0.366912");
    DecimalSum t;
    t.add(a);
    t.add(a);
    EXPECT_EQ(t.to_string(), "0.24");
}

TEST(FastSum, AddScaledIsAddOfTheDecimal)
{
    // Round 7 of issue 13: the read path adds a cost as (mantissa, scale, dscale) without a
    // Decimal. Against add() of the same values as Decimals, over scales that raise the sum's
    // and scales below it (0..36, up to 18 apart and more), mantissas up to int64's edges (the
    // sum overflowing 128 bits onto the exact path) and both signs: the same text after every
    // add, and compare() of the two sums 0.
    const int64_t mantissas[] = {0, 1, -1, 7, 123456, -99999999, 1000000000000000000LL, INT64_MAX, INT64_MIN + 1,
                                 -4611686018427387904LL};
    const int scales[] = {8, 4, 0, 12, 8, 36, 16, 20, 4, 24, 28, 8, 0, 32};
    for (int start = 0; start < 14; start++) {
        DecimalSum via_add, via_scaled;
        int k = 0;
        for (int round = 0; round < 40; round++) {
            for (int64_t m : mantissas) {
                int scale = scales[(start + k) % 14], dscale = scale + (k % 3) - 1;
                k++;
                if (dscale < 0)
                    dscale = 0;
                Decimal d;
                d.mantissa = m;
                d.scale = scale;
                d.dscale = dscale;
                via_add.add(d);
                via_scaled.add_scaled(m, scale, dscale);
                ASSERT_EQ(via_scaled.to_string(), via_add.to_string()) << start << " " << k;
                ASSERT_EQ(via_scaled.compare(via_add), 0);
                ASSERT_EQ(via_scaled.dscale(), via_add.dscale());
            }
        }
    }
}

TEST(FastSum, CompareAgreesWithBigDecimalAcrossScales)
{
    // The inline compare (two sums at one scale) and the general one (scales differ, or a sum on
    // the exact path), against BigDecimal's order of the same values.
    const int64_t mantissas[] = {0, 1, -1, 5, 50, 500000, -500000, INT64_MAX, INT64_MIN + 1};
    const int scales[] = {0, 1, 4, 8, 18};
    std::vector<DecimalSum> sums;
    std::vector<BigDecimal> refs;
    for (int64_t m : mantissas)
        for (int scale : scales) {
            DecimalSum s;
            s.add_scaled(m, scale, scale);
            sums.push_back(s);
            refs.push_back(BigDecimal::from_int128(m, scale, std::pmr::get_default_resource()));
        }
    // One sum past 128 bits (the exact path), one just below.
    DecimalSum big, near;
    for (int i = 0; i < 40; i++) {
        big.add_scaled(INT64_MAX, 0, 0);
        near.add_scaled(INT64_MAX, 18, 18);
    }
    Decimal huge;
    huge.mantissa = (__int128)1 << 126;
    big.add(huge);
    big.add(huge);
    BigDecimal big_ref = BigDecimal::from_int128((__int128)1 << 126, 0, std::pmr::get_default_resource());
    big_ref.add(big_ref);
    big_ref.add(BigDecimal::from_int128((__int128)INT64_MAX * 40, 0, std::pmr::get_default_resource()));
    sums.push_back(big);
    refs.push_back(big_ref);
    sums.push_back(near);
    refs.push_back(BigDecimal::from_int128((__int128)INT64_MAX * 40, 18, std::pmr::get_default_resource()));
    for (size_t i = 0; i < sums.size(); i++)
        for (size_t j = 0; j < sums.size(); j++) {
            int want = refs[i].compare(refs[j]);
            want = (want > 0) - (want < 0);
            int got = sums[i].compare(sums[j]);
            ASSERT_EQ((got > 0) - (got < 0), want) << i << " " << j;
        }
}

TEST(SameBytes, AgreesWithMemcmpOnEveryLengthAndDifference)
{
    // Every length to 200 (same_bytes_likely's straight-line cases end at 32, 64 and 128 bytes),
    // in buffers of exactly n bytes, so the sanitizer build sees a read past either range.
    for (size_t n = 0; n <= 200; n++) {
        std::unique_ptr<char[]> pa(new char[n ? n : 1]), pb(new char[n ? n : 1]);
        char *a = pa.get(), *b = pb.get();
        for (size_t i = 0; i < n; i++)
            a[i] = b[i] = char('a' + i % 26);
        EXPECT_TRUE(same_bytes(a, b, n)) << n;
        EXPECT_TRUE(same_bytes_likely(a, b, n)) << n;
        for (size_t at = 0; at < n; at++) {
            b[at] ^= 1;
            EXPECT_EQ(same_bytes(a, b, n), std::memcmp(a, b, n) == 0) << n << " " << at;
            EXPECT_FALSE(same_bytes(a, b, n)) << n << " " << at;
            EXPECT_FALSE(same_bytes_likely(a, b, n)) << n << " " << at;
            b[at] ^= 0x80;  // another difference at the same place
            EXPECT_FALSE(same_bytes_likely(a, b, n)) << n << " " << at;
            b[at] ^= 0x80 ^ 1;
        }
    }
}

// Round 13 of issue 13: same_short_bytes (the identity's compare: its own cases to 32 bytes,
// same_bytes_likely past them) and RememberedBytes (a remembered layout: every length to
// kMax, the jump into its straight-line run at each step count and the loop past eight steps),
// against memcmp, in buffers of exactly n bytes (the sanitizer build sees a read past either).
TEST(SameBytes, ShortAndRememberedAgreeWithMemcmpOnEveryLengthAndDifference)
{
    auto remembered = std::make_unique<RememberedBytes>();
    for (size_t n = 0; n <= RememberedBytes::kMax; n++) {
        std::unique_ptr<char[]> pa(new char[n ? n : 1]), pb(new char[n ? n : 1]);
        char *a = pa.get(), *b = pb.get();
        for (size_t i = 0; i < n; i++)
            a[i] = b[i] = char('a' + i % 26);
        remembered->set(a, n);
        ASSERT_EQ(remembered->size(), n);
        EXPECT_EQ(std::memcmp(remembered->data(), a, n), 0) << n;
        EXPECT_TRUE(same_short_bytes(a, b, n)) << n;
        EXPECT_TRUE(remembered->same(b)) << n;
        for (size_t at = 0; at < n; at++) {
            for (char flip : {char(1), char(0x80)}) {
                b[at] ^= flip;
                EXPECT_EQ(std::memcmp(a, b, n) == 0, false);
                EXPECT_FALSE(same_short_bytes(a, b, n)) << n << " " << at;
                EXPECT_FALSE(same_short_bytes(b, a, n)) << n << " " << at;
                EXPECT_FALSE(remembered->same(b)) << n << " " << at;
                b[at] ^= flip;
            }
        }
        EXPECT_TRUE(remembered->same(b)) << n;
    }
}

// RememberedBytes::same_n at the sizes the read path compiles (a dense5 / dense7 object's header
// and key JEntries, LiteMaaS' entry and "metrics" key bytes) and at 16, against memcmp.
template <size_t kN>
static void expect_same_n_agrees()
{
    std::unique_ptr<char[]> pa(new char[kN]), pb(new char[kN]);
    char *a = pa.get(), *b = pb.get();
    for (size_t i = 0; i < kN; i++)
        a[i] = b[i] = char('A' + i % 31);
    auto remembered = std::make_unique<RememberedBytes>();
    remembered->set(a, kN);
    EXPECT_TRUE(remembered->same_n<kN>(b)) << kN;
    for (size_t at = 0; at < kN; at++) {
        for (char flip : {char(1), char(0x80)}) {
            b[at] ^= flip;
            EXPECT_FALSE(remembered->same_n<kN>(b)) << kN << " " << at;
            EXPECT_EQ(remembered->same_n<kN>(b), remembered->same(b)) << kN << " " << at;
            b[at] ^= flip;
        }
    }
    EXPECT_TRUE(remembered->same_n<kN>(b)) << kN;
}

TEST(SameBytes, RememberedAtFixedSizesAgreesWithMemcmp)
{
    expect_same_n_agrees<16>();
    expect_same_n_agrees<24>();
    expect_same_n_agrees<28>();
    expect_same_n_agrees<32>();
    expect_same_n_agrees<36>();
    expect_same_n_agrees<93>();
    expect_same_n_agrees<200>();
}

namespace {

// same_bytes_n<kN> against memcmp, each range in a heap block of exactly kN bytes (a read past
// it is the sanitizers' error): equal ranges, and one bit flipped at every position.
template <size_t kN>
void expect_same_bytes_n_agrees()
{
    std::vector<char> a(kN), b(kN);
    for (size_t i = 0; i < kN; i++)
        a[i] = b[i] = char('A' + (i * 7) % 53);
    EXPECT_TRUE(same_bytes_n<kN>(a.data(), b.data())) << kN;
    for (size_t at = 0; at < kN; at++) {
        for (char flip : {char(1), char(0x80)}) {
            b[at] ^= flip;
            EXPECT_FALSE(same_bytes_n<kN>(a.data(), b.data())) << kN << " " << at;
            EXPECT_EQ(same_bytes_n<kN>(a.data(), b.data()), std::memcmp(a.data(), b.data(), kN) == 0);
            b[at] ^= flip;
        }
    }
    EXPECT_TRUE(same_bytes_n<kN>(b.data(), a.data())) << kN;
}

}  // namespace

TEST(SameBytes, FixedSizesAgreeWithMemcmp)
{
    expect_same_bytes_n_agrees<16>();
    expect_same_bytes_n_agrees<17>();
    expect_same_bytes_n_agrees<31>();
    expect_same_bytes_n_agrees<32>();
    expect_same_bytes_n_agrees<33>();
    expect_same_bytes_n_agrees<36>();
    expect_same_bytes_n_agrees<48>();
    expect_same_bytes_n_agrees<64>();
    expect_same_bytes_n_agrees<93>();
}

namespace {

// A view of keys only, enough for plan_entry.
struct KeysView {
    std::vector<std::string> keys;
    uint32_t size() const { return uint32_t(keys.size()); }
    std::string_view key(uint32_t i) const { return keys[i]; }
};

}  // namespace

TEST(DirectPlan, OnlyLayoutsWithNothingToChoose)
{
    EntryPlan plan;
    plan_entry(KeysView{{"totalCost", "totalTokens", "promptTokens", "totalRequests", "userId"}}, plan);
    ASSERT_EQ(plan.direct_count, 4);
    for (int r = 1; r < plan.direct_count; r++)
        EXPECT_LT(plan.direct[r - 1].member, plan.direct[r].member);  // front to back
    EXPECT_EQ(plan.direct[0].member, 0);
    EXPECT_EQ(plan.direct[0].metric, kCost);
    EXPECT_EQ(plan.direct[3].metric, kRequests);
    // Two aliases of one metric: which one counts depends on nulls, entry by entry.
    plan_entry(KeysView{{"cost", "totalCost", "requests"}}, plan);
    EXPECT_EQ(plan.direct_count, -1);
    // A "metrics" member: only what is inside counts.
    plan_entry(KeysView{{"metrics", "requests"}}, plan);
    EXPECT_EQ(plan.direct_count, -1);
    plan_entry(KeysView{{"userId"}}, plan);
    EXPECT_EQ(plan.direct_count, 0);
}

TEST(HintSets, ObjectsTakingTurnsFindTheirKeys)
{
    // Ten kinds of object (more than the hint sets) with overlapping, shifting key lists, read
    // in turns: every key lands in its own slot, the same one find() gives, whatever the hints.
    KeyAggregator agg;
    std::vector<std::vector<std::string>> kinds;
    for (int k = 0; k < 10; k++) {
        std::vector<std::string> keys;
        for (int u = k; u < 200; u += 1 + k % 3)
            keys.push_back("user-" + std::to_string(u));
        kinds.push_back(keys);
    }
    std::map<std::string, int> want;
    for (int round = 0; round < 30; round++) {
        const auto &keys = kinds[size_t((round * 7) % 10)];
        for (uint32_t p = 0; p < keys.size(); p++) {
            Slot &s = agg.find_or_insert_at(keys[p].data(), keys[p].size(), p);
            ASSERT_EQ(s.key_view(), keys[p]);
            s.totals.counts[0]++;
            want[keys[p]]++;
        }
    }
    EXPECT_EQ(agg.size(), want.size());
    for (const auto &[key, n] : want) {
        const Slot *s = agg.find(key.data(), key.size());
        ASSERT_NE(s, nullptr) << key;
        EXPECT_EQ(s->totals.counts[0], n) << key;
    }
}

}  // namespace ut_fast_paths_test
