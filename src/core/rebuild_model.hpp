// The rebuild model: one day of the gateway's raw_data, fed as models and key entries, becomes
// the documents ducache_rebuild writes: what LiteMaaS's enrichWithUserMapping writes, with its
// evident bugs fixed (CONTRACT §5.5; docs/litemaas.md §2, L2, L15, L16, §8). Every rule lives
// here: which keys count (not a blank hash), who owns a key (the api-keys mapping, else the
// Unknown User), a key's alias and name, which sums go where, the drops of zero-request users
// and models, the day's totals, the overflow refusal and its message. The adapter only walks
// raw_data, looks owners up and turns the tree below into JSONB.
//
// Tree of one day (plain C++, sorted maps):
//   users  [user_id] -> {owner, metrics, models[M] -> {metrics, api_keys[alias] -> {keyName, metrics}}}
//   models [M]       -> {metrics (the sum of its parts, L2), users[user_id] -> {metrics, user}}
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"
#include "core/decimal.hpp"
#include "core/metrics.hpp"
#include "core/unknown_user.hpp"

#include <functional>
#include <map>
#include <memory_resource>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ducache::core {

using PmrString = std::pmr::string;
// Sorted by name; looked up by string_view without building a string.
template <typename V>
using NameMap = std::pmr::map<PmrString, V, std::less<>>;

constexpr const char *kUnknownUserName = "Unknown User";
constexpr const char *kUnknownUserEmail = "unknown@system.local";
constexpr const char *kUnknownKeyName = "Unknown Key";
constexpr const char *kDefaultRole = "user";  // a NULL role reads 'user' (LiteMaaS)

// LiteMaaS's snake_case name of a metric in the documents the rebuild writes: "api_requests",
// "total_tokens", "prompt_tokens", "completion_tokens", "successful_requests",
// "failed_requests", "spend". (Each is also an alias classify_key reads back.)
const char *nested_metric_name(Metric m);

// Who a key belongs to, and what the key is called (api_keys.litellm_key_alias and .name).
// A missing field (NULL column) is written as JSON null; a missing alias falls back to the raw
// data's metadata.key_alias, else the hash.
struct Owner {
    explicit Owner(std::pmr::memory_resource *mr)
        : user_id(mr), username(mr), email(mr), role(mr), key_alias(mr), key_name(mr) {}
    PmrString user_id, username, email, role, key_alias, key_name;
    bool has_username = false, has_email = false, has_role = false, has_key_alias = false, has_key_name = false;
};

// Key hash -> owner, from the api-keys (and users) tables; a hash without a mapping is the
// Unknown User. A blank hash is the gateway's bucket for requests without a key: not counted.
class KeyOwners {
public:
    explicit KeyOwners(std::pmr::memory_resource *mr);
    static bool counts_key(std::string_view hash);
    // The first owner given for a hash stays (a hash with two api-keys rows maps once).
    void add(std::string_view hash, Owner owner);
    const Owner &of(std::string_view hash) const;
    bool is_mapped(const Owner &o) const { return &o != &unknown_; }
    size_t size() const { return map_.size(); }
    const Owner &unknown() const { return unknown_; }

private:
    NameMap<Owner> map_;
    // The same owners by hash: a day looks up every key entry's hash, and hashing a hash beats
    // a dozen string compares down the sorted map.
    std::pmr::unordered_map<std::string_view, const Owner *> by_hash_;
    Owner unknown_;
};

// One (user, model, alias) cell: the keys of that alias under that model on that day, summed.
struct KeyCell {
    explicit KeyCell(std::pmr::memory_resource *mr) : key_name(mr), metrics(mr) {}
    PmrString key_name;  // of the first key of the alias
    bool has_key_name = false;
    Totals metrics;
};

struct ModelUserDoc;

struct UserModelDoc {
    explicit UserModelDoc(std::pmr::memory_resource *mr) : metrics(mr), api_keys(mr) {}
    Totals metrics;
    NameMap<KeyCell> api_keys;  // by alias; requests without key detail have no cell
    ModelUserDoc *in_model = nullptr;  // the same (user, model) pair under models (found once)
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
    Totals metrics;  // the sum of its users' parts (LiteMaaS adds tokens twice: L2)
    NameMap<ModelUserDoc> users;
};

// One day. Feed add_model for each model of breakdown.models, each followed by add_key for
// every key of its api_keys (blank hashes too: they are the skipped requests); then finish()
// with raw_data's own metrics; then read users(), models(), totals(). A sum past bigint is
// ERROR 22003.
class RebuildDay {
public:
    RebuildDay(const KeyOwners &owners, std::pmr::memory_resource *mr);
    void add_model(std::string_view model, const int64_t counts[kCountMetrics], const Decimal *cost);
    // A key of the model last added; meta_alias: raw metadata.key_alias (nullptr: none).
    void add_key(std::string_view key_hash, const std::string_view *meta_alias, const int64_t counts[kCountMetrics],
                 const Decimal *cost);
    // Ends the day: the last model's remainder, the drops, the totals from raw metrics.
    void finish(const int64_t raw_counts[kCountMetrics], const Decimal *raw_cost);

    const NameMap<UserDoc> &users() const { return users_; }
    const NameMap<ModelDoc> &models() const { return models_; }
    const Totals &totals() const { return totals_; }

private:
    void end_model();
    void put(const Owner &owner, const int64_t counts[kCountMetrics], const Decimal *cost, std::string_view alias,
             const Owner *key_of);

    const KeyOwners &owners_;
    std::pmr::memory_resource *mr_;
    NameMap<UserDoc> users_;
    // The user document of each owner met today: found once in users_ (an owner is one key
    // hash; a user with several keys has several owners, all pointing to one document).
    std::pmr::unordered_map<const Owner *, UserDoc *> user_of_;
    NameMap<ModelDoc> models_;
    Totals totals_;
    ModelDoc *model_ = nullptr;
    const PmrString *model_name_ = nullptr;
    __int128 model_raw_requests_ = 0, model_covered_ = 0, skipped_requests_ = 0;
};

// What an absent or null breakdown.providers becomes in aggregated_by_provider ({}); present
// but not an object is bad raw data. raw `metrics` present but not an object is bad raw data too.
enum class RawKind { absent, null, object, other };
enum class CopyAs { copy, empty_object, sql_null };
CopyAs providers_copy(RawKind kind, std::string_view date);
// true: read raw metrics from the object; false: absent or null (all zero).
bool raw_metrics_present(RawKind kind, std::string_view date);

// ERROR 22023 "invalid raw_data on DATE at PATH", DETAIL naming the problem.
[[noreturn]] void throw_bad_raw(std::string_view date, const std::string &path, const char *problem);

}  // namespace ducache::core
