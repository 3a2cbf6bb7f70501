#include "core/rebuild_model.hpp"

#include "core/error.hpp"

namespace ducache::core {

const char *nested_metric_name(Metric m)
{
    static const char *const names[kMetricCount] = {"api_requests",        "total_tokens",    "prompt_tokens",
                                                    "completion_tokens",   "successful_requests",
                                                    "failed_requests",     "spend"};
    return m >= 0 && m < kMetricCount ? names[m] : "?";
}

KeyOwners::KeyOwners(std::pmr::memory_resource *mr) : map_(mr), unknown_(mr)
{
    unknown_.user_id = kUnknownUserId;
    unknown_.username = kUnknownUserName;
    unknown_.has_username = true;
}

void KeyOwners::add(std::string_view hash, Owner owner)
{
    if (map_.find(hash) == map_.end())
        map_.emplace(PmrString(hash, map_.get_allocator().resource()), std::move(owner));
}

const Owner &KeyOwners::of(std::string_view hash) const
{
    auto it = map_.find(hash);
    return it == map_.end() ? unknown_ : it->second;
}

namespace {

// One sum of the tree; `what` names it in the overflow message.
void add_to(Totals &t, const int64_t counts[kCountMetrics], const Decimal *cost, const char *what)
{
    if (t.add(counts, cost) != kMetricCount)
        throw Error("22003", std::string("bigint out of range rebuilding ") + what,
                    "A sum passes 9223372036854775807.");
}

template <typename Map>
typename Map::mapped_type &entry(Map &map, std::string_view key, std::pmr::memory_resource *mr)
{
    auto it = map.lower_bound(key);
    if (it == map.end() || it->first != key)
        it = map.emplace_hint(it, std::piecewise_construct, std::forward_as_tuple(key),
                              std::forward_as_tuple(mr));
    return it->second;
}

}  // namespace

RebuildDay::RebuildDay(const KeyOwners &owners, std::pmr::memory_resource *mr)
    : owners_(owners), mr_(mr), users_(mr), models_(mr)
{
}

void RebuildDay::add_model(std::string_view model, const int64_t counts[kCountMetrics], const Decimal *cost)
{
    auto it = models_.lower_bound(model);
    if (it == models_.end() || it->first != model)
        it = models_.emplace_hint(it, std::piecewise_construct, std::forward_as_tuple(model),
                                  std::forward_as_tuple(mr_));
    model_ = &it->second;
    model_name_ = &it->first;
    add_to(model_->metrics, counts, cost, "model metrics");
}

void RebuildDay::add_key(std::string_view key_hash, const int64_t counts[kCountMetrics], const Decimal *cost)
{
    if (!KeyOwners::counts_key(key_hash) || model_ == nullptr)
        return;
    const Owner &owner = owners_.of(key_hash);
    UserDoc &user = entry(users_, owner.user_id, mr_);
    user.owner = &owner;
    // The order of these sums decides which overflow is reported: keep it.
    add_to(user.metrics, counts, cost, "user metrics");
    UserModelDoc &user_model = entry(user.models, *model_name_, mr_);
    add_to(user_model.metrics, counts, cost, "user model metrics");
    ModelUserDoc &model_user = entry(model_->users, owner.user_id, mr_);
    model_user.user = &user;
    add_to(model_user.metrics, counts, cost, "model user metrics");
    user_model.api_keys.emplace_back(key_hash, mr_);
    add_to(user_model.api_keys.back().metrics, counts, cost, "key metrics");
}

void throw_bad_raw(std::string_view date, const std::string &path, const char *problem)
{
    std::string d(date);
    throw Error("22023", "invalid raw_data on " + d + " at " + path,
                "raw_data on " + d + ", " + path + ": " + problem + ".");
}

namespace {
CopyAs copy_rule(RawKind kind, std::string_view date, const char *path, CopyAs when_missing)
{
    switch (kind) {
    case RawKind::object:
        return CopyAs::copy;
    case RawKind::other:
        throw_bad_raw(date, path, "not a JSON object");
    default:
        return when_missing;
    }
}
}  // namespace

CopyAs providers_copy(RawKind kind, std::string_view date)
{
    return copy_rule(kind, date, "breakdown.providers", CopyAs::empty_object);
}

CopyAs total_metrics_copy(RawKind kind, std::string_view date)
{
    return copy_rule(kind, date, "metrics", CopyAs::sql_null);
}

}  // namespace ducache::core
