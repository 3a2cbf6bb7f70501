// core/ordered_lookup.hpp: whatever the order of the keys, each lookup returns the
// aggregator's own slot of its key (checked against the hash table's find); keys in object
// order are found without hashing once seen.
#include "core/aggregator.hpp"
#include "core/ordered_lookup.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

namespace ut_ordered_lookup_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

bool jsonb_less(const std::string &a, const std::string &b) { return jsonb_key_compare(a, b) < 0; }

// Looks every key of every object up and checks the slot against the hash table.
void check_objects(const std::vector<std::vector<std::string>> &objects, OrderedLookup::Compare cmp,
                   uint64_t *hashed = nullptr)
{
    KeyAggregator agg;
    OrderedLookup look(agg, cmp, std::pmr::get_default_resource());
    for (const auto &keys : objects) {
        look.begin();
        for (const std::string &k : keys) {
            Slot &s = look.find_or_insert(k);
            ASSERT_EQ(s.key_view(), k);
            s.totals.counts[kRequests]++;
            ASSERT_EQ(agg.find(k.data(), k.size()), &s) << k;
        }
    }
    // Each key has one slot, counted once per object holding it.
    std::vector<std::string> all;
    for (const auto &keys : objects)
        all.insert(all.end(), keys.begin(), keys.end());
    std::sort(all.begin(), all.end());
    for (size_t i = 0; i < all.size();) {
        size_t j = i;
        while (j < all.size() && all[j] == all[i])
            j++;
        const Slot *s = agg.find(all[i].data(), all[i].size());
        ASSERT_NE(s, nullptr);
        EXPECT_EQ(s->totals.counts[kRequests], int64_t(j - i)) << all[i];
        i = j;
    }
    all.erase(std::unique(all.begin(), all.end()), all.end());
    EXPECT_EQ(agg.size(), all.size());
    if (hashed)
        *hashed = look.hashed();
}

}  // namespace

TEST(OrderedLookup, JsonbKeyOrder)
{
    EXPECT_LT(jsonb_key_compare("zz", "aaa"), 0);  // shorter first
    EXPECT_GT(jsonb_key_compare("ab", "aa"), 0);
    EXPECT_EQ(jsonb_key_compare("", ""), 0);
    EXPECT_LT(jsonb_key_compare("", "a"), 0);
    EXPECT_LT(jsonb_key_compare("a\xff", "b\x01"), 0);  // bytes unsigned
    // Pairs "alias\0user": by user first, then alias.
    using namespace std::string_literals;
    EXPECT_LT(key_pair_compare("zz\0u1"s, "a\0u2"s), 0);
    EXPECT_LT(key_pair_compare("b\0u1"s, "aa\0u1"s), 0);
    EXPECT_EQ(key_pair_compare("k\0u"s, "k\0u"s), 0);
    EXPECT_LT(key_pair_compare("k\0u"s, "k\0uu"s), 0);
    EXPECT_LT(key_pair_compare("k"s, "k\0u"s), 0);  // no user sorts as the empty user
}

TEST(OrderedLookup, SortedSubsetsHashOnlyNewKeys)
{
    std::mt19937 rng(7);
    std::vector<std::string> universe;
    for (int i = 0; i < 3000; i++)
        universe.push_back("user-" + std::to_string(rng() % 100000));
    std::sort(universe.begin(), universe.end(), jsonb_less);
    universe.erase(std::unique(universe.begin(), universe.end()), universe.end());
    std::vector<std::vector<std::string>> objects;
    size_t distinct = 0;
    std::vector<bool> seen(universe.size());
    for (int o = 0; o < 40; o++) {
        std::vector<std::string> keys;
        for (size_t i = 0; i < universe.size(); i++)
            if (rng() % 100 < 85) {  // ~85 % of the users each object, as a day of a month
                keys.push_back(universe[i]);
                distinct += !seen[i];
                seen[i] = true;
            }
        objects.push_back(keys);
    }
    uint64_t hashed = 0;
    check_objects(objects, jsonb_key_compare, &hashed);
    EXPECT_EQ(hashed, distinct);  // only a key's first appearance is hashed
}

TEST(OrderedLookup, AnyOrderStillFindsTheSlot)
{
    std::mt19937 rng(11);
    std::vector<std::vector<std::string>> objects;
    for (int o = 0; o < 30; o++) {
        std::vector<std::string> keys;
        int n = int(rng() % 200);
        for (int i = 0; i < n; i++)
            keys.push_back(std::string(rng() % 4, 'k') + std::to_string(rng() % 150));
        switch (o % 3) {  // sorted, reversed, shuffled (repeats included)
        case 0: std::sort(keys.begin(), keys.end(), jsonb_less); break;
        case 1: std::sort(keys.begin(), keys.end(), [](auto &a, auto &b) { return jsonb_less(b, a); }); break;
        default: break;
        }
        objects.push_back(keys);
    }
    check_objects(objects, jsonb_key_compare);
    check_objects(objects, key_pair_compare);
}

TEST(OrderedLookup, KeyPairsInKeyTotalsOrder)
{
    // key_totals {user: {alias}}: users in JSONB order, each user's aliases in JSONB order.
    std::vector<std::string> users = {"u2", "u10", "u1", "u30"}, aliases = {"key-b", "key-a", "k"};
    std::sort(users.begin(), users.end(), jsonb_less);
    std::sort(aliases.begin(), aliases.end(), jsonb_less);
    std::vector<std::vector<std::string>> objects;
    for (int o = 0; o < 6; o++) {
        std::vector<std::string> pairs;
        for (size_t u = 0; u < users.size(); u++)
            for (size_t a = 0; a < aliases.size(); a++)
                if ((u + a + size_t(o)) % 3 != 0)
                    pairs.push_back(aliases[a] + std::string(1, '\0') + users[u]);
        objects.push_back(pairs);
    }
    uint64_t hashed = 0;
    check_objects(objects, key_pair_compare, &hashed);
    EXPECT_EQ(hashed, users.size() * aliases.size());  // each pair hashed once, on first sight
}

TEST(OrderedLookup, AKeyPlacedOutOfOrderCostsOneHash)
{
    KeyAggregator agg;
    OrderedLookup look(agg, jsonb_key_compare, std::pmr::get_default_resource());
    std::vector<std::string> sorted;
    for (int i = 100; i < 600; i++)
        sorted.push_back("k" + std::to_string(i));
    look.begin();
    for (const std::string &k : sorted)
        look.find_or_insert(k);
    look.begin();  // a new key first, out of order: placed before all the others
    look.find_or_insert("zzzzzz");
    for (const std::string &k : sorted)
        look.find_or_insert(k);
    uint64_t before = look.hashed();
    for (int round = 0; round < 3; round++) {
        look.begin();
        for (const std::string &k : sorted)
            EXPECT_EQ(&look.find_or_insert(k), agg.find(k.data(), k.size()));
        EXPECT_EQ(&look.find_or_insert("zzzzzz"), agg.find("zzzzzz", 6));
    }
    // Each sorted object: its first key hashed (the misplaced key stops the cursor), then the
    // cursor continues from that key's place; "zzzzzz" behind the cursor is hashed too.
    EXPECT_LE(look.hashed() - before, 6u);
    EXPECT_EQ(agg.size(), sorted.size() + 1);
}

}  // namespace ut_ordered_lookup_test
