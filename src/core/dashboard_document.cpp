// DashboardBuilder::document(): the dashboard from the sums handed in, into a JsonSink.
#include "core/dashboard_impl.hpp"

#include "core/dashboard_trend.hpp"

#include <algorithm>
#include <vector>

namespace ducache::core {

namespace {
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

// dailyUsage: days whose passing requests are 0 are dropped (LiteMaaS)
void DashboardBuilder::Impl::write_daily(JsonSink &w) const
{
    for (const Day &d : days) {
        if (d.total.counts[kRequests] > 0) {
            using M = FlatMember;
            const Totals &t = d.total;
            if (w.orders_members()) {  // JSONB's key order
                M m[] = {M::of("cost", t.cost),
                         M::of("date", std::string_view(d.date)),
                         M::of("tokens", t.counts[kTotalTokens]),
                         M::of("requests", t.counts[kRequests]),
                         M::of("prompt_tokens", t.counts[kPromptTokens]),
                         M::of("completion_tokens", t.counts[kCompletionTokens])};
                w.flat_object(m, std::size(m));
            } else {
                M m[] = {M::of("date", std::string_view(d.date)),
                         M::of("requests", t.counts[kRequests]),
                         M::of("tokens", t.counts[kTotalTokens]),
                         M::of("prompt_tokens", t.counts[kPromptTokens]),
                         M::of("completion_tokens", t.counts[kCompletionTokens]),
                         M::of("cost", t.cost)};
                w.flat_object(m, std::size(m));
            }
        }
    }
}

// dailyModelUsage: models with requests > 0, by requests descending, ties by name (L8); a day
// without any is dropped
void DashboardBuilder::Impl::write_daily_models(JsonSink &w) const
{
    std::vector<const Slot *> list;
    for (const Day &d : days) {
        list.clear();
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
        w.begin_object();
        w.key("date"), w.string(d.date);
        w.key("models"), w.begin_array();
        for (const Slot *s : list)
            model_summary(w, s->key_view(), s->totals);
        w.end_array();
        w.end_object();
    }
}

void DashboardBuilder::Impl::trends(JsonSink &w, int64_t cur_users, int64_t prev_users_n) const
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
        w.key("current"), w.decimal(r.cur);
        if (!has_previous) {  // no cached day in the comparison period: createEmptyTrend
            w.key("previous"), w.integer(0);
            w.key("percentageChange"), w.integer(0);
            w.key("direction"), w.string("stable");
        } else {
            TrendChange c = trend_change(r.cur, r.prev);
            w.key("previous"), w.decimal(r.prev);
            w.key("percentageChange"), w.decimal(c.percentage);
            w.key("direction"), w.string(c.direction);
        }
        w.end_object();
    }
    w.end_object();
}

std::string DashboardBuilder::document(std::string_view start, std::string_view end)
{
    JsonTextSink text;
    document(start, end, text);
    return text.take();
}

void DashboardBuilder::document(std::string_view start, std::string_view end, JsonSink &w)
{
    Impl &s = *impl_;
    s.flush_run();
    s.end_day();
    s.settle_previous();
    // byProvider: filtered, the passing model figures by provider; unfiltered, the stored
    // providers plus the models of the days that had none (L3).
    s.group_by_provider(s.options.filtered ? s.models : s.unprovided);
    if (!s.has_current) {  // createEmptyAnalytics
        write_empty_dashboard(w, start, end);
        return;
    }
    // Users and models whose summed requests are 0 are dropped (LiteMaaS); listed by cost
    // descending, ties by key in byte order (L8).
    auto nonzero = [](const KeyAggregator &agg) {
        std::vector<const Slot *> out;
        for (const Slot *p : agg.sorted())
            if (p->totals.counts[kRequests] != 0)
                out.push_back(p);
        return out;
    };
    std::vector<const Slot *> models = nonzero(s.models);
    // The users (~10K): only topUser and topUsers need the cost order, and a sink that orders
    // the members itself (JSONB) takes byUser in any order: then in JSONB key order where the
    // range's user walk left it (the sink finds them sorted), else in slot order.
    std::vector<const Slot *> users;
    if (w.orders_members()) {
        users.reserve(s.users.size());
        s.sync_users_order();  // the slots run_slots() made last, if any
        const std::pmr::vector<uint32_t> &order = s.users_order.settled_order();
        const std::pmr::vector<Slot> &slots = s.users.slots();
        if (order.size() == slots.size()) {
            for (uint32_t i : order)
                if (slots[i].totals.counts[kRequests] != 0)
                    users.push_back(&slots[i]);
        } else {
            for (const Slot &p : slots)
                if (p.totals.counts[kRequests] != 0)
                    users.push_back(&p);
        }
    } else {
        users = nonzero(s.users);
    }
    auto by_cost = [](const Slot *a, const Slot *b) {
        int c = a->totals.cost.compare(b->totals.cost);
        return c != 0 ? c > 0 : a->key_view() < b->key_view();
    };
    // topUser: the first by cost that is not the Unknown User.
    const Slot *top_user = nullptr;
    for (const Slot *p : users) {  // by_cost(p, top_user) with the costs compared inline first
        if (top_user != nullptr) {
            const int c = p->totals.cost.compare(top_user->totals.cost);
            if (c < 0 || (c == 0 && !(p->key_view() < top_user->key_view())))
                continue;
        }
        if (p->key_view() != kUnknownUserId)
            top_user = p;
    }
    // topUsers: the first kTopUsers by cost of those it may list.
    std::vector<const Slot *> top_users;
    for (const Slot *p : users)
        if (!(s.options.user_filter && p->key_view() == kUnknownUserId) && p->totals.counts[kRequests] > 0)
            top_users.push_back(p);
    size_t n_top = std::min(top_users.size(), size_t(kTopUsers));
    std::partial_sort(top_users.begin(), top_users.begin() + std::ptrdiff_t(n_top), top_users.end(), by_cost);
    top_users.resize(n_top);
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
    w.key("total"), w.decimal_sum(s.total.cost);
    w.key("byProvider"), w.begin_object();
    for (const Slot *p : s.providers.sorted())
        w.key(p->key_view()), w.decimal_sum(p->totals.cost);
    w.end_object();
    w.key("byModel"), w.begin_object();
    for (const Slot *p : models)
        w.key(p->key_view()), w.decimal_sum(p->totals.cost);
    w.end_object();
    w.key("byUser");
    {
        std::vector<SumMember> by_user;
        by_user.reserve(users.size());
        for (const Slot *p : users)
            by_user.push_back(SumMember{p->key_view(), &p->totals.cost});
        w.sum_object(by_user.data(), by_user.size());
    }
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
    if (top_user == nullptr)
        w.null();
    else
        s.user_summary(w, top_user->key_view(), top_user->totals);
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
        w.key("cost"), w.decimal(k->totals.cost.to_string());
        w.end_object();
    }
    w.end_object();

    s.trends(w, int64_t(users.size()), prev_users);
    w.key("dailyUsage"), w.begin_array();
    s.write_daily(w);
    w.end_array();
    w.key("dailyModelUsage"), w.begin_array();
    s.write_daily_models(w);
    w.end_array();
    w.key("topModels"), w.begin_array();
    for (size_t i = 0; i < models.size() && i < size_t(kTopModels); i++)
        s.model_summary(w, models[i]->key_view(), models[i]->totals);
    w.end_array();
    w.key("topUsers"), w.begin_array();
    for (const Slot *p : top_users)
        s.user_summary(w, p->key_view(), p->totals);
    w.end_array();
    w.end_object();
}

}  // namespace ducache::core
