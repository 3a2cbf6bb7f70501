// core::RollupIdentities (through RollupBuilder) against a naive model: random months of
// user entries whose username/email/role are absent, non-strings, empty or changing, and
// models' users objects with and without a username; the rollup's "~identity", "~listed",
// "~seen" and "~named" must be what the dashboard's and filter options' rules give over the
// days (docs: core/rollup_identity.hpp).
#include "core/rollup_builder.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>

namespace ut_rollup_identity_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;
using nlohmann::json;

namespace {

struct Day {  // one user's entry on one day
    std::optional<std::string> name, email, role;  // strings (may be "")
    bool name_member = false, email_member = false;  // present, string or not
};

TEST(RollupIdentity, MatchesTheDaysRules)
{
    std::mt19937 rng(12);
    for (int round = 0; round < 200; round++) {
        std::pmr::monotonic_buffer_resource mr;
        RollupBuilder b(&mr, "2025-03");
        const char *users[] = {"u1", "u2", "u3"};
        const char *values[] = {"", "ada", "bob", "ada@x"};
        std::map<std::string, json> want_identity, want_listed;
        std::set<std::string> want_seen, want_named;
        int days = 1 + int(rng() % 6);
        for (int d = 1; d <= days; d++) {
            b.begin_day(d, false);
            for (const char *u : users) {
                if (rng() % 4 == 0)
                    continue;  // not there that day
                Day day;
                auto pick = [&](std::optional<std::string> &v, bool &member) {
                    switch (rng() % 4) {
                    case 0: member = false; break;               // absent
                    case 1: member = true; break;                // a number, null, ...
                    default: member = true, v = values[rng() % 4];
                    }
                };
                pick(day.name, day.name_member);
                pick(day.email, day.email_member);
                bool dummy;
                pick(day.role, dummy);
                const std::string name = day.name.value_or(""), email = day.email.value_or(""),
                                  role = day.role.value_or("");
                EntryValues v{};
                v.counts[kRequests] = 1;
                v.username = name;
                v.email = email;
                v.role = role;
                UserFacts f;
                f.listed = day.name_member;
                f.name_is_string = day.name.has_value();
                f.email_is_string = day.email.has_value();
                f.name = v.username;
                f.email = v.email;
                b.user(u, v, f);
                // the days' rules
                if (!v.username.empty()) {
                    json id = {{"username", std::string(v.username)}};
                    if (!v.email.empty())
                        id["email"] = std::string(v.email);
                    if (!v.role.empty())
                        id["role"] = std::string(v.role);
                    want_identity[u] = id;
                }
                if (f.listed) {
                    json l = json::object();
                    if (f.name_is_string)
                        l["username"] = std::string(f.name);
                    if (f.email_is_string)
                        l["email"] = std::string(f.email);
                    want_listed[u] = l;
                    if (f.name_is_string && !f.name.empty())
                        want_seen.insert(u);
                }
            }
            EntryValues mv{};
            uint32_t m = b.model("m", mv, nullptr);
            b.model_has_users(m);
            for (const char *u : users) {
                bool named = rng() % 3 == 0;
                b.model_user(m, u, named);
                if (named)
                    want_named.insert(u);
            }
        }
        RollupDocuments doc = b.finish();
        json got = json::parse(doc.users);
        for (const char *u : users) {
            json e = got.contains(u) ? got[u] : json::object();
            EXPECT_EQ(e.value("~identity", json()), want_identity.count(u) ? want_identity[u] : json()) << u;
            EXPECT_EQ(e.value("~listed", json()), want_listed.count(u) ? want_listed[u] : json()) << u;
            EXPECT_EQ(e.contains("~seen"), want_seen.count(u) > 0) << u;
        }
        json model = json::parse(doc.models)["m"];
        std::set<std::string> named;
        const json named_doc = model.value("~named", json::object());
        for (auto it = named_doc.begin(); it != named_doc.end(); ++it)
            named.insert(it.key());
        EXPECT_EQ(named, want_named);
    }
}

}  // namespace

}  // namespace ut_rollup_identity_test
