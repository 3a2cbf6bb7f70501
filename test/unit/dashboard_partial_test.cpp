// The coordinator's binary partials (core/dashboard_partial.*, core/filter_options_partial.cpp):
// the same usage split over two builders by user (as shards split it) and merged gives the
// document one builder gives over all of it; figures checked by hand too; the wire format
// round-trips and every malformed buffer is refused with 22P03, never read out of bounds.
#include "core/dashboard.hpp"
#include "core/dashboard_partial.hpp"
#include "core/error.hpp"
#include "core/filter_options.hpp"
#include "core/number.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace ut_dashboard_partial_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {
EntryValues usage(int64_t requests, const char *cost)
{
    EntryValues v{};
    v.counts[kRequests] = requests;
    v.counts[kTotalTokens] = requests * 10;
    v.counts[kPromptTokens] = requests * 6;
    v.counts[kCompletionTokens] = requests * 4;
    v.counts[kSuccessfulRequests] = requests;
    v.cost_seen = parse_json_number(cost, v.cost);
    return v;
}
EntryValues ident(const char *name)
{
    EntryValues v{};
    v.username = name;
    v.email = "e@x";
    v.role = "user";
    return v;
}
bool has(const std::string &doc, const std::string &part) { return doc.find(part) != std::string::npos; }

// A small range: two comparison days, three days in the range; users u1 (shard 0) and u2, u3
// (shard 1). `keep(user)` says whether this builder (a shard) holds the user; models repeat.
// Unfiltered model sums are each shard's users' share (a cell-split day); day 12's stored
// providers sit whole on shard 0 (a home day).
void feed(DashboardBuilder &b, const std::function<bool(std::string_view)> &keep, bool shard0)
{
    b.begin_day(0, "2025-03-08", false);
    if (keep("u1")) b.user_usage("u1", usage(4, "0.4"));
    if (keep("u2")) b.user_usage("u2", usage(1, "0.1"));
    b.begin_day(1, "2025-03-09", false);
    if (keep("u3")) b.user_usage("u3", usage(2, "0.25"));
    const char *dates[] = {"2025-03-10", "2025-03-11", "2025-03-12"};
    for (int d = 0; d < 3; d++) {
        b.begin_day(2 + d, dates[d], true);
        struct U { const char *id, *model, *key, *cost; int64_t req; };
        U cells[] = {{"u1", "gpt-4o", "k1", "1.50", 3}, {"u2", "gpt-4o", "k2", "0.75", 5},
                     {"u2", "claude-3", "k2", "2", 1}, {"u3", "acme/m", "k3", "0.125", d}};
        for (const U &c : cells) {
            if (!keep(c.id) || c.req == 0)
                continue;
            b.user_usage(c.id, usage(c.req, c.cost));
            b.identity(c.id, ident(c.id[1] == '1' ? "Ann" : c.id[1] == '2' ? "Bob" : "Cy"));
            b.key_usage(c.key, c.id, usage(c.req, c.cost));
            b.model_usage(c.model, usage(c.req, c.cost));
            if (d < 2)
                b.unprovided_model_usage(c.model, usage(c.req, c.cost));
        }
        // own providers: claude-3's changes on the last day, seen only on shard 1 (u2's)
        if (keep("u2"))
            b.own_provider("claude-3", d == 2 ? "anthropic-new" : "anthropic", 20000 + d);
        if (d == 2 && shard0)
            b.provider_usage("openai", usage(8, "2.25"));
    }
}

std::string whole_document()
{
    DashboardBuilder one(std::pmr::get_default_resource(), DashboardOptions{});
    feed(one, [](std::string_view) { return true; }, true);
    return one.document("2025-03-10", "2025-03-12");
}

std::string merged_document(bool reverse)
{
    DashboardBuilder s0(std::pmr::get_default_resource(), DashboardOptions{});
    DashboardBuilder s1(std::pmr::get_default_resource(), DashboardOptions{});
    feed(s0, [](std::string_view u) { return u == "u1"; }, true);
    feed(s1, [](std::string_view u) { return u != "u1"; }, false);
    std::string p0 = s0.partial(), p1 = s1.partial();
    DashboardBuilder coord(std::pmr::get_default_resource(), DashboardOptions{});
    if (reverse)
        std::swap(p0, p1);
    coord.merge_partial(p0.data(), p0.size());
    coord.merge_partial(p1.data(), p1.size());
    return coord.document("2025-03-10", "2025-03-12");
}

void expect_refused(const std::string &bytes, const char *why)
{
    DashboardState s(std::pmr::get_default_resource());
    try {
        deserialize_dashboard_state(bytes.data(), bytes.size(), s);
        ADD_FAILURE() << "accepted: " << why;
    } catch (const Error &e) {
        EXPECT_STREQ(e.sqlstate, "22P03") << why;
        EXPECT_EQ(e.message, "invalid ducache dashboard partial") << why;
    }
}
}  // namespace

TEST(DashboardPartial, MergedShardsWriteTheOneNodeDocument)
{
    std::string one = whole_document();
    EXPECT_EQ(merged_document(false), one);
    EXPECT_EQ(merged_document(true), one);  // the order the shards answer in does not matter
    // By hand: requests 3*3 + 5*3 + 1*3 + (0+1+2) = 30; cost 4.50 + 2.25 + 6 + 0.250 = 13.000.
    EXPECT_TRUE(has(one, "\"totalRequests\":30")) << one;
    EXPECT_TRUE(has(one, "\"total\":13.000")) << one;
    // previous period: 7 requests, 3 users; the latest own provider of claude-3 (day 3, shard 1)
    EXPECT_TRUE(has(one, "\"metric\":\"requests\",\"current\":30,\"previous\":7")) << one;
    EXPECT_TRUE(has(one, "\"metric\":\"users\",\"current\":3,\"previous\":3")) << one;
    EXPECT_TRUE(has(one, "\"provider\":\"anthropic-new\"")) << one;
    // byProvider: stored openai 2.25 (day 12) + the two unprovided days' models by provider
    // (gpt-4o 4.50, claude-3 4 under its latest own provider, acme/m 0.125), by cost
    EXPECT_TRUE(has(one, "\"byProvider\":{\"openai\":6.75,\"anthropic-new\":4,\"acme\":0.125}")) << one;
    // a day adds over the shards: 2025-03-11 has 3 + 5 + 1 + 1 requests
    EXPECT_TRUE(has(one, "{\"date\":\"2025-03-11\",\"requests\":10,")) << one;
    EXPECT_TRUE(has(one, "\"topUser\":{\"userId\":\"u2\",\"username\":\"Bob\"")) << one;
}

TEST(DashboardPartial, RoundTripsAndKeepsDays)
{
    DashboardBuilder s1(std::pmr::get_default_resource(), DashboardOptions{});
    feed(s1, [](std::string_view u) { return u != "u1"; }, false);
    std::string bytes = s1.partial();
    DashboardState st(std::pmr::get_default_resource());
    deserialize_dashboard_state(bytes.data(), bytes.size(), st);
    EXPECT_EQ(serialize_dashboard_state(st), bytes);
    ASSERT_EQ(st.days.size(), 3u);
    EXPECT_EQ(st.days[0].date, "2025-03-10");
    EXPECT_EQ(st.model_provider.at("claude-3").day, 20002);
    EXPECT_EQ(st.total.counts[kRequests], 21);  // u2 6 a day, u3 0 + 1 + 2
    EXPECT_TRUE(st.has_current && st.has_previous);
}

TEST(DashboardPartial, LatestOwnProviderWinsWhateverTheOrder)
{
    DashboardState a(std::pmr::get_default_resource()), b(std::pmr::get_default_resource());
    a.note_provider("m", "early", 100, true);
    b.note_provider("m", "late", 200, true);
    a.merge(b);
    EXPECT_EQ(a.model_provider.at("m").provider, "late");
    DashboardState c(std::pmr::get_default_resource());
    c.note_provider("m", "late", 200, true);
    c.merge(a);
    c.note_provider("m", "given", INT32_MIN, false);  // a coordinator-given provider never overrides
    EXPECT_EQ(c.model_provider.at("m").provider, "late");
}

TEST(DashboardPartial, MalformedBuffersAreRefused)
{
    DashboardBuilder s(std::pmr::get_default_resource(), DashboardOptions{});
    feed(s, [](std::string_view) { return true; }, true);
    const std::string good = s.partial();
    for (size_t n = 0; n < good.size(); n++)  // every truncation
        expect_refused(good.substr(0, n), "truncated");
    expect_refused(good + "x", "trailing byte");
    std::string bad = good;
    bad[0] = 'X';
    expect_refused(bad, "magic");
    bad = good;
    bad[4] = 2;
    expect_refused(bad, "version 2");
    bad = good;
    bad[5] = 2;
    expect_refused(bad, "the filter options kind");
    bad = good;
    bad[6] = 4;
    expect_refused(bad, "flags");
    // a huge count: refused before anything is allocated
    bad = good;
    size_t users_count = 7 + (6 * 8 + 4 + 6) + (6 * 8 + 4 + 4);  // after total ("13.000"), prev_total ("0.75")
    ASSERT_EQ(good.substr(7 + 6 * 8, 4), std::string("\x06\0\0\0", 4));
    bad.replace(users_count, 4, std::string("\xff\xff\xff\x7f", 4));
    expect_refused(bad, "count");
    // a cost that is not a number: the first user's cost text "4.50" -> "4.5x"
    bad = good;
    size_t at = bad.find("4.50");
    ASSERT_NE(at, std::string::npos);
    bad[at + 3] = 'x';
    expect_refused(bad, "cost");
}

TEST(DashboardPartial, DuplicateKeysAndDayOrderAreRefused)
{
    DashboardState st(std::pmr::get_default_resource());
    st.has_current = true;
    st.users.find_or_insert("u", 1);
    st.days.emplace_back("2025-03-02", st.mr);
    st.days.emplace_back("2025-03-01", st.mr);
    expect_refused(serialize_dashboard_state(st), "days out of order");
    st.days.pop_back();
    std::string ok = serialize_dashboard_state(st);
    DashboardState back(std::pmr::get_default_resource());
    deserialize_dashboard_state(ok.data(), ok.size(), back);  // accepted
    // the same user twice: duplicate its bytes (key length 1 "u", its totals) in place
    std::string one_user = ok;
    size_t users_at = 7 + 2 * (6 * 8 + 4 + 1);
    size_t entry = 4 + 1 + 6 * 8 + 4 + 1;
    std::string dup = one_user.substr(0, users_at) + std::string("\x02\0\0\0", 4) +
                      one_user.substr(users_at + 4, entry) + one_user.substr(users_at + 4);
    expect_refused(dup, "a user twice");
}

TEST(DashboardPartial, DatesOrderAsDates)
{
    EXPECT_LT(compare_date_text("9999-12-31", "10000-01-01"), 0);
    EXPECT_LT(compare_date_text("0002-01-01 BC", "0001-01-01 BC"), 0);
    EXPECT_LT(compare_date_text("0001-12-31 BC", "0001-01-01"), 0);
    EXPECT_EQ(compare_date_text("2025-03-01", "2025-03-01"), 0);
    EXPECT_NE(compare_date_text("1-2-3-4-5", "1-2-3-4"), 0);  // not dates: still ordered, no overrun (fuzz)
}

TEST(FilterOptionsPartial, MergedShardsWriteTheOneNodeDocument)
{
    auto feed_fo = [](FilterOptionsBuilder &b, bool s0, bool s1) {
        std::string_view a = "acme", a2 = "acme-2", ann = "Ann", bob = "Bob", mail = "m@x";
        b.begin_day(10);
        b.model("acme/m", s0 ? &a : nullptr);
        if (s0) b.identity("u1", &ann, &mail), b.user_seen("u1");
        if (s1) b.identity("u2", &bob, nullptr), b.user_seen("u2");
        b.begin_day(11);
        if (s1) b.model("acme/m", &a2);  // the later own provider, on shard 1 only
        if (s0) b.model("gpt-4o", nullptr), b.user_seen("u2");  // u2 listed under a model on shard 0
    };
    FilterOptionsBuilder one(std::pmr::get_default_resource());
    feed_fo(one, true, true);
    FilterOptionsBuilder b0(std::pmr::get_default_resource()), b1(std::pmr::get_default_resource());
    feed_fo(b0, true, false);
    feed_fo(b1, false, true);
    for (bool reverse : {false, true}) {
        FilterOptionsBuilder coord(std::pmr::get_default_resource());
        std::string p0 = b0.partial(), p1 = b1.partial();
        if (reverse)
            std::swap(p0, p1);
        coord.merge_partial(p0.data(), p0.size());
        coord.merge_partial(p1.data(), p1.size());
        EXPECT_EQ(coord.document(), one.document());
    }
    EXPECT_EQ(one.document(),
              "{\"models\":[{\"id\":\"acme/m\",\"name\":\"acme/m\",\"provider\":\"acme-2\"},"
              "{\"id\":\"gpt-4o\",\"name\":\"gpt-4o\",\"provider\":\"openai\"}],"
              "\"users\":[{\"userId\":\"u1\",\"username\":\"Ann\",\"email\":\"m@x\"},"
              "{\"userId\":\"u2\",\"username\":\"Bob\",\"email\":\"\"}]}");
    const std::string good = b0.partial();
    for (size_t n = 0; n < good.size(); n++) {
        FilterOptionsBuilder c(std::pmr::get_default_resource());
        try {
            c.merge_partial(good.data(), n);
            ADD_FAILURE() << "truncated to " << n << " accepted";
        } catch (const Error &e) {
            EXPECT_STREQ(e.sqlstate, "22P03");
        }
    }
    FilterOptionsBuilder c(std::pmr::get_default_resource());
    std::string dash = DashboardBuilder(std::pmr::get_default_resource(), DashboardOptions{}).partial();
    EXPECT_THROW(c.merge_partial(dash.data(), dash.size()), Error);  // another kind
}

}  // namespace ut_dashboard_partial_test
