// A naive reference of the rebuild model, for the unit tests and the fuzz target: the same day
// summed with std::map, __int128 and BigDecimal straight from CONTRACT §3's words (a key's
// entry counts for its owner, for that owner's model and for that model's user; the empty hash
// does not count; an unmapped hash is the Unknown User; any running sum past bigint is an
// error), then compared with the model's tree. Header-only, so test/fuzz can include it.
#pragma once

#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/metrics.hpp"
#include "core/number.hpp"
#include "core/rebuild_model.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace rebuild_ref {

using namespace ducache::core;

struct Entry {
    int64_t counts[kCountMetrics] = {};
    std::string cost;  // a plain JSON number literal ("-12.50"), or "" for no cost
};
struct KeyIn {
    std::string hash;
    Entry e;
};
struct ModelIn {
    std::string name;  // unique within a day, as JSON object keys are
    Entry e;
    std::vector<KeyIn> keys;  // hashes unique within the model
};

struct Sum {
    __int128 counts[kCountMetrics] = {};
    BigDecimal cost;
    int dscale = 0;
    bool has_cost = false;
    bool overflow = false;
    void add(const Entry &e)
    {
        for (int m = 0; m < kCountMetrics; m++) {
            counts[m] += e.counts[m];
            if (counts[m] > INT64_MAX || counts[m] < INT64_MIN)
                overflow = true;
        }
        if (e.cost.empty())
            return;
        cost.add(BigDecimal::from_plain(e.cost, std::pmr::get_default_resource()));
        size_t dot = e.cost.find('.');
        dscale = std::max(dscale, dot == std::string::npos ? 0 : int(e.cost.size() - dot - 1));
        has_cost = true;
    }
    std::string cost_text() const { return has_cost ? cost.to_string(dscale) : "0"; }
};

struct Day {
    std::map<std::string, Sum> users, models;                            // by user id, by model
    std::map<std::pair<std::string, std::string>, Sum> user_models;      // (user id, model)
    std::map<std::tuple<std::string, std::string, std::string>, Sum> cells;  // (user, model, hash)
    bool overflow = false;
};

inline Day reference(const std::vector<ModelIn> &day, const std::map<std::string, std::string> &user_of_hash)
{
    Day r;
    auto add = [&](Sum &s, const Entry &e) {
        s.add(e);
        r.overflow |= s.overflow;
    };
    for (const ModelIn &m : day) {
        add(r.models[m.name], m.e);
        for (const KeyIn &k : m.keys) {
            if (k.hash.empty())
                continue;
            auto it = user_of_hash.find(k.hash);
            std::string uid = it == user_of_hash.end() ? kUnknownUserId : it->second;
            add(r.users[uid], k.e);
            add(r.user_models[{uid, m.name}], k.e);
            add(r.cells[{uid, m.name, k.hash}], k.e);
        }
    }
    return r;
}

inline bool same(const Totals &t, const Sum &s)
{
    for (int m = 0; m < kCountMetrics; m++)
        if (__int128(t.counts[m]) != s.counts[m])
            return false;
    return t.cost.to_string() == s.cost_text();
}

// Feeds the model; "" when the tree equals the reference, else what differs.
inline std::string check(const std::vector<ModelIn> &day, const std::map<std::string, std::string> &user_of_hash)
{
    Day want = reference(day, user_of_hash);
    std::pmr::monotonic_buffer_resource arena;
    KeyOwners owners(&arena);
    for (const auto &[hash, uid] : user_of_hash) {
        Owner o(&arena);
        o.user_id = uid;
        o.username = "name of " + uid;
        o.has_username = true;
        owners.add(hash, std::move(o));
    }
    RebuildDay model(owners, &arena);
    auto feed = [&](const Entry &e, auto &&add) {
        Decimal d;
        bool has_cost = !e.cost.empty() && parse_json_number(e.cost, d);
        add(e.counts, has_cost ? &d : nullptr);
    };
    try {
        for (const ModelIn &m : day) {
            feed(m.e, [&](const int64_t *c, const Decimal *d) { model.add_model(m.name, c, d); });
            for (const KeyIn &k : m.keys)
                feed(k.e, [&](const int64_t *c, const Decimal *d) { model.add_key(k.hash, c, d); });
        }
    } catch (const Error &e) {
        if (!want.overflow)
            return std::string("unexpected error: ") + e.message;
        if (std::string(e.sqlstate) != "22003" || e.message.rfind("bigint out of range rebuilding ", 0) != 0)
            return "wrong overflow error: " + std::string(e.sqlstate) + " " + e.message;
        return "";
    }
    if (want.overflow)
        return "an overflow was not refused";

    if (model.models().size() != want.models.size() || model.users().size() != want.users.size())
        return "different numbers of models or users";
    size_t user_models = 0, cells = 0, model_users = 0;
    for (const auto &[uid, u] : model.users()) {
        auto w = want.users.find(std::string(uid));
        if (w == want.users.end() || !same(u.metrics, w->second))
            return "user " + std::string(uid) + " differs";
        if (u.owner == nullptr || u.owner->user_id != uid)
            return "user " + std::string(uid) + " has another owner";
        bool unknown = uid == kUnknownUserId;
        if ((unknown ? std::string(kUnknownUserName) : "name of " + std::string(uid)) != std::string_view(u.owner->username))
            return "user " + std::string(uid) + " has the wrong name";
        for (const auto &[model_name, um] : u.models) {
            user_models++;
            auto wm = want.user_models.find({std::string(uid), std::string(model_name)});
            if (wm == want.user_models.end() || !same(um.metrics, wm->second))
                return "user " + std::string(uid) + " model " + std::string(model_name) + " differs";
            for (const KeyCell &c : um.api_keys) {
                cells++;
                auto wc = want.cells.find({std::string(uid), std::string(model_name), std::string(c.key_hash)});
                if (wc == want.cells.end() || !same(c.metrics, wc->second))
                    return "cell " + std::string(c.key_hash) + " differs";
            }
        }
    }
    for (const auto &[name, m] : model.models()) {
        auto w = want.models.find(std::string(name));
        if (w == want.models.end() || !same(m.metrics, w->second))
            return "model " + std::string(name) + " differs";
        for (const auto &[uid, mu] : m.users) {
            model_users++;
            auto wm = want.user_models.find({std::string(uid), std::string(name)});
            if (wm == want.user_models.end() || !same(mu.metrics, wm->second))
                return "model " + std::string(name) + " user " + std::string(uid) + " differs";
            if (mu.user != &model.users().at(uid))
                return "model " + std::string(name) + " user " + std::string(uid) + " points elsewhere";
        }
    }
    if (user_models != want.user_models.size() || model_users != want.user_models.size() ||
        cells != want.cells.size())
        return "different numbers of (user, model) pairs or cells";
    return "";
}

}  // namespace rebuild_ref
