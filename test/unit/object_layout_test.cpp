// KeyAggregator's whole-object hints (begin_object / known_slot_at / end_object): an object
// whose key list was read in full before under its kind's hint set takes its slots by position
// with no key comparison. Checked against find(): every key must land in its own slot,
// whatever the kinds, their turns, the evictions of hint sets, and readers that do not use
// layouts at all.
#include "core/aggregator.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace ducache::core;

// What the adapter passes: the key lengths (as JSONB's key JEntries fix them), then the bytes.
struct Layout {
    std::string lengths, bytes;
    explicit Layout(const std::vector<std::string> &keys)
    {
        for (const std::string &k : keys) {
            uint32_t n = uint32_t(k.size());
            lengths.append(reinterpret_cast<const char *>(&n), sizeof n);
            bytes += k;
        }
    }
    ObjectLayout view() const { return {lengths.data(), lengths.size(), bytes.data(), bytes.size()}; }
};

// Reads one object the way the adapter does; returns whether its layout was known.
bool read_object(KeyAggregator &agg, const std::vector<std::string> &keys, std::map<std::string, int64_t> &want)
{
    Layout layout(keys);
    bool known = false;
    for (uint32_t p = 0; p < keys.size(); p++) {
        Slot &s = p == 0 ? agg.begin_object(keys[0].data(), keys[0].size(), layout.view(), known)
                 : known ? agg.known_slot_at(p)
                         : agg.find_or_insert_at(keys[p].data(), keys[p].size(), p);
        EXPECT_EQ(s.key_view(), keys[p]) << "position " << p;
        s.totals.counts[0] += 1;
        want[keys[p]] += 1;
    }
    if (!keys.empty() && !known)
        agg.end_object(layout.view());
    return known;
}

void expect_sums(const KeyAggregator &agg, const std::map<std::string, int64_t> &want)
{
    EXPECT_EQ(agg.size(), want.size());
    for (const auto &[key, n] : want) {
        const Slot *s = agg.find(key.data(), key.size());
        ASSERT_NE(s, nullptr) << key;
        EXPECT_EQ(s->totals.counts[0], n) << key;
    }
}

std::vector<std::string> users(int from, int to, int step)
{
    std::vector<std::string> keys;
    for (int u = from; u < to; u += step)
        keys.push_back("user-" + std::to_string(u));
    return keys;
}

TEST(ObjectLayout, SameKeyListIsKnownFromTheSecondObject)
{
    KeyAggregator agg;
    std::map<std::string, int64_t> want;
    auto keys = users(0, 300, 1);
    EXPECT_FALSE(read_object(agg, keys, want));
    for (int day = 0; day < 5; day++)
        EXPECT_TRUE(read_object(agg, keys, want));
    expect_sums(agg, want);
}

TEST(ObjectLayout, AChangedKeyListWithTheSameFirstKeyIsNotKnown)
{
    KeyAggregator agg;
    std::map<std::string, int64_t> want;
    auto keys = users(0, 100, 1);
    read_object(agg, keys, want);
    auto other = keys;
    other[50] = "user-x0";  // same length, other bytes
    EXPECT_FALSE(read_object(agg, other, want));
    auto shorter = keys;
    shorter.pop_back();
    EXPECT_FALSE(read_object(agg, shorter, want));
    auto split = keys;  // the same bytes cut differently: only the lengths tell
    split[10] = "user-1";
    split[11] = "0user-11";
    EXPECT_FALSE(read_object(agg, split, want));
    EXPECT_FALSE(read_object(agg, keys, want));
    EXPECT_TRUE(read_object(agg, keys, want));
    expect_sums(agg, want);
}

TEST(ObjectLayout, KindsTakingTurnsPastTheHintSets)
{
    // Ten kinds (more than the hint sets, so sets are taken over), in turns, and now and then an
    // object read by a caller that knows nothing of layouts (its misses change the hints).
    KeyAggregator agg;
    std::map<std::string, int64_t> want;
    std::vector<std::vector<std::string>> kinds;
    for (int k = 0; k < 10; k++)
        kinds.push_back(users(k, 150 + 7 * k, 1 + k % 3));
    int known = 0;
    for (int round = 0; round < 60; round++) {
        const auto &keys = kinds[size_t((round * 7) % (round < 30 ? 5 : 10))];
        if (round % 11 == 5) {
            auto mixed = users(round, 100 + round, 2);
            for (uint32_t p = 0; p < mixed.size(); p++) {
                Slot &s = agg.find_or_insert_at(mixed[p].data(), mixed[p].size(), p);
                ASSERT_EQ(s.key_view(), mixed[p]);
                s.totals.counts[0] += 1;
                want[mixed[p]] += 1;
            }
        }
        known += read_object(agg, keys, want) ? 1 : 0;
    }
    EXPECT_GT(known, 20);  // five kinds in turns fit the sets: most of the first 30 are known
    expect_sums(agg, want);
}

TEST(ObjectLayout, AnObjectSharingAFirstKeyTakesOverTheSet)
{
    // Two key lists with one first key share a set: each invalidates the other's layout.
    KeyAggregator agg;
    std::map<std::string, int64_t> want;
    auto a = users(0, 80, 1), b = users(0, 80, 2);
    for (int round = 0; round < 6; round++) {
        EXPECT_FALSE(read_object(agg, round % 2 ? b : a, want)) << round;
    }
    EXPECT_TRUE(read_object(agg, b, want));  // the last one read
    expect_sums(agg, want);
}

}  // namespace
