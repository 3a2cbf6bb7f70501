// core::RollupBuilder against a naive model: random months of days (flat and nested users,
// identity changing, key cells with keyAlias/keyName changing, models with and without an own
// provider and a users object, days with stored providers and days without), fed to the
// builder; its JSON parsed with nlohmann::json and compared with plain maps summed here.
#include "core/error.hpp"
#include "core/number.hpp"
#include "core/rollup_builder.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace ut_rollup_builder_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;
using nlohmann::json;

namespace {

// Parses a builder document with every cost's exact text kept (nlohmann reads numbers as
// doubles): "totalCost":<number> becomes "totalCost":"<number>" first.
json parse(const std::string &text)
{
    static const std::regex cost("\"totalCost\":(-?[0-9.eE+-]+)");
    return json::parse(std::regex_replace(text, cost, "\"totalCost\":\"$1\""));
}

// Naive sums: counts, cost in cents (every cost has scale 2), present-day mask.
struct NSum {
    int64_t c[6] = {};
    int64_t cents = 0;
    uint32_t mask = 0;
};

struct Gen {
    int64_t c[6];
    int64_t cents;
    bool cost_seen;
};

std::string cents_text(int64_t cents)
{
    std::string sign = cents < 0 ? "-" : "";
    int64_t a = cents < 0 ? -cents : cents;
    std::string frac = std::to_string(a % 100);
    if (frac.size() < 2)
        frac = "0" + frac;
    return sign + std::to_string(a / 100) + "." + frac;
}

EntryValues values_of(const Gen &g, std::string &cost_text)
{
    EntryValues v{};
    for (int m = 0; m < 6; m++)
        v.counts[m] = g.c[m];
    v.cost_seen = g.cost_seen;
    if (g.cost_seen) {
        cost_text = cents_text(g.cents);
        EXPECT_TRUE(parse_json_number(cost_text, v.cost));
    }
    return v;
}

void add(NSum &s, const Gen &g, int day)
{
    for (int m = 0; m < 6; m++)
        s.c[m] += g.c[m];
    if (g.cost_seen)
        s.cents += g.cents;
    s.mask |= 1u << (day - 1);
}

// The cost a sum prints: scale 2 once any cost was seen, "0" when none was.
void expect_metrics(const json &j, const NSum &s, bool any_cost, const std::string &where)
{
    const char *names[6] = {"totalRequests", "totalTokens", "promptTokens", "completionTokens",
                            "successfulRequests", "failedRequests"};
    ASSERT_TRUE(j.is_object()) << where;
    ASSERT_EQ(j.size(), 7u) << where;
    for (int m = 0; m < 6; m++)
        EXPECT_EQ(j.at(names[m]).get<int64_t>(), s.c[m]) << where << " " << names[m];
    EXPECT_EQ(j.at("totalCost").get<std::string>(), any_cost ? cents_text(s.cents) : "0") << where;
}

struct NKey { NSum s; bool any_cost = false; std::optional<std::string> alias, name; };
struct NCell { NSum s; bool any_cost = false; bool has_keys = false; std::map<std::string, NKey> keys; };
struct NUser {
    NSum s;
    bool any_cost = false;
    std::string username, email, role;
    bool has_models = false;
    std::map<std::string, NCell> models;
};
struct NModel { NSum s; bool any_cost = false; std::optional<std::string> provider; bool has_users = false; std::set<std::string> users; };
struct NProv { NSum s; bool any_cost = false; bool has_users = false; std::set<std::string> models, users; };
struct NDay { int users = 0; NSum s; bool any_cost = false; std::map<std::string, std::pair<NSum, bool>> models; };

std::string naive_provider(const std::string &model)
{
    size_t slash = model.find('/');
    if (slash != std::string::npos)
        return model.substr(0, slash);
    if (model.rfind("gpt", 0) == 0) return "openai";
    if (model.rfind("claude", 0) == 0) return "anthropic";
    if (model.rfind("gemini", 0) == 0) return "google";
    return "unknown";
}

class RollupRandom : public ::testing::TestWithParam<int> {};

TEST_P(RollupRandom, MatchesNaiveSums)
{
    std::mt19937 rng(GetParam());
    auto pick = [&](int n) { return int(rng() % uint32_t(n)); };
    auto chance = [&](int pct) { return pick(100) < pct; };
    auto gen = [&] {
        Gen g;
        for (auto &c : g.c)
            c = pick(1000);
        g.cents = pick(5000) - 500;
        g.cost_seen = chance(80);
        return g;
    };
    // Seeds past 40 are wide: more models per user and keys per cell than the builder's list
    // scan looks at (RollupBuilder::Impl's Level::child, kChildScan), names that are prefixes
    // of each other, users fed with their positions (the lookup hint) in an order that changes
    // from day to day.
    bool wide = GetParam() > 40;
    std::vector<std::string> user_pool = {"u1", "u2", "u3", "u\"4", "u5"};
    std::vector<std::string> model_pool = {"openai/gpt-4o", "gpt-x", "claude-3", "mistral", "gemini-pro"};
    std::vector<std::string> key_pool = {"k1", "k2", "k3"};
    if (wide) {
        user_pool = {"u", "u1", "u10", "u1x", "v", "u2", "w", "u3"};
        model_pool.clear();
        for (const char *m : {"m", "m1", "m10", "m2", "gpt", "gpt-4", "gpt-4o", "claude", "c", "openai/gpt-4o",
                              "mistral", "m100", "x"})
            model_pool.push_back(m);
        key_pool = {"k", "k1", "k10", "k2", "kk", "a", "b", "c", "d", "e", "k100", "key"};
    }
    const char *names[] = {"", "alice", "bob"};
    const char *providers[] = {"openai", "acme", ""};

    std::pmr::monotonic_buffer_resource mr;
    RollupBuilder b(&mr, "2025-03");
    std::map<std::string, NUser> users;
    std::map<std::string, NModel> models;
    std::map<std::string, NProv> stored, derived;
    std::map<std::string, std::pair<NSum, bool>> unprovided;
    std::map<int, NDay> daily;
    bool any_stored = false;
    uint32_t days = 0;
    std::string cost_text;

    for (int day = 1; day <= 31; day++) {
        if (!chance(60))
            continue;
        days |= 1u << (day - 1);
        bool stored_day = chance(40);
        any_stored |= stored_day;
        b.begin_day(day, stored_day);
        NDay &nd = daily[day];
        if (wide && chance(50))
            std::shuffle(user_pool.begin(), user_pool.end(), rng);
        if (wide && chance(50))
            std::shuffle(model_pool.begin(), model_pool.end(), rng);
        uint32_t position = 0;
        for (const std::string &u : user_pool) {
            if (!chance(wide ? 90 : 70))
                continue;
            Gen g = gen();
            EntryValues v = values_of(g, cost_text);
            std::string un = names[pick(3)], em = names[pick(3)], ro = names[pick(3)];
            v.username = un;
            v.email = em;
            v.role = ro;
            uint32_t ui = wide ? b.user(u, v, {}, position++) : b.user(u, v);
            NUser &nu = users[u];
            add(nu.s, g, day);
            nu.any_cost |= g.cost_seen;
            if (!un.empty()) nu.username = un;
            if (!em.empty()) nu.email = em;
            if (!ro.empty()) nu.role = ro;
            nd.users++;
            add(nd.s, g, day);
            nd.any_cost |= g.cost_seen;
            if (!chance(70))
                continue;  // a flat entry
            b.user_has_models(ui);
            nu.has_models = true;
            for (const std::string &m : model_pool) {
                if (!chance(wide ? 80 : 40))
                    continue;
                Gen gm = gen();
                uint32_t ci = b.user_model(ui, m, values_of(gm, cost_text));
                NCell &nc = nu.models[m];
                add(nc.s, gm, day);
                nc.any_cost |= gm.cost_seen;
                if (!chance(70))
                    continue;
                b.cell_has_keys(ci);
                nc.has_keys = true;
                for (const std::string &k : key_pool) {
                    if (!chance(wide ? 85 : 50))
                        continue;
                    Gen gk = gen();
                    KeyFacts f;
                    std::string alias = "alias-" + std::to_string(pick(2)), name = names[pick(3)];
                    f.has_key_alias = chance(50);
                    f.key_alias = alias;
                    f.has_key_name = chance(60);
                    f.key_name = name;
                    b.user_key(ci, k, values_of(gk, cost_text), f);
                    NKey &nk = nc.keys[k];
                    add(nk.s, gk, day);
                    nk.any_cost |= gk.cost_seen;
                    if (f.has_key_alias) nk.alias = alias;
                    if (f.has_key_name) nk.name = name;
                }
            }
        }
        for (const std::string &m : model_pool) {
            if (!chance(70))
                continue;
            Gen g = gen();
            std::optional<std::string> own;
            if (chance(40))
                own = providers[pick(3)];
            std::string_view own_view = own ? std::string_view(*own) : std::string_view();
            uint32_t mi = b.model(m, values_of(g, cost_text), own ? &own_view : nullptr);
            NModel &nm = models[m];
            add(nm.s, g, day);
            nm.any_cost |= g.cost_seen;
            if (own) nm.provider = own;
            auto &dm = nd.models[m];
            add(dm.first, g, day);
            dm.second |= g.cost_seen;
            std::string p = own ? *own : naive_provider(m);
            NProv *np = nullptr;
            if (!stored_day) {
                np = &derived[p];
                add(np->s, g, day);
                np->any_cost |= g.cost_seen;
                np->models.insert(m);
                add(unprovided[m].first, g, day);
                unprovided[m].second |= g.cost_seen;
            }
            if (chance(50)) {
                b.model_has_users(mi);
                nm.has_users = true;
                if (np) np->has_users = true;
                for (const std::string &u : user_pool)
                    if (chance(40)) {
                        b.model_user(mi, u);
                        nm.users.insert(u);
                        if (np) np->users.insert(u);
                    }
            }
        }
        if (stored_day)
            for (const char *p : providers) {
                if (!chance(60))
                    continue;
                Gen g = gen();
                b.provider(p, values_of(g, cost_text));
                add(stored[p].s, g, day);
                stored[p].any_cost |= g.cost_seen;
            }
    }

    RollupDocuments d = b.finish();
    EXPECT_EQ(uint32_t(d.days), days);
    json ju = parse(d.users);
    ASSERT_EQ(ju.size(), users.size());
    for (auto &[u, nu] : users) {
        const json &e = ju.at(u);
        EXPECT_EQ(e.at("~days").get<uint32_t>(), nu.s.mask) << u;
        expect_metrics(e.at("metrics"), nu.s, nu.any_cost, u);
        const std::string &who = u;  // structured bindings cannot be captured in C++17
        auto ident = [&](const char *f, const std::string &want) {
            if (want.empty())
                EXPECT_FALSE(e.contains(f)) << who << f;
            else
                EXPECT_EQ(e.at(f).get<std::string>(), want) << who << f;
        };
        ident("username", nu.username);
        ident("email", nu.email);
        ident("role", nu.role);
        ASSERT_EQ(e.contains("models"), nu.has_models) << u;
        if (!nu.has_models)
            continue;
        ASSERT_EQ(e.at("models").size(), nu.models.size()) << u;
        for (auto &[m, nc] : nu.models) {
            const json &c = e.at("models").at(m);
            EXPECT_EQ(c.at("~days").get<uint32_t>(), nc.s.mask);
            expect_metrics(c.at("metrics"), nc.s, nc.any_cost, u + "/" + m);
            ASSERT_EQ(c.contains("api_keys"), nc.has_keys);
            if (!nc.has_keys)
                continue;
            ASSERT_EQ(c.at("api_keys").size(), nc.keys.size());
            for (auto &[k, nk] : nc.keys) {
                const json &kc = c.at("api_keys").at(k);
                EXPECT_EQ(kc.at("~days").get<uint32_t>(), nk.s.mask);
                expect_metrics(kc.at("metrics"), nk.s, nk.any_cost, u + "/" + m + "/" + k);
                EXPECT_EQ(kc.contains("keyAlias"), nk.alias.has_value());
                if (nk.alias) {
                    EXPECT_EQ(kc.at("keyAlias").get<std::string>(), *nk.alias);
                }
                EXPECT_EQ(kc.contains("keyName"), nk.name.has_value());
                if (nk.name) {
                    EXPECT_EQ(kc.at("keyName").get<std::string>(), *nk.name);
                }
            }
        }
    }
    json jm = parse(d.models);
    ASSERT_EQ(jm.size(), models.size());
    for (auto &[m, nm] : models) {
        const json &e = jm.at(m);
        EXPECT_EQ(e.at("~days").get<uint32_t>(), nm.s.mask);
        expect_metrics(e.at("metrics"), nm.s, nm.any_cost, m);
        EXPECT_EQ(e.contains("provider"), nm.provider.has_value());
        if (nm.provider) {
            EXPECT_EQ(e.at("provider").get<std::string>(), *nm.provider);
        }
        ASSERT_EQ(e.contains("users"), nm.has_users);
        if (nm.has_users) {
            std::set<std::string> got;
            for (auto &[k, v] : e.at("users").items()) {
                got.insert(k);
                EXPECT_EQ(v, 1);
            }
            EXPECT_EQ(got, nm.users);
        }
    }
    EXPECT_EQ(d.providers.empty(), !any_stored);
    if (any_stored) {
        json jp = parse(d.providers);
        ASSERT_EQ(jp.size(), stored.size());
        for (auto &[p, np] : stored) {
            EXPECT_EQ(jp.at(p).at("~days").get<uint32_t>(), np.s.mask);
            expect_metrics(jp.at(p).at("metrics"), np.s, np.any_cost, p);
        }
    }
    json jd = parse(d.providers_derived);
    ASSERT_EQ(jd.size(), derived.size());
    for (auto &[p, np] : derived) {
        const json &e = jd.at(p);
        EXPECT_EQ(e.at("~days").get<uint32_t>(), np.s.mask);
        expect_metrics(e.at("metrics"), np.s, np.any_cost, "derived " + p);
        std::set<std::string> got;
        for (auto &[k, v] : e.at("models").items()) got.insert(k);
        EXPECT_EQ(got, np.models);
        ASSERT_EQ(e.contains("users"), np.has_users);
        got.clear();
        if (np.has_users)
            for (auto &[k, v] : e.at("users").items()) got.insert(k);
        EXPECT_EQ(got, np.users);
    }
    json jun = parse(d.models_unprovided);
    ASSERT_EQ(jun.size(), unprovided.size());
    for (auto &[m, s] : unprovided) {
        EXPECT_EQ(jun.at(m).at("~days").get<uint32_t>(), s.first.mask);
        expect_metrics(jun.at(m).at("metrics"), s.first, s.second, "unprovided " + m);
    }
    json jdaily = parse(d.daily);
    ASSERT_EQ(jdaily.size(), daily.size());
    for (auto &[day, nd] : daily) {
        const json &e = jdaily.at(std::to_string(day));
        EXPECT_EQ(e.at("users").get<int>(), nd.users);
        expect_metrics(e.at("metrics"), nd.s, nd.any_cost, "daily");
        ASSERT_EQ(e.at("models").size(), nd.models.size());
        for (auto &[m, s] : nd.models)
            expect_metrics(e.at("models").at(m).at("metrics"), s.first, s.second, "daily model");
    }
}

INSTANTIATE_TEST_SUITE_P(Seeds, RollupRandom, ::testing::Range(1, 41));
INSTANTIATE_TEST_SUITE_P(WideSeeds, RollupRandom, ::testing::Range(41, 61));

TEST(RollupBuilder, EmptyMonthDay)
{
    std::pmr::monotonic_buffer_resource mr;
    RollupBuilder b(&mr, "2025-02");
    b.begin_day(28, false);
    RollupDocuments d = b.finish();
    EXPECT_EQ(d.days, 1 << 27);
    EXPECT_EQ(d.users, "{}");
    EXPECT_TRUE(d.providers.empty());
    EXPECT_EQ(parse(d.daily), parse(R"({"28":{"users":0,"metrics":{"totalRequests":0,"totalTokens":0,
        "promptTokens":0,"completionTokens":0,"successfulRequests":0,"failedRequests":0,"totalCost":0},"models":{}}})"));
}

TEST(RollupBuilder, CostKeepsScaleAndOverflowThrows)
{
    std::pmr::monotonic_buffer_resource mr;
    RollupBuilder b(&mr, "2025-01");
    EntryValues v{};
    v.cost_seen = true;
    ASSERT_TRUE(parse_json_number("0.10", v.cost));
    v.counts[0] = INT64_MAX;
    b.begin_day(1, false);
    b.user("u", v);
    ASSERT_TRUE(parse_json_number("0.2", v.cost));
    v.counts[0] = 0;
    b.user("w", v);
    b.begin_day(2, false);
    b.user("w", v);
    RollupDocuments d = b.finish();
    json ju = parse(d.users);
    EXPECT_EQ(ju.at("w").at("metrics").at("totalCost").get<std::string>(), "0.4");
    // The exact text: 0.10 keeps its scale.
    EXPECT_NE(d.users.find("\"totalCost\":0.10"), std::string::npos);
    EXPECT_EQ(ju.at("w").at("~days").get<int>(), 3);

    RollupBuilder o(&mr, "2025-01");
    v.counts[0] = INT64_MAX;
    o.begin_day(1, false);
    o.user("u", v);
    o.begin_day(2, false);
    try {
        o.user("u", v);
        FAIL() << "no overflow error";
    } catch (const Error &e) {
        EXPECT_STREQ(e.sqlstate, "22003");
        EXPECT_NE(e.detail.find("day 2 of 2025-01"), std::string::npos) << e.detail;
    }
}

}  // namespace

}  // namespace ut_rollup_builder_test
