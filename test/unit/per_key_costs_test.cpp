// Round 14 of issue 13, the per-key costs: a first object's room (KeyAggregator::
// reserve_from_first_object), hint sets sized a row at a time, and a partial read into a
// state that holds its keys in another order (deserialize_breakdown_partial's next-slot
// guess). Each result is checked against sums kept apart from the aggregator (std::map).
#include "core/breakdown_partial.hpp"
#include "core/error.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace ut_per_key_costs_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

std::string key_of(int u)
{
    char b[16];
    std::snprintf(b, sizeof b, "u%09d", u);  // ten bytes, as the shapes' ids
    return b;
}

// Key list `kind` of `kinds`: the users u with u % kinds == kind, ascending (sparse rows).
std::vector<std::string> list_of(int kind, int kinds, int users)
{
    std::vector<std::string> out;
    for (int u = kind; u < users; u += kinds)
        out.push_back(key_of(u));
    return out;
}

// Reads one row (its keys at positions 0 ..) into p: request count `r` on day `day`.
void read_row(BreakdownPartial &p, const std::vector<std::string> &keys, int day, int64_t r,
              std::map<std::string, std::vector<int64_t>> &want)
{
    for (uint32_t i = 0; i < keys.size(); i++) {
        Slot &s = p.agg.find_or_insert_at(keys[i].data(), keys[i].size(), i);
        s.totals.counts[0] += r;
        s.totals.cost.add_scaled(r * 3, 2, 2);
        BreakdownPartial::mark_day(s, day);
        std::vector<int64_t> &w = want[keys[i]];
        w.resize(3);
        w[0] += r;
        w[1]++;
        w[2] = std::max<int64_t>(w[2], day);
    }
}

void expect_sums(const BreakdownPartial &p, const std::map<std::string, std::vector<int64_t>> &want)
{
    ASSERT_FALSE(p.failed);
    ASSERT_EQ(p.agg.size(), want.size());
    for (const auto &[key, w] : want) {
        const Slot *s = p.agg.find(key.data(), key.size());
        ASSERT_NE(s, nullptr) << key;
        EXPECT_EQ(s->totals.counts[0], w[0]) << key;
        EXPECT_EQ(s->totals.active_days, w[1]) << key;
        EXPECT_EQ(s->totals.last_day, w[2]) << key;
        DecimalSum cost;
        cost.add_scaled(w[0] * 3, 2, 2);
        EXPECT_EQ(s->totals.cost.to_string(), cost.to_string()) << key;
    }
}

}  // namespace

TEST(PerKeyCosts, FirstObjectRoomKeepsTheSlotsInPlace)
{
    // Five key lists in turns (the sparse year's pattern): the first row's room holds them all,
    // so the slots never move; every key's slot is find()'s, and a second pass hashes nothing.
    BreakdownPartial p(std::pmr::get_default_resource());
    std::map<std::string, std::vector<int64_t>> want;
    std::vector<std::vector<std::string>> lists;
    for (int k = 0; k < 5; k++)
        lists.push_back(list_of(k, 5, 3000));
    p.agg.reserve_from_first_object(lists[0].size());
    EXPECT_GE(p.agg.slots().capacity(), 3000u);
    const Slot *before = p.agg.slots().data();
    for (int d = 0; d < 5; d++)
        read_row(p, lists[size_t(d)], d, d + 1, want);
    EXPECT_EQ(p.agg.slots().data(), before);
    uint64_t hashed = p.agg.hashed();
    EXPECT_EQ(hashed, 3000u - 5);  // each key once at its first insert (position 0's: not counted)
    for (int d = 5; d < 10; d++)
        read_row(p, lists[size_t(d % 5)], d, 2, want);
    EXPECT_EQ(p.agg.hashed(), hashed);
    expect_sums(p, want);
    // Past the room: the slots move, nothing is lost.
    read_row(p, list_of(0, 1, 30000), 10, 1, want);
    expect_sums(p, want);
    // A zero-key first object and a huge one's cap: room stays bounded, the table usable.
    KeyAggregator small;
    small.reserve_from_first_object(0);
    EXPECT_EQ(small.find_or_insert("a", 1).key_view(), "a");
}

TEST(PerKeyCosts, HintSetsGrowARowAtATime)
{
    // A list that grows by a key or a run of keys each row: every position's hint still found
    // (no key hashed twice), with hint sets resized by known_keys and by geometric steps.
    KeyAggregator agg;
    std::vector<std::string> keys;
    uint64_t inserts = 0;
    for (int row = 0; row < 40; row++) {
        for (int extra = 0; extra < row % 7 + 1; extra++)
            keys.push_back(key_of(int(keys.size())));
        for (uint32_t i = 0; i < keys.size(); i++)
            agg.find_or_insert_at(keys[i].data(), keys[i].size(), i);
        inserts = keys.size() - 1;  // position 0's lookup is not counted
        EXPECT_EQ(agg.hashed(), inserts) << row;  // only the new keys (at the end) hashed
    }
    for (uint32_t i = 0; i < keys.size(); i++) {
        const Slot &s = agg.find_or_insert_at(keys[i].data(), keys[i].size(), i);
        EXPECT_EQ(&s, agg.find(keys[i].data(), keys[i].size()));
    }
}

TEST(PerKeyCosts, KeysInAnotherOrderCombineAsByLookup)
{
    // The leader read the lists from kind 0, the worker from kind 3 (a rotation), plus keys the
    // leader never saw and a shuffled run: the worker's buffer read into the leader's state is
    // the sum of both, whatever slot each key's guess tried first.
    const int kinds = 5, users = 1000;
    BreakdownPartial leader(std::pmr::get_default_resource()), worker(std::pmr::get_default_resource()),
        twin(std::pmr::get_default_resource());
    std::map<std::string, std::vector<int64_t>> lw, ww, tw;
    for (int d = 0; d < 10; d += 2)
        read_row(leader, list_of(d / 2 % kinds, kinds, users), d, 1, lw);
    std::vector<std::string> odd;  // new keys, then old ones out of order
    for (int u = users; u < users + 7; u++)
        odd.push_back(key_of(u));
    for (int u = 0; u < 50; u++)
        odd.push_back(key_of((u * 37) % users));
    for (int d = 1; d < 10; d += 2)
        read_row(worker, list_of((d / 2 + 3) % kinds, kinds, users), d, 5, ww);
    read_row(worker, odd, 11, 2, ww);
    // A state in the worker's own order (every guess right), on other days.
    for (int d = 1; d < 10; d += 2)
        read_row(twin, list_of((d / 2 + 3) % kinds, kinds, users), d + 20, 1, tw);
    read_row(twin, odd, 40, 1, tw);
    auto sum = [](std::map<std::string, std::vector<int64_t>> a, const std::map<std::string, std::vector<int64_t>> &b) {
        for (const auto &[key, w] : b) {
            std::vector<int64_t> &x = a[key];
            x.resize(3);
            x[0] += w[0];
            x[1] += w[1];
            x[2] = std::max(x[2], w[2]);
        }
        return a;
    };
    std::string bytes = serialize_breakdown_partial(worker);
    deserialize_breakdown_partial(bytes.data(), bytes.size(), leader);
    expect_sums(leader, sum(lw, ww));
    deserialize_breakdown_partial(bytes.data(), bytes.size(), twin);
    expect_sums(twin, sum(tw, ww));
}

TEST(PerKeyCosts, AKeyTwiceIsRefusedOnTheGuessedPath)
{
    // Leader slots a, b, c; a buffer b, c, a, b: the last b is the slot after a's (the guess),
    // met before in this buffer: corrupt, as when it is found by its hash.
    BreakdownPartial leader(std::pmr::get_default_resource()), worker(std::pmr::get_default_resource());
    std::map<std::string, std::vector<int64_t>> want, ignored;
    read_row(leader, {"a", "b", "c"}, 0, 1, want);
    read_row(worker, {"b", "c", "a"}, 1, 1, ignored);
    std::string bytes = serialize_breakdown_partial(worker);
    // Each key's record here: 4 + 1 key byte + fixed fields + the cost's 128-bit parts.
    const size_t header = 10, record = 4 + 1 + 8 * kCountMetrics + 4 + 4 + 1 + 24;
    ASSERT_EQ(bytes.size(), header + 3 * record);
    std::string dup = bytes + bytes.substr(header, record);  // b again
    uint32_t n = 4;
    std::memcpy(&dup[6], &n, 4);
    bool refused = false;
    try {
        deserialize_breakdown_partial(dup.data(), dup.size(), leader);
    } catch (const Error &e) {
        refused = std::string(e.sqlstate) == "22P03";
    }
    EXPECT_TRUE(refused);
    // The buffer as it was reads fine into a fresh copy of the leader.
    BreakdownPartial again(std::pmr::get_default_resource());
    read_row(again, {"a", "b", "c"}, 0, 1, ignored);
    deserialize_breakdown_partial(bytes.data(), bytes.size(), again);
    for (const char *k : {"a", "b", "c"})
        EXPECT_EQ(again.agg.find(k, 1)->totals.active_days, 2) << k;
}

}  // namespace ut_per_key_costs_test
