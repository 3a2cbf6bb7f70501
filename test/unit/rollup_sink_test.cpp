// core::RollupBuilder::write into a JsonSink (what the adapter turns into JSONB directly): every
// document a well-formed token stream (a key before each member's value, objects balanced, one
// root object), the same stream on every call, providers absent unless a day stored them, and
// the text the sink-free finish() gives checked against values written here by hand.
#include "core/number.hpp"
#include "core/rollup_builder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ut_rollup_sink_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

// Records the stream and checks its grammar as it goes.
class CheckingSink final : public JsonSink {
public:
    void begin_object() override { value("{"); depth_.push_back(false); }
    void end_object() override
    {
        ASSERT_FALSE(depth_.empty());
        ASSERT_FALSE(depth_.back()) << "a key without a value";
        depth_.pop_back();
        log_ += "}";
    }
    void key(std::string_view k) override
    {
        ASSERT_FALSE(depth_.empty()) << "a key outside an object";
        ASSERT_FALSE(depth_.back()) << "two keys in a row";
        depth_.back() = true;
        log_ += "K" + std::string(k) + ":";
    }
    void string(std::string_view s) override { value("S" + std::string(s)); }
    void integer(int64_t v) override { value("I" + std::to_string(v)); }
    void decimal(std::string_view t) override { value("D" + std::string(t)); }
    // The rollup documents have no arrays, nulls or booleans.
    void begin_array() override { ADD_FAILURE() << "an array"; }
    void end_array() override { ADD_FAILURE() << "an array"; }
    void null() override { ADD_FAILURE() << "a null"; }
    void boolean(bool) override { ADD_FAILURE() << "a boolean"; }

    bool complete() const { return depth_.empty() && roots_ == 1; }
    const std::string &log() const { return log_; }

private:
    void value(const std::string &v)
    {
        if (depth_.empty()) {
            roots_++;
        } else {
            ASSERT_TRUE(depth_.back()) << "a member value without a key: " << v;
            depth_.back() = false;
        }
        log_ += v + ",";
    }
    std::vector<bool> depth_;  // per open object: a key waits for its value
    int roots_ = 0;
    std::string log_;
};

EntryValues entry(int64_t requests, const char *cost, std::string_view username = {})
{
    EntryValues v{};
    v.counts[0] = requests;
    v.cost_seen = cost != nullptr;
    if (cost) {
        EXPECT_TRUE(parse_json_number(cost, v.cost));
    }
    v.username = username;
    return v;
}

void fill(RollupBuilder &b, bool stored_providers)
{
    b.begin_day(3, stored_providers);
    uint32_t u = b.user("u\"1", entry(5, "0.50", "ann"));
    b.user_has_models(u);
    uint32_t c = b.user_model(u, "gpt-4o", entry(5, "0.50"));
    b.cell_has_keys(c);
    KeyFacts f;
    f.has_key_alias = true;
    f.key_alias = "laptop";
    b.user_key(c, "k1", entry(5, "0.50"), f);
    std::string_view own = "azure";
    uint32_t m = b.model("gpt-4o", entry(5, "0.50"), &own);
    b.model_has_users(m);
    b.model_user(m, "u\"1", true);
    if (stored_providers)
        b.provider("azure", entry(5, "0.50"));
    b.begin_day(12, false);
    b.user("u2", entry(2, "1.5"));
    b.model("claude-3", entry(2, "1.5"), nullptr);
}

TEST(RollupSink, EveryDocumentIsAWellFormedStreamAndRepeats)
{
    for (bool stored : {false, true}) {
        std::pmr::monotonic_buffer_resource mr;
        RollupBuilder b(&mr, "2025-03");
        fill(b, stored);
        EXPECT_EQ(b.end_days(), (1 << 2) | (1 << 11));
        EXPECT_EQ(b.has(RollupDocument::providers), stored);
        for (int d = 0; d < kRollupDocuments; d++) {
            if (!b.has(RollupDocument(d)))
                continue;
            CheckingSink once, twice;
            b.write(RollupDocument(d), once);
            b.write(RollupDocument(d), twice);
            EXPECT_TRUE(once.complete()) << d;
            EXPECT_EQ(once.log(), twice.log()) << d;
        }
    }
}

TEST(RollupSink, DailyAsText)
{
    std::pmr::monotonic_buffer_resource mr;
    RollupBuilder b(&mr, "2025-03");
    fill(b, false);
    RollupDocuments d = b.finish();
    const std::string zeros = "\"totalTokens\":0,\"promptTokens\":0,\"completionTokens\":0,"
                              "\"successfulRequests\":0,\"failedRequests\":0,";
    EXPECT_EQ(d.daily, "{\"3\":{\"users\":1,\"metrics\":{\"totalRequests\":5," + zeros +
                           "\"totalCost\":0.50},\"models\":{\"gpt-4o\":{\"metrics\":{\"totalRequests\":5," + zeros +
                           "\"totalCost\":0.50}}}},\"12\":{\"users\":1,\"metrics\":{\"totalRequests\":2," + zeros +
                           "\"totalCost\":1.5},\"models\":{\"claude-3\":{\"metrics\":{\"totalRequests\":2," + zeros +
                           "\"totalCost\":1.5}}}}}");
    EXPECT_TRUE(d.providers.empty());
    EXPECT_NE(d.users.find("\"u\\\"1\":{\"username\":\"ann\""), std::string::npos) << d.users;
}

}  // namespace

}  // namespace ut_rollup_sink_test
