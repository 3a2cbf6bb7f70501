// A naive reference of the rebuild model, for the unit tests and the fuzz target: the same day
// summed with std::map, __int128 and BigDecimal straight from CONTRACT §5.5's words (see
// reference() below; any running sum past bigint is an error), then compared with the model's
// tree. Header-only, so test/fuzz can include it.
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
    std::string alias = {};  // raw metadata.key_alias ("" = none)
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
    std::map<std::tuple<std::string, std::string, std::string>, Sum> cells;  // (user, model, alias)
    __int128 total_requests = 0, total_ok = 0, total_failed = 0;
    bool overflow = false;
};

inline bool blank(const std::string &h)
{
    return h.find_first_not_of(" \t\n\r\f\v") == std::string::npos;
}

// CONTRACT §5.5 in plain words (docs/litemaas.md §8, "Rebuild"): a non-blank key counts for
// its owner (the Unknown User when unmapped), that owner's model, that model's user and the
// (owner, model, alias) cell, alias = the key's metadata alias for a mapped key, else its hash;
// a model's requests beyond its keys (blank ones included) go to the Unknown User, requests
// only; models are sums of their parts; users, then models, with 0 requests are dropped;
// total requests = raw (here 0) minus the blank keys' requests; ok/failed = sums of the models.
inline Day reference(const std::vector<ModelIn> &day, const std::map<std::string, std::string> &user_of_hash)
{
    Day r;
    auto add = [&](Sum &s, const Entry &e) {
        s.add(e);
        r.overflow |= s.overflow;
    };
    __int128 skipped = 0;
    for (const ModelIn &m : day) {
        __int128 covered = 0;
        for (const KeyIn &k : m.keys) {
            covered += k.e.counts[kRequests];
            if (blank(k.hash)) {
                skipped += k.e.counts[kRequests];
                continue;
            }
            auto it = user_of_hash.find(k.hash);
            bool mapped = it != user_of_hash.end();
            std::string uid = mapped ? it->second : kUnknownUserId;
            std::string alias = mapped && !k.alias.empty() ? k.alias : k.hash;
            add(r.users[uid], k.e);
            add(r.user_models[{uid, m.name}], k.e);
            add(r.cells[{uid, m.name, alias}], k.e);
            add(r.models[m.name], k.e);
        }
        __int128 rest = __int128(m.e.counts[kRequests]) - covered;
        if (rest > INT64_MAX)
            r.overflow = true;
        else if (rest > 0) {
            Entry e;
            e.counts[kRequests] = int64_t(rest);
            add(r.users[kUnknownUserId], e);
            add(r.user_models[{kUnknownUserId, m.name}], e);
            add(r.models[m.name], e);
        }
    }
    for (auto it = r.users.begin(); it != r.users.end();) {
        if (it->second.counts[kRequests] != 0) {
            ++it;
            continue;
        }
        for (auto um = r.user_models.begin(); um != r.user_models.end();)
            um = um->first.first == it->first ? r.user_models.erase(um) : std::next(um);
        for (auto c = r.cells.begin(); c != r.cells.end();)
            c = std::get<0>(c->first) == it->first ? r.cells.erase(c) : std::next(c);
        it = r.users.erase(it);
    }
    for (auto it = r.models.begin(); it != r.models.end();) {
        if (it->second.counts[kRequests] != 0) {
            r.total_ok += it->second.counts[kSuccessfulRequests];
            r.total_failed += it->second.counts[kFailedRequests];
            ++it;
            continue;
        }
        for (auto um = r.user_models.begin(); um != r.user_models.end();)
            um = um->first.second == it->first ? r.user_models.erase(um) : std::next(um);
        for (auto c = r.cells.begin(); c != r.cells.end();)
            c = std::get<1>(c->first) == it->first ? r.cells.erase(c) : std::next(c);
        it = r.models.erase(it);
    }
    r.total_requests = -skipped;
    for (__int128 v : {r.total_requests, r.total_ok, r.total_failed})
        if (v > INT64_MAX || v < INT64_MIN)
            r.overflow = true;
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
            for (const KeyIn &k : m.keys) {
                std::string_view alias(k.alias);
                feed(k.e, [&](const int64_t *c, const Decimal *d) {
                    model.add_key(k.hash, k.alias.empty() ? nullptr : &alias, c, d);
                });
            }
        }
        int64_t zeros[kCountMetrics] = {};
        model.finish(zeros, nullptr);
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
            for (const auto &[alias, c] : um.api_keys) {
                cells++;
                auto wc = want.cells.find({std::string(uid), std::string(model_name), std::string(alias)});
                if (wc == want.cells.end() || !same(c.metrics, wc->second))
                    return "cell " + std::string(alias) + " differs";
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
    const Totals &t = model.totals();
    if (t.counts[kRequests] != want.total_requests || t.counts[kSuccessfulRequests] != want.total_ok ||
        t.counts[kFailedRequests] != want.total_failed)
        return "different totals";
    return "";
}

}  // namespace rebuild_ref
