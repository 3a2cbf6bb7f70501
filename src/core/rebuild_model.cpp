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

KeyOwners::KeyOwners(std::pmr::memory_resource *mr) : map_(mr), by_hash_(mr), unknown_(mr)
{
    unknown_.user_id = kUnknownUserId;
    unknown_.username = kUnknownUserName;
    unknown_.email = kUnknownUserEmail;
    unknown_.role = kDefaultRole;
    unknown_.key_name = kUnknownKeyName;
    unknown_.has_username = unknown_.has_email = unknown_.has_role = unknown_.has_key_name = true;
}

// LiteMaaS skips a hash that is empty or only whitespace (`trim() === ''`).
bool KeyOwners::counts_key(std::string_view hash)
{
    for (char c : hash)
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v')
            return true;
    return false;
}

void KeyOwners::add(std::string_view hash, Owner owner)
{
    if (map_.find(hash) != map_.end())
        return;
    auto it = map_.emplace(PmrString(hash, map_.get_allocator().resource()), std::move(owner)).first;
    by_hash_.emplace(std::string_view(it->first), &it->second);  // map nodes do not move
}

const Owner &KeyOwners::of(std::string_view hash) const
{
    auto it = by_hash_.find(hash);
    return it == by_hash_.end() ? unknown_ : *it->second;
}

namespace {

[[noreturn]] void overflow(const char *what)
{
    throw Error("22003", std::string("bigint out of range rebuilding ") + what, "A sum passes 9223372036854775807.");
}

// One sum of the tree; `what` names it in the overflow message.
void add_to(Totals &t, const int64_t counts[kCountMetrics], const Decimal *cost, const char *what)
{
    if (t.add(counts, cost) != kMetricCount)
        overflow(what);
}

int64_t checked(__int128 v, const char *what)
{
    if (v > INT64_MAX || v < INT64_MIN)
        overflow(what);
    return int64_t(v);
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
    : owners_(owners), mr_(mr), users_(mr), user_of_(mr), models_(mr), totals_(mr)
{
}

void RebuildDay::add_model(std::string_view model, const int64_t counts[kCountMetrics], const Decimal *)
{
    end_model();
    // The model's own metrics only say how many requests it had: the rest of its figures are
    // the sums of its keys (L2).
    model_ = &entry(models_, model, mr_);
    model_name_ = &models_.find(model)->first;
    model_raw_requests_ = counts[kRequests];
    model_covered_ = 0;
}

void RebuildDay::add_key(std::string_view key_hash, const std::string_view *meta_alias,
                         const int64_t counts[kCountMetrics], const Decimal *cost)
{
    if (model_ == nullptr)
        return;
    model_covered_ += counts[kRequests];
    if (!KeyOwners::counts_key(key_hash)) {
        skipped_requests_ += counts[kRequests];
        return;
    }
    const Owner &owner = owners_.of(key_hash);
    std::string_view alias = key_hash;  // an unmapped key stays keyed by its hash (L15)
    if (owners_.is_mapped(owner)) {
        if (owner.has_key_alias && !owner.key_alias.empty())
            alias = owner.key_alias;
        else if (meta_alias && !meta_alias->empty())
            alias = *meta_alias;
    }
    put(owner, counts, cost, alias, &owner);
}

void RebuildDay::put(const Owner &owner, const int64_t counts[kCountMetrics], const Decimal *cost,
                     std::string_view alias, const Owner *key_of)
{
    UserDoc *&known = user_of_[&owner];
    if (known == nullptr)
        known = &entry(users_, owner.user_id, mr_);
    UserDoc &user = *known;
    user.owner = &owner;
    // The order of these sums decides which overflow is reported: keep it.
    add_to(user.metrics, counts, cost, "user metrics");
    UserModelDoc &user_model = entry(user.models, *model_name_, mr_);
    add_to(user_model.metrics, counts, cost, "user model metrics");
    if (key_of) {  // summed: two hashes with one alias must not overwrite each other (L15)
        bool first = user_model.api_keys.find(alias) == user_model.api_keys.end();
        KeyCell &cell = entry(user_model.api_keys, alias, mr_);
        if (first) {  // the name of the alias's first key stays
            cell.key_name = key_of->key_name;
            cell.has_key_name = key_of->has_key_name;
        }
        add_to(cell.metrics, counts, cost, "key metrics");
    }
    add_to(model_->metrics, counts, cost, "model metrics");
    if (user_model.in_model == nullptr)  // model_ is the model named *model_name_
        user_model.in_model = &entry(model_->users, owner.user_id, mr_);
    ModelUserDoc &model_user = *user_model.in_model;
    model_user.user = &user;
    add_to(model_user.metrics, counts, cost, "model user metrics");
}

void RebuildDay::end_model()
{
    if (model_ == nullptr)
        return;
    // Requests the gateway reports for the model beyond its keys: the Unknown User, requests
    // only, no key cell (as LiteMaaS does).
    __int128 rest = model_raw_requests_ - model_covered_;
    if (rest > 0) {
        int64_t counts[kCountMetrics] = {};
        counts[kRequests] = checked(rest, "model metrics");
        put(owners_.unknown(), counts, nullptr, {}, nullptr);
    }
    model_ = nullptr;
}

void RebuildDay::finish(const int64_t raw_counts[kCountMetrics], const Decimal *raw_cost)
{
    end_model();
    // Users, then models, with 0 requests are dropped, as LiteMaaS does.
    for (auto it = users_.begin(); it != users_.end();) {
        if (it->second.metrics.counts[kRequests] != 0) {
            ++it;
            continue;
        }
        for (auto &[name, m] : models_)
            m.users.erase(it->first);
        it = users_.erase(it);
    }
    for (auto it = models_.begin(); it != models_.end();) {
        if (it->second.metrics.counts[kRequests] != 0) {
            ++it;
            continue;
        }
        for (auto &[uid, u] : users_)
            u.models.erase(it->first);
        it = models_.erase(it);
    }
    // total_metrics: the raw day metrics without the skipped requests; successful and failed
    // from the keys kept (L16: LiteMaaS takes skipped requests off the successful ones).
    __int128 ok = 0, failed = 0;
    for (const auto &[name, m] : models_) {
        ok += m.metrics.counts[kSuccessfulRequests];
        failed += m.metrics.counts[kFailedRequests];
    }
    int64_t counts[kCountMetrics];
    for (int m = 0; m < kCountMetrics; m++)
        counts[m] = raw_counts[m];
    counts[kRequests] = checked(__int128(raw_counts[kRequests]) - skipped_requests_, "total metrics");
    counts[kSuccessfulRequests] = checked(ok, "total metrics");
    counts[kFailedRequests] = checked(failed, "total metrics");
    add_to(totals_, counts, raw_cost, "total metrics");
}

void throw_bad_raw(std::string_view date, const std::string &path, const char *problem)
{
    std::string d(date);
    throw Error("22023", "invalid raw_data on " + d + " at " + path,
                "raw_data on " + d + ", " + path + ": " + problem + ".");
}

CopyAs providers_copy(RawKind kind, std::string_view date)
{
    switch (kind) {
    case RawKind::object:
        return CopyAs::copy;
    case RawKind::other:
        throw_bad_raw(date, "breakdown.providers", "not a JSON object");
    default:
        return CopyAs::empty_object;
    }
}

bool raw_metrics_present(RawKind kind, std::string_view date)
{
    if (kind == RawKind::other)
        throw_bad_raw(date, "metrics", "not a JSON object");
    return kind == RawKind::object;
}

}  // namespace ducache::core
