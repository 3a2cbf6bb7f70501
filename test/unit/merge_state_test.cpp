// The ducache_merge wire format (core/merge_state): the layout written byte by byte as the
// header documents it, round trips, and every malformed buffer refused with 22P03.
#include "core/aggregator.hpp"
#include "core/error.hpp"
#include "core/merge_state.hpp"
#include "core/metrics.hpp"
#include "core/number.hpp"

#include "aggregator_fixture.hpp"

#include <gtest/gtest.h>

#include <climits>
#include <cstring>
#include <string>

namespace ut_merge_state_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

using ut_aggregator_fixture::add;  // test/unit/aggregator_fixture.hpp

template <typename T>
void put(std::string &out, T v)
{
    out.append(reinterpret_cast<const char *>(&v), sizeof v);
}

// One key as the header's layout comment describes it, written without the serializer.
void put_key(std::string &out, const std::string &key, const int64_t (&counts)[kCountMetrics], int32_t days,
             const std::string &cost)
{
    put<uint32_t>(out, uint32_t(key.size()));
    out += key;
    for (int64_t c : counts)
        put<int64_t>(out, c);
    put<int32_t>(out, days);
    put<uint32_t>(out, uint32_t(cost.size()));
    out += cost;
}

std::string state_with(uint8_t version, int32_t rows, uint32_t keys, const std::string &body)
{
    std::string out;
    put<uint8_t>(out, version);
    put<int32_t>(out, rows);
    put<uint32_t>(out, keys);
    return out + body;
}

std::string detail_of(const std::string &bytes)
{
    KeyAggregator agg;
    try {
        deserialize_merge_state(bytes.data(), bytes.size(), agg);
    } catch (const Error &e) {
        EXPECT_STREQ(e.sqlstate, "22P03");
        EXPECT_EQ(e.message, "invalid ducache_merge state");
        return e.detail;
    }
    ADD_FAILURE() << "no error";
    return {};
}

}  // namespace

TEST(MergeState, LayoutIsTheDocumentedOne)
{
    KeyAggregator a;
    add(a, "k", 3, "1.5", 7);
    MergeStateHeader h;
    h.rows = 258;
    std::string body;
    put_key(body, "k", {3, 30, 0, 0, 3, 0}, 1, "1.5");
    EXPECT_EQ(serialize_merge_state(a, h), state_with(2, 258, 1, body));
    EXPECT_EQ(kMergeStateVersion, 2);
}

TEST(MergeState, RoundTrip)
{
    KeyAggregator a;
    add(a, "x", 1, "0.1", 1);
    add(a, "x", 1, "-0.35", 2);
    add(a, "ключ", 7, "1e30", 2);
    MergeStateHeader h;
    h.rows = 5;
    std::string bytes = serialize_merge_state(a, h);
    KeyAggregator b;
    EXPECT_EQ(deserialize_merge_state(bytes.data(), bytes.size(), b).rows, 5);
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b.find("x", 1)->totals.cost.to_string(), "-0.25");
    EXPECT_EQ(b.find("x", 1)->totals.active_days, 2);
    const std::string k = "ключ";
    EXPECT_EQ(b.find(k.data(), k.size())->totals.counts[kRequests], 7);
    EXPECT_EQ(b.find(k.data(), k.size())->totals.counts[kTotalTokens], 70);
    EXPECT_EQ(serialize_merge_state(b, h), bytes);
}

TEST(MergeState, EmptyStateAndExtremeRowCounts)
{
    for (int32_t rows : {0, 1, INT32_MAX}) {
        KeyAggregator a;
        MergeStateHeader h;
        h.rows = rows;
        std::string bytes = serialize_merge_state(a, h);
        EXPECT_EQ(bytes, state_with(2, rows, 0, ""));
        KeyAggregator b;
        EXPECT_EQ(deserialize_merge_state(bytes.data(), bytes.size(), b).rows, rows);
        EXPECT_EQ(b.size(), 0u);
    }
}

TEST(MergeState, EveryTruncationIsAnError)
{
    KeyAggregator a;
    add(a, "x", 1, "0.1", 1);
    add(a, "yy", 2, "2.5", 1);
    std::string bytes = serialize_merge_state(a, MergeStateHeader{3});
    for (size_t n = 0; n < bytes.size(); n++)
        EXPECT_EQ(detail_of(bytes.substr(0, n)).empty(), false) << "truncated at " << n;
    EXPECT_EQ(detail_of(bytes.substr(0, 3)), "Serialized state: the buffer ends early.");
    EXPECT_EQ(detail_of(bytes + "x"), "Serialized state: trailing bytes.");
}

TEST(MergeState, OtherVersionsAreRefused)
{
    // Version 1 had no row count in the header: its key count sat where rows sit now.
    std::string body;
    put_key(body, "k", {1, 0, 0, 0, 0, 0}, 1, "1");
    std::string v1;
    put<uint8_t>(v1, 1);
    put<uint32_t>(v1, 1);
    v1 += body;
    put<int32_t>(v1, 1);  // the row count the adapter used to append
    EXPECT_EQ(detail_of(v1), "Serialized state: version 1 is not the supported version 2.");
    EXPECT_EQ(detail_of(state_with(3, 0, 0, "")), "Serialized state: version 3 is not the supported version 2.");
    EXPECT_EQ(detail_of(state_with(0, 0, 0, "")), "Serialized state: version 0 is not the supported version 2.");
}

TEST(MergeState, MalformedFieldsAreRefused)
{
    EXPECT_EQ(detail_of(state_with(2, -1, 0, "")), "Serialized state: negative row count -1.");
    EXPECT_EQ(detail_of(state_with(2, 0, 1000, "")), "Serialized state: key count 1000 exceeds the buffer.");

    std::string bad_cost, bad_days, dup;
    put_key(bad_cost, "k", {1, 0, 0, 0, 0, 0}, 1, "1.2.3");
    EXPECT_EQ(detail_of(state_with(2, 1, 1, bad_cost)), "Serialized state: bad values for key 0.");
    put_key(bad_days, "k", {1, 0, 0, 0, 0, 0}, -2, "1");
    EXPECT_EQ(detail_of(state_with(2, 1, 1, bad_days)), "Serialized state: bad values for key 0.");
    put_key(dup, "k", {1, 0, 0, 0, 0, 0}, 1, "1");
    put_key(dup, "k", {2, 0, 0, 0, 0, 0}, 1, "2");
    EXPECT_EQ(detail_of(state_with(2, 2, 2, dup)), "Serialized state: duplicate key 1.");
}

}  // namespace ut_merge_state_test
