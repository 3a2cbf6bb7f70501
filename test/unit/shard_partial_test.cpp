// The shards' binary partial (core/shard_partial): the wire layout as the header documents it
// (written here byte by byte, without the encoder), merges against plain std::set / sums
// computed independently, order independence, and every malformed buffer refused with 22P03.
#include "core/error.hpp"
#include "core/filters.hpp"
#include "core/metrics.hpp"
#include "core/number.hpp"
#include "core/shard_partial.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace ut_shard_partial_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

const FixedLabel kRow("a test row");

EntryValues values(int64_t requests, const char *cost, uint32_t days = 1)
{
    EntryValues v{};
    for (int m = 0; m < kCountMetrics; m++)
        v.counts[m] = 0;
    v.counts[kRequests] = requests;
    v.counts[kTotalTokens] = requests * 10;
    v.cost_seen = parse_json_number(cost, v.cost);
    v.days = days;
    return v;
}

// A shard's model partial: key -> (requests, cost, day, users, field).
struct Use {
    std::string key;
    int64_t requests;
    const char *cost;
    int32_t day;
    std::vector<std::string> users;
    std::string field;  // "" = none
};

std::string encode(PartialKind kind, const std::vector<Use> &uses)
{
    ShardPartial p(kind, std::pmr::get_default_resource());
    for (const Use &u : uses) {
        size_t i = p.index_of(u.key);
        p.add_usage(i, values(u.requests, u.cost), u.day, "aggregated_by_model", u.key, kRow);
        for (const std::string &id : u.users)
            p.add_user(i, id);
        if (!u.field.empty())
            p.saw_field(i, u.day, u.field);
    }
    return p.encode();
}

struct Row {
    int64_t requests;
    std::string cost;
    int32_t days;
    std::string provider;
    size_t users;
};

std::map<std::string, Row> merged_rows(const std::vector<std::string> &parts)
{
    ShardPartial p(PartialKind::model, std::pmr::get_default_resource());
    int k = 0;
    for (const std::string &b : parts)
        p.merge_encoded(b.data(), b.size(), ++k);
    p.finish();
    std::map<std::string, Row> out;
    for (size_t i = 0; i < p.keys().size(); i++) {
        const Slot &s = p.slot(i);
        out[std::string(s.key_view())] = {s.totals.counts[kRequests], s.totals.cost.to_string(), s.totals.active_days,
                                          std::string(p.model_provider(i)), p.extra(i).users.size()};
    }
    return out;
}

void expect_22p03(const std::string &bytes, const std::string &detail_part)
{
    ShardPartial p(PartialKind::model, std::pmr::get_default_resource());
    try {
        p.merge_encoded(bytes.data(), bytes.size(), 2);
        FAIL() << "accepted: " << detail_part;
    } catch (const Error &e) {
        EXPECT_STREQ(e.sqlstate, "22P03");
        EXPECT_EQ(e.message, "invalid ducache shard partial");
        EXPECT_NE(e.detail.find("Partial 2"), std::string::npos) << e.detail;
        EXPECT_NE(e.detail.find(detail_part), std::string::npos) << e.detail;
    }
}

template <typename T>
void put(std::string &out, T v)
{
    for (size_t b = 0; b < sizeof v; b++)
        out.push_back(char(uint64_t(v) >> (8 * b) & 0xff));
}

void put_bytes(std::string &out, const std::string &s)
{
    put<uint32_t>(out, uint32_t(s.size()));
    out += s;
}

// The header, the user dictionary and the key count.
std::string header(uint8_t version, uint8_t kind, uint32_t keys, const std::vector<std::string> &dictionary = {})
{
    std::string out = "DUSP";
    put<uint8_t>(out, version);
    put<uint8_t>(out, kind);
    put<uint16_t>(out, 0);
    put<uint32_t>(out, uint32_t(dictionary.size()));
    for (const std::string &u : dictionary)
        put_bytes(out, u);
    put<uint32_t>(out, keys);
    return out;
}

// One row key written as the layout says: counts {requests, 10 x requests (requests itself when
// that would overflow: UBSan), 0...}, its day words, its users (positions in the dictionary,
// increasing, each under 128 steps from the previous: one varint byte each).
std::string row_key(const std::string &key, int64_t requests, const std::string &cost, uint32_t first,
                    const std::vector<uint64_t> &words, const std::vector<uint32_t> &users)
{
    std::string out;
    put_bytes(out, key);
    put<uint8_t>(out, uint8_t(1 | (users.empty() ? 0 : 4)));
    int64_t tokens = requests <= INT64_MAX / 10 ? requests * 10 : requests;
    int64_t counts[kCountMetrics] = {requests, tokens, 0, 0, 0, 0};
    for (int64_t c : counts)
        put<int64_t>(out, c);
    put_bytes(out, cost);
    put<uint32_t>(out, first);
    put<uint32_t>(out, uint32_t(words.size()));
    for (uint64_t w : words)
        put<uint64_t>(out, w);
    put<uint32_t>(out, uint32_t(users.size()));
    int64_t prev = -1;
    for (uint32_t pos : users) {
        put<uint8_t>(out, uint8_t(pos - prev - 1));
        prev = pos;
    }
    put<uint32_t>(out, 0);
    return out;
}

}  // namespace

TEST(ShardPartial, EncodesTheDocumentedLayout)
{
    std::string bytes = encode(PartialKind::model, {{"gpt-4o", 3, "0.25", 70, {"u2", "u1"}, ""}});
    std::string expected = header(2, 1, 1, {"u1", "u2"}) + row_key("gpt-4o", 3, "0.25", 1, {uint64_t(1) << 6}, {0, 1});
    EXPECT_EQ(bytes, expected);
}

// Version 2: a user is written once, in the dictionary, however many keys list it; keys name
// it by position (a byte each here).
TEST(ShardPartial, EachUserIsWrittenOnce)
{
    std::vector<std::string> users;
    for (int u = 0; u < 50; u++)
        users.push_back("0c4a4359-user-" + std::to_string(1000 + u));
    std::vector<Use> uses;
    for (const char *model : {"m1", "m2", "m3", "m4"})
        uses.push_back({model, 1, "1", 0, users, ""});
    std::string bytes = encode(PartialKind::model, uses);
    for (const std::string &u : users) {
        size_t at = bytes.find(u);
        ASSERT_NE(at, std::string::npos) << u;
        EXPECT_EQ(bytes.find(u, at + 1), std::string::npos) << u;
    }
    auto rows = merged_rows({bytes, bytes});
    for (const char *model : {"m1", "m2", "m3", "m4"})
        EXPECT_EQ(rows[model].users, users.size());
}

// Users objects read key by key (the shard's walk along the key's previous object): the set
// is the union of the objects whatever their order, users coming and going between them.
TEST(ShardPartial, ObjectUsersWalkKeepsTheUnion)
{
    std::vector<std::vector<std::string>> objects = {
        {"u1", "u3", "u5", "u10"}, {"u1", "u2", "u5", "u10", "u11"}, {"u5"}, {}, {"u10", "u5", "u1", "u7"},
        {"u0", "u1", "u3", "u5", "u9", "u10", "u12"}, {"u3", "u3"}};
    ShardPartial p(PartialKind::model, std::pmr::get_default_resource());
    size_t a = p.index_of("a"), b = p.index_of("b");
    std::set<std::string> expected;
    for (const auto &object : objects) {
        for (size_t i : {a, b}) {
            p.begin_object_users(i);
            for (const std::string &u : object)
                p.add_object_user(i, u);
            p.end_object_users(i);
        }
        expected.insert(object.begin(), object.end());
    }
    for (size_t i : {a, b}) {
        std::set<std::string> got;
        for (uint32_t id : p.extra(i).users)
            got.insert(std::string(p.user(id)));
        EXPECT_EQ(got, expected);
        EXPECT_EQ(p.extra(i).users.size(), expected.size());  // each once
    }
}

TEST(ShardPartial, MergeEqualsIndependentSums)
{
    // Two shards: the same model on overlapping days, a user in both (a home day on shard 0
    // and a split day on shard 1), a field on different days.
    std::vector<Use> a = {{"m1", 2, "0.10", 0, {"u1", "u2"}, "openai"}, {"m1", 1, "0.005", 3, {"u1"}, ""},
                          {"m2", 7, "1", 5, {}, ""}};
    std::vector<Use> b = {{"m1", 4, "0.3", 3, {"u1", "u3"}, "azure"}, {"m1", 1, "2.5", 200, {"u4"}, ""}};
    // The reference: plain sets and exact sums written by hand.
    std::map<std::string, std::set<int32_t>> days;
    std::map<std::string, std::set<std::string>> users;
    for (const auto *side : {&a, &b})
        for (const Use &u : *side) {
            days[u.key].insert(u.day);
            users[u.key].insert(u.users.begin(), u.users.end());
        }
    for (auto order : {std::vector<std::string>{encode(PartialKind::model, a), encode(PartialKind::model, b)},
                       std::vector<std::string>{encode(PartialKind::model, b), encode(PartialKind::model, a)}}) {
        auto rows = merged_rows(order);
        ASSERT_EQ(rows.size(), 2u);
        EXPECT_EQ(rows["m1"].requests, 8);
        EXPECT_EQ(rows["m1"].cost, "2.905");  // 0.10 + 0.005 + 0.3 + 2.5, scale 3
        EXPECT_EQ(rows["m1"].days, int32_t(days["m1"].size()));
        EXPECT_EQ(rows["m1"].users, users["m1"].size());
        EXPECT_EQ(rows["m1"].provider, "azure");  // day 3 is later than day 0
        EXPECT_EQ(rows["m2"].cost, "1");
        EXPECT_EQ(rows["m2"].days, 1);
        EXPECT_EQ(rows["m2"].provider, std::string(provider_from_name("m2")));
    }
}

TEST(ShardPartial, ReEncodingAMergeIsStable)
{
    std::string a = encode(PartialKind::model, {{"k", 1, "0.5", 64, {"x"}, "p"}, {"j", 2, "3", 1000, {}, ""}});
    ShardPartial p(PartialKind::model, std::pmr::get_default_resource());
    p.merge_encoded(a.data(), a.size(), 1);
    std::string again = p.encode();
    ShardPartial q(PartialKind::model, std::pmr::get_default_resource());
    q.merge_encoded(again.data(), again.size(), 1);
    EXPECT_EQ(q.encode(), again);
    EXPECT_EQ(again.size(), a.size());
}

TEST(ShardPartial, DayBitsUniteAcrossWordsAndRollupMasks)
{
    DayBits d(std::pmr::get_default_resource());
    d.add(60, 0b1011);  // days 60, 61, 63 (across the first word boundary)
    d.add(130, 1);
    d.add(2, 1);        // grows in front
    DayBits e(std::pmr::get_default_resource());
    e.add(61, 0b11);    // 61, 62
    d.merge(e);
    EXPECT_EQ(d.count(), 6);  // 2, 60, 61, 62, 63, 130
    EXPECT_EQ(d.last(), 130);
}

// A day block read as its month: its mask starts before the range (a negative base); only the
// days from the range's start count (found when blocks met the binary partials).
TEST(ShardPartial, DayBitsDropDaysBeforeTheRange)
{
    DayBits d(std::pmr::get_default_resource());
    d.add(-4, 0b110110);  // days -3, -2 (dropped), 0, 1
    d.add(-40, ~0u);      // a whole mask before the range: nothing
    EXPECT_EQ(d.count(), 2);
    EXPECT_EQ(d.last(), 1);
}

TEST(ShardPartial, GroupsModelsByTheirMergedProvider)
{
    std::vector<Use> a = {{"m1", 1, "1", 0, {"u1"}, "p"}, {"m2", 2, "2", 1, {"u1", "u2"}, "p"}};
    std::vector<Use> b = {{"m1", 3, "3", 2, {"u3"}, ""}, {"gpt-4o", 5, "5", 2, {"u3"}, ""}};
    ShardPartial models(PartialKind::model, std::pmr::get_default_resource());
    std::string ea = encode(PartialKind::model, a), eb = encode(PartialKind::model, b);
    models.merge_encoded(ea.data(), ea.size(), 1);
    models.merge_encoded(eb.data(), eb.size(), 2);
    models.finish();
    ShardPartial providers(PartialKind::provider, std::pmr::get_default_resource());
    models.group_by_provider(providers);
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < providers.keys().size(); i++)
        index[std::string(providers.slot(i).key_view())] = i;
    ASSERT_EQ(index.count("p"), 1u);
    size_t p = index["p"];
    EXPECT_EQ(providers.slot(p).totals.counts[kRequests], 6);
    EXPECT_EQ(providers.slot(p).totals.cost.to_string(), "6");
    EXPECT_EQ(providers.slot(p).totals.active_days, 3);       // days 0, 1, 2
    EXPECT_EQ(providers.extra(p).models.size(), 2u);          // m1, m2
    EXPECT_EQ(providers.extra(p).users.size(), 3u);           // u1, u2, u3
    std::string other(provider_from_name("gpt-4o"));
    ASSERT_EQ(index.count(other), 1u);
    EXPECT_EQ(providers.slot(index[other]).totals.counts[kRequests], 5);
}

TEST(ShardPartial, SumsThatPassBigintAreRefused)
{
    std::string a = header(2, 1, 1) + row_key("m", INT64_MAX, "0", 0, {1}, {});
    std::string b = header(2, 1, 1) + row_key("m", 1, "0", 0, {1}, {});
    ShardPartial p(PartialKind::model, std::pmr::get_default_resource());
    p.merge_encoded(a.data(), a.size(), 1);
    try {
        p.merge_encoded(b.data(), b.size(), 2);
        FAIL();
    } catch (const Error &e) {
        EXPECT_STREQ(e.sqlstate, "22003");
    }
}

TEST(ShardPartial, MalformedBuffersAreRefused)
{
    std::string good = header(2, 1, 1, {"a", "b"}) + row_key("m", 1, "0.5", 0, {1}, {0, 1});
    {
        ShardPartial p(PartialKind::model, std::pmr::get_default_resource());
        p.merge_encoded(good.data(), good.size(), 1);  // the reference buffer is fine
    }
    // Every proper prefix is truncated.
    for (size_t n = 0; n < good.size(); n++)
        expect_22p03(good.substr(0, n), n < 4 ? "the header" : "");
    expect_22p03("XUSP" + good.substr(4), "ducache shard partial mark");
    expect_22p03(header(3, 1, 0), "version 3 is not the supported version 2");
    expect_22p03(header(2, 2, 0), "kind 2 where kind 1 was asked for");
    expect_22p03(good + "x", "1 bytes follow the last key");
    expect_22p03(header(2, 1, 1000), "the buffer ends inside the keys");
    expect_22p03(header(2, 1, 2) + row_key("m", 1, "0", 0, {1}, {}) + row_key("m", 1, "0", 0, {1}, {}),
                 "key 1 repeats an earlier key");
    expect_22p03(header(2, 1, 0, {"b", "a"}), "the dictionary's users are not strictly increasing");
    expect_22p03(header(2, 1, 0, {"a", "a"}), "the dictionary's users are not strictly increasing");
    expect_22p03(header(2, 1, 1, {"a"}) + row_key("m", 1, "0", 0, {1}, {1}), "key 0 names user 1 of a dictionary of 1");
    {
        // A varint longer than 5 bytes, and one past 32 bits.
        std::string k = row_key("m", 1, "0", 0, {1}, {});
        k[4 + 1] = char(1 | 4);  // row and users
        std::string head = header(2, 1, 1, {"a"}) + k.substr(0, k.size() - 8);
        std::string tail(4, '\0');  // no models
        expect_22p03(head + std::string("\x01\0\0\0\x80\x80\x80\x80\x80\x01", 10) + tail, "longer than 5 bytes");
        expect_22p03(head + std::string("\x01\0\0\0\xff\xff\xff\xff\x1f", 9) + tail, "past 32 bits");
    }
    expect_22p03(header(2, 1, 1, {"a"}) + std::string(row_key("m", 1, "0", 0, {1}, {0})).replace(4 + 1, 1, 1, char(1)),
                 "key 0 lists users without its users flag");
    expect_22p03(header(2, 1, 1) + row_key("m", 1, "lots", 0, {1}, {}), "key 0 has a cost that is not a number");
    expect_22p03(header(2, 1, 1) + row_key("m", 1, "0", 0xFFFFFFF0u, {1, 1}, {}),
                 "key 0 has days past the largest day offset");
    std::string flags = good;
    flags[header(2, 1, 1, {"a", "b"}).size() + 4 + 1] = char(0x40);  // the key's flags byte
    expect_22p03(flags, "key 0 has unknown flags 64");
}

TEST(ShardPartial, SummariesAddTotalsUniteDaysAndKeepTheBestTop)
{
    auto make = [](int64_t users, int64_t requests, const char *cost, std::vector<int32_t> days, const char *top,
                   const char *top_cost, std::vector<std::pair<const char *, const char *>> models) {
        ShardPartial p(PartialKind::summary, std::pmr::get_default_resource());
        ShardPartial::Summary &m = p.summary();
        m.active_users = users;
        EntryValues v = values(requests, cost);
        m.all.add_or_throw(v.counts, &v.cost, "t", "t", kRow);
        for (int32_t d : days)
            m.cached.add(d, 1);
        if (top) {
            DecimalSum c(std::pmr::get_default_resource());
            Decimal d;
            EXPECT_TRUE(parse_json_number(top_cost, d));
            c.add(d);
            p.offer_top(top, c);
        }
        for (auto [model, mc] : models) {
            size_t i = p.index_of(model);
            p.add_usage(i, values(1, mc), 0, "aggregated_by_model", model, kRow);
        }
        return p.encode();
    };
    std::string a = make(3, 10, "1.50", {0, 1, 2}, "u-a", "1.0", {{"m1", "0.5"}, {"m2", "1"}});
    std::string b = make(2, 5, "0.25", {1, 2, 40}, "u-b", "1.00", {{"m1", "0.75"}});
    std::string c = make(0, 0, "0", {1}, nullptr, nullptr, {});
    for (auto order : {std::vector<std::string>{a, b, c}, std::vector<std::string>{c, b, a}}) {
        ShardPartial p(PartialKind::summary, std::pmr::get_default_resource());
        int k = 0;
        for (const std::string &part : order)
            p.merge_encoded(part.data(), part.size(), ++k);
        p.finish();
        const ShardPartial::Summary &m = p.summary();
        EXPECT_EQ(m.active_users, 5);
        EXPECT_EQ(m.all.counts[kRequests], 15);
        EXPECT_EQ(m.all.cost.to_string(), "1.75");
        EXPECT_EQ(m.cached.count(), 4);  // {0, 1, 2, 40}
        ASSERT_TRUE(m.has_top);
        EXPECT_EQ(m.top_user, "u-a");    // equal costs (1.0 = 1.00): the smaller id
        auto sorted = p.keys().sorted();
        ASSERT_EQ(sorted.size(), 2u);
        EXPECT_EQ(sorted[0]->key_view(), "m1");  // 0.5 + 0.75 = 1.25 > 1
    }
    {
        ShardPartial p(PartialKind::summary, std::pmr::get_default_resource());
        std::string cut = a.substr(0, a.size() - 1);
        EXPECT_THROW(p.merge_encoded(cut.data(), cut.size(), 1), Error);
    }
}

}  // namespace ut_shard_partial_test
