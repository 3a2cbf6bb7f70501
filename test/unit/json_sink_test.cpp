// core::JsonSink as the dashboard and filter options write into it (round 8: the adapter turns
// the stream into JSONB directly): JsonTextSink gives JsonWriter's text for every token, real()
// hands on JsonWriter::real's "%.15g" text (the adapter makes its numeric from that very text),
// and the documents are well-formed token streams (a key before each member's value, containers
// balanced, one root) for the JSONB sink, which relies on that grammar.
#include "core/dashboard.hpp"
#include "core/error.hpp"
#include "core/filter_options.hpp"
#include "core/json_sink.hpp"
#include "core/jsonb_order.hpp"
#include "core/number.hpp"
#include "core/ordered_lookup.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace ut_json_sink_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

// Checks the grammar as the stream goes; counts the tokens.
class GrammarSink final : public JsonSink {
public:
    void begin_object() override { value(); open_.push_back({false, false}); }
    void end_object() override { close(false); }
    void begin_array() override { value(); open_.push_back({true, false}); }
    void end_array() override { close(true); }
    void key(std::string_view) override
    {
        tokens++;
        ASSERT_FALSE(open_.empty()) << "a key outside an object";
        ASSERT_FALSE(open_.back().array) << "a key in an array";
        ASSERT_FALSE(open_.back().key_waits) << "two keys in a row";
        open_.back().key_waits = true;
    }
    void string(std::string_view) override { value(); }
    void null() override { value(); }
    void boolean(bool) override { value(); }
    void integer(int64_t) override { value(); }
    void decimal(std::string_view t) override
    {
        value();
        Decimal d;
        EXPECT_TRUE(parse_json_number(t, d)) << "not a JSON number: " << t;
    }
    bool complete() const { return open_.empty() && roots_ == 1; }
    int tokens = 0;

private:
    struct Open {
        bool array, key_waits;
    };
    void value()
    {
        tokens++;
        if (open_.empty()) {
            roots_++;
            return;
        }
        if (!open_.back().array) {
            ASSERT_TRUE(open_.back().key_waits) << "a member value without a key";
            open_.back().key_waits = false;
        }
    }
    void close(bool array)
    {
        tokens++;
        ASSERT_FALSE(open_.empty());
        ASSERT_EQ(open_.back().array, array) << "closes the wrong container";
        ASSERT_FALSE(open_.back().key_waits) << "a key without a value";
        open_.pop_back();
    }
    std::vector<Open> open_;
    int roots_ = 0;
};

// Each object's members as (key, value text) in the order handed over, nested values written
// as their own object's index; orders_members() as asked, and sum_object as the JSONB sink
// does it (the core's jsonb_member_order, then the members in that order).
class RecordingSink final : public JsonSink {
public:
    explicit RecordingSink(bool ordering) : ordering_(ordering) {}
    using Members = std::vector<std::pair<std::string, std::string>>;
    std::vector<Members> objects;  // in the order they close

    void begin_object() override { open_.push_back({false, {}}); }
    void end_object() override
    {
        objects.push_back(open_.back().members);
        open_.pop_back();
        value("{#" + std::to_string(objects.size() - 1) + "}");
    }
    void begin_array() override { open_.push_back({true, {}}); }
    void end_array() override
    {
        std::string all = "[";
        for (auto &m : open_.back().members)
            all += m.second + ",";
        open_.pop_back();
        value(all + "]");
    }
    void key(std::string_view k) override { open_.back().members.push_back({std::string(k), ""}); }
    void string(std::string_view s) override { value("\"" + std::string(s) + "\""); }
    void null() override { value("null"); }
    void boolean(bool b) override { value(b ? "true" : "false"); }
    void integer(int64_t v) override { value(std::to_string(v)); }
    void decimal(std::string_view t) override { value(std::string(t)); }
    bool orders_members() const override { return ordering_; }
    void sum_object(SumMember *m, size_t n) override
    {
        if (ordering_)
            n = jsonb_member_order(m, n, [](const SumMember &x) { return x.key; });
        JsonSink::sum_object(m, n);
        sum_objects.push_back(objects.size() - 1);
    }
    std::vector<size_t> sum_objects;  // indexes in `objects`

private:
    struct Open {
        bool array;
        Members members;
    };
    void value(std::string v)
    {
        if (open_.empty())
            return;
        if (open_.back().array)
            open_.back().members.push_back({"", std::move(v)});
        else
            open_.back().members.back().second = std::move(v);
    }
    bool ordering_;
    std::vector<Open> open_;
};

EntryValues usage(int64_t requests, const char *cost, int64_t successful)
{
    EntryValues v{};
    v.counts[kRequests] = requests;
    v.counts[kTotalTokens] = requests * 10;
    v.counts[kSuccessfulRequests] = successful;
    v.cost_seen = parse_json_number(cost, v.cost);
    return v;
}

}  // namespace

TEST(JsonSink, TextSinkIsJsonWriterText)
{
    JsonTextSink s;
    s.begin_object();
    s.key("a\"b"), s.string("x\ny\x01");
    s.key("n"), s.begin_array(), s.integer(-1), s.decimal("2.50"), s.null(), s.boolean(true), s.boolean(false);
    s.begin_object(), s.end_object(), s.begin_array(), s.end_array(), s.end_array();
    s.key("r"), s.real(200.0 / 3);
    s.key("u"), s.string_or_null("x", false);
    s.end_object();
    EXPECT_EQ(s.take(), "{\"a\\\"b\":\"x\\ny\\u0001\",\"n\":[-1,2.50,null,true,false,{},[]],\"r\":66.6666666666667,"
                        "\"u\":null}");
}

TEST(JsonSink, RealIsPrintfText)
{
    for (double v : {97.5, 100.0, 0.0, 1e-5, 100.0 / 3, 83.33333333333333, 1e21, -2.5}) {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%.15g", v);
        EXPECT_EQ(RealText(v).view(), buf);
        JsonWriter w;
        w.real(v);
        EXPECT_EQ(w.text(), buf);
    }
    EXPECT_EQ(RealText(1e-5).view(), "1e-05");  // a JSON number: numeric_in and jsonb_in take it
    for (double bad : {std::nan(""), std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()}) {
        try {
            JsonTextSink s;
            s.real(bad);
            ADD_FAILURE() << "no error for " << bad;
        } catch (const Error &e) {
            EXPECT_STREQ(e.sqlstate, "22003");
        }
    }
}

TEST(JsonSink, DashboardAndFilterOptionsAreWellFormedStreams)
{
    for (bool empty : {false, true}) {
        DashboardBuilder b(std::pmr::get_default_resource(), {});
        b.begin_day(0, "2025-02-28", false);
        b.user_usage("u1", usage(4, "0.4", 4));
        if (!empty) {
            b.begin_day(1, "2025-03-01", true);
            b.user_usage("u1", usage(3, "0.30", 2));
            b.model_usage("openai/gpt", usage(3, "0.30", 2));
            b.unprovided_model_usage("openai/gpt", usage(3, "0.30", 2));
            b.key_usage("k1", "u1", usage(3, "0.30", 2));
        }
        GrammarSink g;
        b.document("2025-03-01", "2025-03-01", g);
        EXPECT_TRUE(g.complete()) << "empty " << empty;
        EXPECT_GT(g.tokens, 100);
    }
    FilterOptionsBuilder f(std::pmr::get_default_resource());
    f.model("gpt-4o", nullptr);
    f.user_seen("u1");
    GrammarSink g;
    f.document(g);
    EXPECT_TRUE(g.complete());
}

// jsonb_member_order against a plain reference: a map keeping each key's last member, in
// JSONB's key order (jsonb_key_compare); lists already in order are left as they are.
TEST(JsonbOrder, MemberOrderIsJsonbKeyOrderLastWins)
{
    uint64_t x = 0x9E3779B97F4A7C15ull;
    auto next = [&] {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        return x;
    };
    for (int round = 0; round < 3000; round++) {
        size_t n = next() % 40;
        std::vector<std::pair<std::string, int>> m;
        for (size_t i = 0; i < n; i++) {
            std::string k(next() % 4, 'a');
            for (char &c : k)
                c = char('a' + next() % 3);
            if (next() % 9 == 0)
                k.push_back('\xff');
            m.push_back({k, int(i)});
        }
        if (round % 3 == 0) {  // already ordered and distinct
            std::sort(m.begin(), m.end(), [](auto &a, auto &b) { return jsonb_key_compare(a.first, b.first) < 0; });
            m.erase(std::unique(m.begin(), m.end(), [](auto &a, auto &b) { return a.first == b.first; }), m.end());
        }
        auto cmp = [](const std::string &a, const std::string &b) { return jsonb_key_compare(a, b) < 0; };
        std::map<std::string, int, decltype(cmp)> want(cmp);
        for (auto &p : m)
            want[p.first] = p.second;
        std::vector<std::pair<std::string, int>> got = m;
        size_t kept = jsonb_member_order(got.data(), got.size(), [](auto &p) { return std::string_view(p.first); });
        got.resize(kept);
        ASSERT_EQ(got, (std::vector<std::pair<std::string, int>>(want.begin(), want.end()))) << "round " << round;
        if (round % 3 == 0) {
            EXPECT_EQ(got, m);
        }
    }
    for (auto [a, b] : std::vector<std::pair<std::string, std::string>>{
             {"", "a"}, {"b", "aa"}, {"ab", "b\xff"}, {"a\x01", "a\xff"}, {"zz", "aaa"}}) {
        EXPECT_TRUE(jsonb_key_less(a, b)) << a << " " << b;
        EXPECT_FALSE(jsonb_key_less(b, a)) << a << " " << b;
        EXPECT_FALSE(jsonb_key_less(a, a));
    }
}

// A sink that orders members is handed the dashboard's summaries (users, models, days: the
// objects with "prompt_tokens") and byUser in JSONB's key order (keys strictly ascending, so
// the JSONB sink never sorts them), and every object with the same members and values as the
// text order (LiteMaaS's) gives: one document either way.
TEST(JsonSink, OrderingSinkGetsTheSameMembersInJsonbOrder)
{
    for (int filtered = 0; filtered < 2; filtered++) {
        DashboardOptions opts{filtered == 1, filtered == 1};
        auto build = [&](JsonSink &w) {
            DashboardBuilder b(std::pmr::get_default_resource(), opts);
            b.begin_day(0, "2025-02-28", false);
            b.user_usage("u1", usage(4, "0.4", 4));
            b.begin_day(1, "2025-03-01", true);
            for (const char *u : {"user-b", "u2", "user-a", "u1", "zz"}) {
                b.user_usage(u, usage(3, "0.30", 2));
                if (u[0] != 'z') {  // zz has no identity: nulls
                    EntryValues v = usage(0, "0", 0);
                    v.username = u, v.email = "mail@x", v.role = "admin";
                    b.identity(u, v);
                }
            }
            b.model_usage("openai/gpt", usage(3, "0.30", 2));
            b.model_usage("m2", usage(5, "1.25", 5));
            b.unprovided_model_usage("openai/gpt", usage(3, "0.30", 2));
            b.key_usage("k1", "u1", usage(3, "0.30", 2));
            b.begin_day(2, "2025-03-02", true);
            b.user_usage("u2", usage(7, "0.07", 7));
            b.model_usage("m2", usage(7, "0.07", 7));
            b.document("2025-03-01", "2025-03-02", w);
        };
        RecordingSink text(false), jsonb(true);
        build(text);
        build(jsonb);
        ASSERT_EQ(text.objects.size(), jsonb.objects.size());
        ASSERT_GT(jsonb.objects.size(), 20u);
        ASSERT_EQ(jsonb.sum_objects.size(), 1u);  // byUser
        EXPECT_EQ(jsonb.objects[jsonb.sum_objects[0]].size(), 5u);
        int summaries = 0;
        for (size_t i = 0; i < jsonb.objects.size(); i++) {
            const RecordingSink::Members &j = jsonb.objects[i];
            bool summary = std::any_of(j.begin(), j.end(), [](auto &m) { return m.first == "prompt_tokens"; });
            summaries += summary;
            if (summary || i == jsonb.sum_objects[0]) {
                for (size_t k = 1; k < j.size(); k++) {
                    EXPECT_LT(jsonb_key_compare(j[k - 1].first, j[k].first), 0) << "object " << i << " key " << j[k].first;
                }
            }
            RecordingSink::Members t = text.objects[i], js = j;
            std::sort(t.begin(), t.end());
            std::sort(js.begin(), js.end());
            EXPECT_EQ(t, js) << "object " << i;
        }
        EXPECT_GE(summaries, 8);  // 2 dailyUsage, 3 dailyModelUsage, topModel(s), topUser(s)
    }
}

}  // namespace ut_json_sink_test
