// The rebuild model: one day of the gateway's raw_data, fed as models and key entries, becomes
// the documents ducache_rebuild writes (CONTRACT §3, ducache_rebuild). Every rule lives here:
// which keys count (not the empty hash), who owns a key (the api-keys mapping, else the Unknown
// User), which sums go where, the overflow refusal and its message. The adapter only walks
// raw_data, looks owners up and turns the tree below into JSONB.
//
// Tree of one day (plain C++, sorted maps):
//   users  [user_id] -> {owner, metrics, models[M] -> {metrics, api_keys: cells}}
//   models [M]       -> {metrics (the gateway's own), users[user_id] -> {metrics, user}}
// Each (user, model, key) cell is kept though 0.1 writes no api_keys level: CONTRACT §5.5
// (0.2) adds users[U].models[M].api_keys[A] = {keyAlias, keyName, metrics} from these cells.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"
#include "core/decimal.hpp"
#include "core/metrics.hpp"

#include <functional>
#include <map>
#include <memory_resource>
#include <string>
#include <string_view>
#include <vector>

namespace ducache::core {

using PmrString = std::pmr::string;
// Sorted by name; looked up by string_view without building a string.
template <typename V>
using NameMap = std::pmr::map<PmrString, V, std::less<>>;

constexpr const char *kUnknownUserId = "00000000-0000-0000-0000-000000000000";
constexpr const char *kUnknownUserName = "Unknown User";

// LiteMaaS's snake_case name of a metric in the documents the rebuild writes: "api_requests",
// "total_tokens", "prompt_tokens", "completion_tokens", "successful_requests",
// "failed_requests", "spend". (Each is also an alias classify_key reads back.)
const char *nested_metric_name(Metric m);

// Who a key belongs to. A missing field (no users row, NULL column) is written as JSON null.
struct Owner {
    explicit Owner(std::pmr::memory_resource *mr) : user_id(mr), username(mr), email(mr), role(mr) {}
    PmrString user_id, username, email, role;
    bool has_username = false, has_email = false, has_role = false;
};

// Key hash -> owner, from the api-keys (and users) tables; a hash without a mapping is the
// Unknown User. The empty hash is the gateway's bucket for requests without a key: not counted.
class KeyOwners {
public:
    explicit KeyOwners(std::pmr::memory_resource *mr);
    static bool counts_key(std::string_view hash) { return !hash.empty(); }
    // The first owner given for a hash stays (a hash with two api-keys rows maps once).
    void add(std::string_view hash, Owner owner);
    const Owner &of(std::string_view hash) const;
    size_t size() const { return map_.size(); }
    const Owner &unknown() const { return unknown_; }

private:
    NameMap<Owner> map_;
    Owner unknown_;
};

// One (user, model, key) cell: the key's entry under that model on that day.
struct KeyCell {
    KeyCell(std::string_view hash, std::pmr::memory_resource *mr) : key_hash(hash, mr), metrics(mr) {}
    PmrString key_hash;
    Totals metrics;
};

struct UserModelDoc {
    explicit UserModelDoc(std::pmr::memory_resource *mr) : metrics(mr), api_keys(mr) {}
    Totals metrics;
    std::pmr::vector<KeyCell> api_keys;  // at most one cell per hash: a model's keys are unique
};

struct UserDoc {
    explicit UserDoc(std::pmr::memory_resource *mr) : metrics(mr), models(mr) {}
    const Owner *owner = nullptr;  // of the last key counted for this user id
    Totals metrics;
    NameMap<UserModelDoc> models;
};

struct ModelUserDoc {
    explicit ModelUserDoc(std::pmr::memory_resource *mr) : metrics(mr) {}
    Totals metrics;
    const UserDoc *user = nullptr;  // identity is the user document's owner
};

struct ModelDoc {
    explicit ModelDoc(std::pmr::memory_resource *mr) : metrics(mr), users(mr) {}
    Totals metrics;  // the gateway's own metrics of the model, not a sum of its keys
    NameMap<ModelUserDoc> users;
};

// One day. Feed add_model for each model of breakdown.models, each followed by add_key for the
// keys of its api_keys; then read users() and models(). A sum past bigint is ERROR 22003.
class RebuildDay {
public:
    RebuildDay(const KeyOwners &owners, std::pmr::memory_resource *mr);
    void add_model(std::string_view model, const int64_t counts[kCountMetrics], const Decimal *cost);
    // A key of the model last added (ignored when it is the empty hash).
    void add_key(std::string_view key_hash, const int64_t counts[kCountMetrics], const Decimal *cost);

    const NameMap<UserDoc> &users() const { return users_; }
    const NameMap<ModelDoc> &models() const { return models_; }

private:
    const KeyOwners &owners_;
    std::pmr::memory_resource *mr_;
    NameMap<UserDoc> users_;
    NameMap<ModelDoc> models_;
    ModelDoc *model_ = nullptr;
    const PmrString *model_name_ = nullptr;
};

// The members of raw_data copied as they are: what an absent or null member becomes.
// breakdown.providers -> aggregated_by_provider ({} when absent); metrics -> total_metrics
// (SQL NULL when absent). Present but not an object is bad raw data.
enum class RawKind { absent, null, object, other };
enum class CopyAs { copy, empty_object, sql_null };
CopyAs providers_copy(RawKind kind, std::string_view date);
CopyAs total_metrics_copy(RawKind kind, std::string_view date);

// ERROR 22023 "invalid raw_data on DATE at PATH", DETAIL naming the problem.
[[noreturn]] void throw_bad_raw(std::string_view date, const std::string &path, const char *problem);

}  // namespace ducache::core
