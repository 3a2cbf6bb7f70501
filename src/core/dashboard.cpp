#include "core/dashboard.hpp"

#include "core/dashboard_partial.hpp"
#include "core/dashboard_trend.hpp"
#include "core/error_text.hpp"
#include "core/filters.hpp"
#include "core/count_sum.hpp"
#include "core/json_writer.hpp"
#include "core/ordered_lookup.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

namespace ducache::core {

namespace {

const Decimal *cost_of(const EntryValues &v) { return v.cost_seen ? &v.cost : nullptr; }

// The metric fields of a user or model summary (LiteMaaS's snake_case names).
void summary_metrics(JsonWriter &w, const Totals &t)
{
    w.key("requests"), w.integer(t.counts[kRequests]);
    w.key("tokens"), w.integer(t.counts[kTotalTokens]);
    w.key("prompt_tokens"), w.integer(t.counts[kPromptTokens]);
    w.key("completion_tokens"), w.integer(t.counts[kCompletionTokens]);
    w.key("cost"), w.number_text(t.cost.to_string());
}

}  // namespace

struct DashboardBuilder::Impl : DashboardState {
    Impl(std::pmr::memory_resource *mr, DashboardOptions o)
        : DashboardState(mr), options(o), users_order(users, jsonb_key_compare, mr),
          prev_users_order(prev_users, jsonb_key_compare, mr), idents_order(idents, jsonb_key_compare, mr),
          keys_order(keys, key_pair_compare, mr)
    {
    }
    DashboardOptions options;
    // Lookups of keys handed in with a position, i.e. in their object's order
    // (core/ordered_lookup.hpp): every row lists its users (key_totals its pairs) in one order.
    OrderedLookup users_order, prev_users_order, idents_order, keys_order;

    // The day being read (its row goes to `days` when the next day begins). day_sums: usage
    // handed in also counts for the day (a day row; not a rollup, whose days come whole).
    bool in_day = false, current = false, day_sums = false;
    std::string date;
    std::optional<Totals> day_total;
    std::unique_ptr<KeyAggregator> day_models;
    std::string key_buf;  // key_usage()'s pair key
    void write_days(JsonWriter &daily, JsonWriter &daily_models) const;

    FixedLabel where() const { return FixedLabel(date); }
    void end_day();
    std::string_view provider_of(std::string_view model) const
    {
        auto it = model_provider.find(model);
        return it == model_provider.end() ? provider_from_name(model) : std::string_view(it->second.provider);
    }
    void open_day(std::string_view day, bool cur)
    {
        end_day();
        in_day = true;
        current = cur;
        date.assign(day);
        (cur ? has_current : has_previous) = true;
        day_total.emplace(mr);
        day_models = std::make_unique<KeyAggregator>(mr);
        for (OrderedLookup *o : {&users_order, &prev_users_order, &idents_order, &keys_order})
            o->begin();
    }
    // byProvider: every model's (or unprovided model's) sums under its provider.
    void group_by_provider(const KeyAggregator &from)
    {
        const FixedLabel where("the range");
        for (const Slot &m : from.slots()) {
            std::string_view p = provider_of(m.key_view());
            Totals &t = providers.find_or_insert(p.data(), p.size()).totals;
            add_counts_or_throw(t.counts, m.totals.counts, "the dashboard's providers", p, where);
            t.cost.add(m.totals.cost);
        }
    }
    void model_summary(JsonWriter &w, std::string_view model, const Totals &t) const
    {
        w.begin_object();
        w.key("modelId"), w.string(model);
        w.key("modelName"), w.string(model);
        w.key("provider"), w.string(provider_of(model));
        summary_metrics(w, t);
        w.end_object();
    }
    void user_summary(JsonWriter &w, std::string_view user, const Totals &t) const
    {
        const Slot *id = idents.find(user.data(), user.size());
        w.begin_object();
        w.key("userId"), w.string(user);
        w.key("username"), w.string_or_null(id ? id->totals.username : "", id && !id->totals.username.empty());
        w.key("email"), w.string_or_null(id ? id->totals.email : "", id && !id->totals.email.empty());
        w.key("role"), w.string_or_null(id ? id->totals.role : "", id && !id->totals.role.empty());
        summary_metrics(w, t);
        w.end_object();
    }
    void trends(JsonWriter &w, int64_t cur_users, int64_t prev_users_n) const;
};

void DashboardBuilder::Impl::end_day()
{
    if (!in_day || !current)
        return;
    in_day = false;
    days.emplace_back(date, mr);
    days.back().total = std::move(*day_total);
    days.back().models = std::move(day_models);
}

void DashboardBuilder::Impl::write_days(JsonWriter &daily, JsonWriter &daily_models) const
{
    for (const Day &d : days) {
        // dailyUsage: days whose passing requests are 0 are dropped (LiteMaaS)
        if (d.total.counts[kRequests] > 0) {
            daily.begin_object();
            daily.key("date"), daily.string(d.date);
            summary_metrics(daily, d.total);
            daily.end_object();
        }
        // dailyModelUsage: models with requests > 0, by requests descending, ties by name
        // (L8); a day without any is dropped
        std::vector<const Slot *> list;
        for (const Slot &s : d.models->slots())
            if (s.totals.counts[kRequests] > 0)
                list.push_back(&s);
        if (list.empty())
            continue;
        std::sort(list.begin(), list.end(), [](const Slot *a, const Slot *b) {
            if (a->totals.counts[kRequests] != b->totals.counts[kRequests])
                return a->totals.counts[kRequests] > b->totals.counts[kRequests];
            return a->key_view() < b->key_view();
        });
        daily_models.begin_object();
        daily_models.key("date"), daily_models.string(d.date);
        daily_models.key("models"), daily_models.begin_array();
        for (const Slot *s : list)
            model_summary(daily_models, s->key_view(), s->totals);
        daily_models.end_array();
        daily_models.end_object();
    }
}

DashboardBuilder::DashboardBuilder(std::pmr::memory_resource *mr, DashboardOptions options)
    : impl_(std::make_unique<Impl>(mr, options))
{
}

DashboardBuilder::~DashboardBuilder() = default;

void DashboardBuilder::begin_day(int32_t, std::string_view date, bool current)
{
    impl_->open_day(date, current);
    impl_->day_sums = true;
}

void DashboardBuilder::begin_rollup(std::string_view month, bool current)
{
    Impl &s = *impl_;
    s.open_day(month, current);
    s.in_day = false;  // no daily row of its own: rollup_day() hands in its days
    s.day_sums = false;
}

void DashboardBuilder::rollup_day(std::string_view date, const EntryValues &users_total)
{
    Impl &s = *impl_;
    bool current = s.current;
    s.open_day(date, current);
    s.day_sums = false;
    s.day_total->add_or_throw(users_total.counts, cost_of(users_total), "the dashboard's daily usage", "",
                              s.where());
}

void DashboardBuilder::rollup_day_model(std::string_view model, const EntryValues &v)
{
    Impl &s = *impl_;
    s.day_models->find_or_insert(model.data(), model.size())
        .totals.add_or_throw(v.counts, cost_of(v), "the dashboard's daily model usage", model, s.where());
}

namespace {
Slot &lookup(KeyAggregator &agg, OrderedLookup &in_order, std::string_view key, uint32_t position)
{
    return position == DashboardBuilder::kNoPosition ? agg.find_or_insert(key.data(), key.size())
                                                     : in_order.find_or_insert(key);
}

// The first slot of KeyAggregator::sorted() (cost descending, then key in byte order) without
// sorting them all: the top API key is all the document shows of 20K+ pairs.
const Slot *first_by_cost(const KeyAggregator &agg)
{
    const Slot *best = nullptr;
    for (const Slot &s : agg.slots()) {
        if (best == nullptr) {
            best = &s;
            continue;
        }
        int c = s.totals.cost.compare(best->totals.cost);
        if (c > 0 || (c == 0 && s.key_view() < best->key_view()))
            best = &s;
    }
    return best;
}
}  // namespace

void DashboardBuilder::user_usage(std::string_view user, const EntryValues &v, uint32_t position)
{
    Impl &s = *impl_;
    FixedLabel where = s.where();
    KeyAggregator &agg = s.current ? s.users : s.prev_users;
    lookup(agg, s.current ? s.users_order : s.prev_users_order, user, position)
        .totals.add_or_throw(v.counts, cost_of(v), "the dashboard's users", user, where);
    (s.current ? s.total : s.prev_total).add_or_throw(v.counts, cost_of(v), "the dashboard's totals", user, where);
    if (s.current && s.day_sums)
        s.day_total->add_or_throw(v.counts, cost_of(v), "the dashboard's daily usage", user, where);
}

void DashboardBuilder::identity(std::string_view user, const EntryValues &v, uint32_t position)
{
    Impl &s = *impl_;
    if (!s.current || v.username.empty())
        return;
    // Copied only when it changed: the same identity comes back every day.
    Totals &t = lookup(s.idents, s.idents_order, user, position).totals;
    auto keep = [&](std::string_view &dst, std::string_view src) {
        if (dst != src)
            dst = src.empty() ? std::string_view() : s.idents.store(src.data(), src.size());
    };
    keep(t.username, v.username);
    keep(t.email, v.email);
    keep(t.role, v.role);
}

void DashboardBuilder::own_provider(std::string_view model, std::string_view provider, int32_t day)
{
    impl_->note_provider(model, provider, day, true);  // in date order: the latest call wins
}

std::string_view DashboardBuilder::provider_of(std::string_view model) const { return impl_->provider_of(model); }

void DashboardBuilder::model_usage(std::string_view model, const EntryValues &v)
{
    Impl &s = *impl_;
    if (!s.current)
        return;
    FixedLabel where = s.where();
    s.models.find_or_insert(model.data(), model.size())
        .totals.add_or_throw(v.counts, cost_of(v), "the dashboard's models", model, where);
    if (s.day_sums)
        s.day_models->find_or_insert(model.data(), model.size())
            .totals.add_or_throw(v.counts, cost_of(v), "the dashboard's daily model usage", model, where);
}

void DashboardBuilder::unprovided_model_usage(std::string_view model, const EntryValues &v)
{
    Impl &s = *impl_;
    if (!s.current)
        return;
    s.unprovided.find_or_insert(model.data(), model.size())
        .totals.add_or_throw(v.counts, cost_of(v), "the dashboard's providers", model, s.where());
}

void DashboardBuilder::provider_usage(std::string_view provider, const EntryValues &v)
{
    Impl &s = *impl_;
    if (!s.current)
        return;
    FixedLabel where = s.where();
    s.providers.find_or_insert(provider.data(), provider.size())
        .totals.add_or_throw(v.counts, cost_of(v), "the dashboard's providers", provider, where);
}

void DashboardBuilder::key_usage(std::string_view alias, std::string_view user, const EntryValues &v,
                                 uint32_t position)
{
    Impl &s = *impl_;
    if (!s.current)
        return;
    // (alias, user) as one key: alias, NUL, user (byte order of the pair = order of this key);
    // built in a buffer kept across calls (a 30K-cell rollup paid one allocation per cell).
    std::string &k = s.key_buf;
    k.assign(alias).push_back('\0');
    k.append(user);
    FixedLabel where = s.where();
    lookup(s.keys, s.keys_order, k, position).totals.add_or_throw(v.counts, cost_of(v), "the dashboard's API keys", alias, where);
}

void DashboardBuilder::Impl::trends(JsonWriter &w, int64_t cur_users, int64_t prev_users_n) const
{
    struct Row {
        const char *key, *metric;
        std::string cur, prev;
    };
    auto count = [](const Totals &t, Metric m) { return std::to_string(t.counts[m]); };
    Row rows[] = {
        {"requestsTrend", "requests", count(total, kRequests), count(prev_total, kRequests)},
        {"costTrend", "cost", total.cost.to_string(), prev_total.cost.to_string()},
        {"usersTrend", "users", std::to_string(cur_users), std::to_string(prev_users_n)},
        {"totalTokensTrend", "totalTokens", count(total, kTotalTokens), count(prev_total, kTotalTokens)},
        {"promptTokensTrend", "promptTokens", count(total, kPromptTokens), count(prev_total, kPromptTokens)},
        {"completionTokensTrend", "completionTokens", count(total, kCompletionTokens),
         count(prev_total, kCompletionTokens)},
    };
    w.key("trends"), w.begin_object();
    for (const Row &r : rows) {
        w.key(r.key), w.begin_object();
        w.key("metric"), w.string(r.metric);
        w.key("current"), w.number_text(r.cur);
        if (!has_previous) {  // no cached day in the comparison period: createEmptyTrend
            w.key("previous"), w.integer(0);
            w.key("percentageChange"), w.integer(0);
            w.key("direction"), w.string("stable");
        } else {
            TrendChange c = trend_change(r.cur, r.prev);
            w.key("previous"), w.number_text(r.prev);
            w.key("percentageChange"), w.number_text(c.percentage);
            w.key("direction"), w.string(c.direction);
        }
        w.end_object();
    }
    w.end_object();
}

std::string DashboardBuilder::partial()
{
    impl_->end_day();
    return serialize_dashboard_state(*impl_);
}

void DashboardBuilder::merge_partial(const char *data, size_t len)
{
    DashboardState other(impl_->mr);
    deserialize_dashboard_state(data, len, other);
    impl_->merge(other);
}

void DashboardBuilder::for_each_own_provider(
    const std::function<void(std::string_view, std::string_view)> &f) const
{
    for (const auto &[model, p] : impl_->model_provider)
        f(model, p.provider);
}

std::string DashboardBuilder::document(std::string_view start, std::string_view end)
{
    Impl &s = *impl_;
    s.end_day();
    // byProvider: filtered, the passing model figures by provider; unfiltered, the stored
    // providers plus the models of the days that had none (L3).
    s.group_by_provider(s.options.filtered ? s.models : s.unprovided);
    JsonWriter w;
    if (!s.has_current) {  // createEmptyAnalytics
        write_empty_dashboard(w, start, end);
        return w.take();
    }
    // Users and models whose summed requests are 0 are dropped (LiteMaaS); sorted by cost
    // descending, ties by key in byte order (L8).
    auto nonzero = [](const KeyAggregator &agg) {
        std::vector<const Slot *> out;
        for (const Slot *p : agg.sorted())
            if (p->totals.counts[kRequests] != 0)
                out.push_back(p);
        return out;
    };
    std::vector<const Slot *> users = nonzero(s.users), models = nonzero(s.models);
    int64_t prev_users = s.prev_users_counted;  // counted by the shards (core/dashboard_state.hpp)
    for (const Slot &p : s.prev_users.slots())
        prev_users += p.totals.counts[kRequests] != 0;
    int64_t active = 0;
    for (const Slot *p : users)
        active += p->totals.counts[kRequests] > 0;

    w.begin_object();
    w.key("period"), w.begin_object(), w.key("startDate"), w.string(start), w.key("endDate"), w.string(end);
    w.end_object();
    w.key("totalUsers"), w.integer(int64_t(users.size()));
    w.key("activeUsers"), w.integer(active);
    w.key("totalRequests"), w.integer(s.total.counts[kRequests]);
    w.key("totalTokens"), w.begin_object();
    w.key("total"), w.integer(s.total.counts[kTotalTokens]);
    w.key("prompt"), w.integer(s.total.counts[kPromptTokens]);
    w.key("completion"), w.integer(s.total.counts[kCompletionTokens]);
    w.end_object();
    w.key("totalCost"), w.begin_object();
    w.key("total"), w.number_text(s.total.cost.to_string());
    w.key("byProvider"), w.begin_object();
    for (const Slot *p : s.providers.sorted())
        w.key(p->key_view()), w.number_text(p->totals.cost.to_string());
    w.end_object();
    w.key("byModel"), w.begin_object();
    for (const Slot *p : models)
        w.key(p->key_view()), w.number_text(p->totals.cost.to_string());
    w.end_object();
    w.key("byUser"), w.begin_object();
    for (const Slot *p : users)
        w.key(p->key_view()), w.number_text(p->totals.cost.to_string());
    w.end_object();
    w.end_object();
    int64_t requests = s.total.counts[kRequests];
    w.key("successRate");
    if (requests > 0)
        w.real(double(s.total.counts[kSuccessfulRequests]) * 100.0 / double(requests));
    else
        w.integer(0);
    w.key("averageLatency"), w.integer(0);

    w.key("topMetrics"), w.begin_object();
    w.key("topUser");  // never the Unknown User
    auto top_user = std::find_if(users.begin(), users.end(), [](const Slot *p) { return p->key_view() != kUnknownUserId; });
    if (top_user == users.end())
        w.null();
    else
        s.user_summary(w, (*top_user)->key_view(), (*top_user)->totals);
    w.key("topModel");
    if (models.empty())
        w.null();
    else
        s.model_summary(w, models[0]->key_view(), models[0]->totals);
    w.key("topApiKey");  // L5: LiteMaaS always null
    if (s.keys.size() == 0) {
        w.null();
    } else {
        const Slot *k = first_by_cost(s.keys);
        std::string_view both = k->key_view();
        size_t nul = both.find('\0');
        std::string_view alias = both.substr(0, nul), user = both.substr(nul + 1);
        const Slot *id = s.idents.find(user.data(), user.size());
        w.begin_object();
        w.key("keyId"), w.string(alias);
        w.key("keyAlias"), w.string(alias);
        w.key("userId"), w.string(user);
        w.key("username"), w.string_or_null(id ? id->totals.username : "", id && !id->totals.username.empty());
        w.key("requests"), w.integer(k->totals.counts[kRequests]);
        w.key("tokens"), w.integer(k->totals.counts[kTotalTokens]);
        w.key("cost"), w.number_text(k->totals.cost.to_string());
        w.end_object();
    }
    w.end_object();

    s.trends(w, int64_t(users.size()), prev_users);
    JsonWriter daily, daily_models;
    daily.begin_array();
    daily_models.begin_array();
    s.write_days(daily, daily_models);
    daily.end_array();
    daily_models.end_array();
    w.key("dailyUsage"), w.number_text(daily.text());
    w.key("dailyModelUsage"), w.number_text(daily_models.text());
    w.key("topModels"), w.begin_array();
    for (size_t i = 0; i < models.size() && i < size_t(kTopModels); i++)
        s.model_summary(w, models[i]->key_view(), models[i]->totals);
    w.end_array();
    w.key("topUsers"), w.begin_array();
    int n = 0;
    for (const Slot *p : users) {
        if (n == kTopUsers)
            break;
        if ((s.options.user_filter && p->key_view() == kUnknownUserId) || p->totals.counts[kRequests] <= 0)
            continue;
        s.user_summary(w, p->key_view(), p->totals);
        n++;
    }
    w.end_array();
    w.end_object();
    return w.take();
}

}  // namespace ducache::core
