// core::JsonSink as the dashboard and filter options write into it (round 8: the adapter turns
// the stream into JSONB directly): JsonTextSink gives JsonWriter's text for every token, real()
// hands on JsonWriter::real's "%.15g" text (the adapter makes its numeric from that very text),
// and the documents are well-formed token streams (a key before each member's value, containers
// balanced, one root) for the JSONB sink, which relies on that grammar.
#include "core/dashboard.hpp"
#include "core/error.hpp"
#include "core/filter_options.hpp"
#include "core/json_sink.hpp"
#include "core/number.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
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

}  // namespace ut_json_sink_test
