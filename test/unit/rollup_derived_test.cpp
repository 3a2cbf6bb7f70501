// core/rollup_derived: which members the user_totals / model_totals projections keep, and the
// key totals (each user's key cells summed per alias, exact, cost only where a cell had one)
// checked against sums written here by hand.
#include "core/error.hpp"
#include "core/number.hpp"
#include "core/rollup_derived.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace ut_rollup_derived_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

// The stream as compact text: {"k":v,...}, numbers and strings as given.
class TextSink final : public JsonSink {
public:
    void begin_object() override { sep(); out += "{"; first = true; }
    void end_object() override { out += "}"; first = false; }
    void key(std::string_view k) override { sep(); out += "\"" + std::string(k) + "\":"; first = true; }
    void string(std::string_view s) override { sep(); out += "\"" + std::string(s) + "\""; first = false; }
    void integer(int64_t v) override { sep(); out += std::to_string(v); first = false; }
    void decimal(std::string_view t) override { sep(); out += std::string(t); first = false; }
    // Not in these documents.
    void begin_array() override { ADD_FAILURE() << "an array"; }
    void end_array() override { ADD_FAILURE() << "an array"; }
    void null() override { ADD_FAILURE() << "a null"; }
    void boolean(bool) override { ADD_FAILURE() << "a boolean"; }
    std::string out;

private:
    void sep()
    {
        if (!first && !out.empty() && out.back() != ':')
            out += ",";
        first = false;
    }
    bool first = true;
};

// tokens: 10 per request unless given (the overflow case gives 0: 10 x INT64_MAX is itself UB).
EntryValues cell(int64_t requests, const char *cost, int64_t tokens = -1)
{
    EntryValues v{};
    v.counts[0] = requests;
    v.counts[1] = tokens < 0 ? requests * 10 : tokens;
    v.cost_seen = cost != nullptr;
    if (cost) {
        EXPECT_TRUE(parse_json_number(cost, v.cost));
    }
    return v;
}

const FixedLabel where("a test row");

}  // namespace

TEST(RollupDerived, ProjectionsDropOnlyTheirMembers)
{
    EXPECT_FALSE(user_totals_keeps("models"));
    for (const char *m : {"metrics", "~days", "username", "email", "role", "models ", "Models", "users"})
        EXPECT_TRUE(user_totals_keeps(m)) << m;
    EXPECT_FALSE(model_totals_keeps("users"));
    EXPECT_FALSE(model_totals_keeps("~named"));
    for (const char *m : {"metrics", "~days", "provider", "models", "user", "~name"})
        EXPECT_TRUE(model_totals_keeps(m)) << m;
}

TEST(RollupDerived, KeyTotalsSumPerUserAndAlias)
{
    std::string doc = "u1u2";  // views into one buffer, as the walker hands them
    std::string_view u1(doc.data(), 2), u2(doc.data() + 2, 2);
    TextSink sink;
    KeyTotalsWriter w(sink, std::pmr::new_delete_resource());
    w.add(u1, "k1", cell(1, "0.10"), where);      // model a
    w.add(u1, "k2", cell(2, nullptr), where);
    w.add(u1, "k1", cell(3, "0.205"), where);     // model b: same alias, summed
    w.add(u2, "k1", cell(4, nullptr), where);     // another user: its own k1
    w.finish();
    EXPECT_EQ(sink.out,
              "{\"u1\":{\"k1\":{\"metrics\":{\"totalRequests\":4,\"totalTokens\":40,\"promptTokens\":0,"
              "\"completionTokens\":0,\"successfulRequests\":0,\"failedRequests\":0,\"totalCost\":0.305}},"
              "\"k2\":{\"metrics\":{\"totalRequests\":2,\"totalTokens\":20,\"promptTokens\":0,"
              "\"completionTokens\":0,\"successfulRequests\":0,\"failedRequests\":0}}},"
              "\"u2\":{\"k1\":{\"metrics\":{\"totalRequests\":4,\"totalTokens\":40,\"promptTokens\":0,"
              "\"completionTokens\":0,\"successfulRequests\":0,\"failedRequests\":0}}}}");
}

TEST(RollupDerived, KeyTotalsOfNoCellsIsAnEmptyObject)
{
    TextSink sink;
    KeyTotalsWriter w(sink, std::pmr::new_delete_resource());
    w.finish();
    EXPECT_EQ(sink.out, "{}");
}

TEST(RollupDerived, KeyTotalsOverflowThrows)
{
    TextSink sink;
    KeyTotalsWriter w(sink, std::pmr::new_delete_resource());
    w.add("u", "k", cell(INT64_MAX, nullptr, 0), where);
    EXPECT_THROW(w.add("u", "k", cell(1, nullptr, 0), where), Error);
}

}  // namespace ut_rollup_derived_test
