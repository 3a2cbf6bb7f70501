#include "core/rollup_builder.hpp"

#include "core/cell_reducers.hpp"
#include "core/count_sum.hpp"
#include "core/error_text.hpp"
#include "core/filters.hpp"

#include <new>
#include <vector>

namespace ducache::core {

namespace {

constexpr uint32_t kNone = UINT32_MAX;

// Names the day being summed in overflow messages: "day 4 of 2025-03".
class MonthDayLabel final : public RowLabel {
public:
    MonthDayLabel(const std::string &month, const int &day) : month_(month), day_(day) {}
    std::string text() const override { return "day " + std::to_string(day_) + " of " + month_; }

private:
    const std::string &month_;
    const int &day_;
};

// Per-slot facts of one level, indexed like the level's KeyAggregator slots.
struct Extra {
    uint32_t mask = 0;
    bool flag = false;        // users: has "models"; cells: has "api_keys"; models: has "users"
    uint32_t first = kNone;   // first child (cells of a user, keys of a cell, user pairs of a model)
    uint32_t next = kNone;    // next sibling under the same parent
    uint32_t first2 = kNone;  // derived providers: first user pair
    std::string_view a, b;    // identity-like strings (keyAlias/keyName, own provider)
    bool has_a = false, has_b = false;
};

class Level {
public:
    explicit Level(std::pmr::memory_resource *mr) : agg(mr), extra(mr) {}
    // The slot of key; fresh says it was just created.
    uint32_t find(std::string_view key, bool &fresh)
    {
        size_t before = agg.size();
        Slot &s = agg.find_or_insert(key.data(), key.size());
        uint32_t i = uint32_t(&s - agg.slots().data());
        fresh = agg.size() != before;
        if (fresh)
            extra.resize(agg.size());
        return i;
    }
    Totals &totals(uint32_t i) { return agg.slots()[i].totals; }
    std::string_view store(std::string_view s) { return agg.store(s.data(), s.size()); }

    KeyAggregator agg;
    std::pmr::vector<Extra> extra;
};

}  // namespace

struct RollupBuilder::Impl {
    Impl(std::pmr::memory_resource *mr, std::string month)
        : mr(mr), month(std::move(month)), label(this->month, day), users(mr), cells(mr), keys(mr), models(mr),
          model_users(mr), providers(mr), derived(mr), derived_models(mr), derived_users(mr), unprovided(mr),
          buf(mr), day_total(mr), idents(mr)
    {
        daily.begin_object();
    }

    std::pmr::memory_resource *mr;
    void (*tick)() = nullptr;
    uint32_t written = 0;
    std::string month;
    int day = 0;
    uint32_t bit = 0;
    bool stored_providers = false;
    uint32_t days = 0;
    MonthDayLabel label;
    Level users, cells, keys, models, model_users, providers, derived, derived_models, derived_users, unprovided;
    bool any_stored = false;
    uint32_t cur_model = kNone, cur_derived = kNone;  // the last model() and its derived provider
    std::pmr::string buf;
    // The current day's "daily" figures.
    bool day_open = false;
    int64_t day_users = 0;
    Totals day_total;
    JsonWriter day_models;
    JsonWriter daily;
    RollupIdentities idents;

    void add(Totals &t, const EntryValues &v, std::string_view what, std::string_view key)
    {
        t.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, what, key, label);
    }

    void flush_day()
    {
        if (!day_open)
            return;
        day_models.end_object();
        daily.key(std::to_string(day));
        daily.begin_object();
        daily.key("users");
        daily.integer(day_users);
        daily.key("metrics");
        write_canonical_metrics(daily, day_total.counts, day_total.cost);
        daily.key("models");
        daily.number_text(day_models.text());  // an object already written
        daily.end_object();
        day_open = false;
    }

    // A keyed entry: "~days", "metrics", then more members written by more().
    template <typename More>
    void write_entry(JsonWriter &w, Level &level, uint32_t i, std::string_view key, More &&more)
    {
        const Totals &t = level.agg.slots()[i].totals;
        if (tick && (++written & 1023) == 0)
            tick();
        w.key(key);
        w.begin_object();
        more();
        w.key("~days");
        w.integer(level.extra[i].mask);
        w.key("metrics");
        write_canonical_metrics(w, t.counts, t.cost);
        w.end_object();
    }

    // {U: 1, ...} over the second halves of the pair keys chained from `first`.
    void write_set(JsonWriter &w, Level &pairs, uint32_t first)
    {
        w.begin_object();
        for (uint32_t p = first; p != kNone; p = pairs.extra[p].next) {
            w.key(split_pair(pairs.agg.slots()[p].key_view()).second);
            w.integer(1);
        }
        w.end_object();
    }

    std::string users_document()
    {
        JsonWriter w;
        w.begin_object();
        for (uint32_t u = 0; u < users.agg.size(); u++) {
            const Slot &s = users.agg.slots()[u];
            write_entry(w, users, u, s.key_view(), [&] {
                auto ident = [&](const char *name, std::string_view v) {
                    if (!v.empty())
                        w.key(name), w.string(v);
                };
                ident("username", s.totals.username);
                ident("email", s.totals.email);
                ident("role", s.totals.role);
                idents.write_user(w, u);
                if (!users.extra[u].flag)
                    return;
                w.key("models");
                w.begin_object();
                for (uint32_t c = users.extra[u].first; c != kNone; c = cells.extra[c].next) {
                    std::string_view model = split_pair(cells.agg.slots()[c].key_view()).second;
                    write_entry(w, cells, c, model, [&] {
                        if (!cells.extra[c].flag)
                            return;
                        w.key("api_keys");
                        w.begin_object();
                        for (uint32_t k = cells.extra[c].first; k != kNone; k = keys.extra[k].next) {
                            const Extra &x = keys.extra[k];
                            // key = user \0 model \0 alias: the alias follows the last NUL.
                            std::string_view kk = keys.agg.slots()[k].key_view();
                            std::string_view alias = kk.substr(kk.rfind('\0') + 1);
                            write_entry(w, keys, k, alias, [&] {
                                if (x.has_a) {
                                    w.key("keyAlias");
                                    w.string(x.a);
                                }
                                if (x.has_b) {
                                    w.key("keyName");
                                    w.string(x.b);
                                }
                            });
                        }
                        w.end_object();
                    });
                }
                w.end_object();
            });
        }
        w.end_object();
        return w.take();
    }

    std::string models_document()
    {
        JsonWriter w;
        w.begin_object();
        for (uint32_t m = 0; m < models.agg.size(); m++) {
            const Extra &x = models.extra[m];
            write_entry(w, models, m, models.agg.slots()[m].key_view(), [&] {
                if (x.has_a) {
                    w.key("provider");
                    w.string(x.a);
                }
                if (x.flag) {
                    w.key("users");
                    write_set(w, model_users, x.first);
                }
                idents.write_model(w, m);
            });
        }
        w.end_object();
        return w.take();
    }

    std::string simple_document(Level &level)
    {
        JsonWriter w;
        w.begin_object();
        for (uint32_t i = 0; i < level.agg.size(); i++)
            write_entry(w, level, i, level.agg.slots()[i].key_view(), [] {});
        w.end_object();
        return w.take();
    }

    std::string derived_document()
    {
        JsonWriter w;
        w.begin_object();
        for (uint32_t p = 0; p < derived.agg.size(); p++) {
            const Extra &x = derived.extra[p];
            write_entry(w, derived, p, derived.agg.slots()[p].key_view(), [&] {
                w.key("models");
                write_set(w, derived_models, x.first);
                if (x.flag) {
                    w.key("users");
                    write_set(w, derived_users, x.first2);
                }
            });
        }
        w.end_object();
        return w.take();
    }
};

RollupBuilder::RollupBuilder(std::pmr::memory_resource *mr, std::string month_label)
{
    void *p = mr->allocate(sizeof(Impl), alignof(Impl));
    impl_ = new (p) Impl(mr, std::move(month_label));
}

RollupBuilder::~RollupBuilder()
{
    std::pmr::memory_resource *mr = impl_->mr;
    impl_->~Impl();
    mr->deallocate(impl_, sizeof(Impl), alignof(Impl));
}

void RollupBuilder::begin_day(int day, bool stored_providers)
{
    Impl &s = *impl_;
    s.flush_day();
    s.day = day;
    s.bit = uint32_t(1) << (day - 1);
    s.days |= s.bit;
    s.stored_providers = stored_providers;
    s.any_stored = s.any_stored || stored_providers;
    s.day_open = true;
    s.day_users = 0;
    s.day_total = Totals(s.mr);
    s.day_models = JsonWriter();
    s.day_models.begin_object();
}

uint32_t RollupBuilder::user(std::string_view user, const EntryValues &v, const UserFacts &facts)
{
    Impl &s = *impl_;
    bool fresh;
    uint32_t u = s.users.find(user, fresh);
    Totals &t = s.users.totals(u);
    s.add(t, v, "aggregated_by_user", user);
    s.users.extra[u].mask |= s.bit;
    // Identity: the latest day's non-empty string wins (as the readers keep it).
    auto keep = [&](std::string_view &dst, std::string_view src) {
        if (!src.empty() && src != dst)
            dst = s.users.store(src);
    };
    keep(t.username, v.username);
    keep(t.email, v.email);
    keep(t.role, v.role);
    s.idents.user(u, v.username, v.email, v.role, facts);
    s.day_users++;
    s.add(s.day_total, v, "aggregated_by_user", user);
    return u;
}

void RollupBuilder::user_has_models(uint32_t user)
{
    impl_->users.extra[user].flag = true;
}

uint32_t RollupBuilder::user_model(uint32_t user, std::string_view model, const EntryValues &v)
{
    Impl &s = *impl_;
    std::string_view name = s.users.agg.slots()[user].key_view();
    bool fresh;
    uint32_t c = s.cells.find(pair_key(s.buf, name, model), fresh);
    if (fresh) {
        s.cells.extra[c].next = s.users.extra[user].first;
        s.users.extra[user].first = c;
    }
    s.add(s.cells.totals(c), v, "aggregated_by_user", name);
    s.cells.extra[c].mask |= s.bit;
    return c;
}

void RollupBuilder::cell_has_keys(uint32_t cell)
{
    impl_->cells.extra[cell].flag = true;
}

void RollupBuilder::user_key(uint32_t cell, std::string_view alias, const EntryValues &v, const KeyFacts &facts)
{
    Impl &s = *impl_;
    std::string_view cell_key = s.cells.agg.slots()[cell].key_view();
    bool fresh;
    uint32_t k = s.keys.find(pair_key(s.buf, cell_key, alias), fresh);
    Extra &x = s.keys.extra[k];
    if (fresh) {
        x.next = s.cells.extra[cell].first;
        s.cells.extra[cell].first = k;
    }
    s.add(s.keys.totals(k), v, "aggregated_by_user", split_pair(cell_key).first);
    x.mask |= s.bit;
    // keyAlias / keyName: the latest day's string wins (an empty string included).
    if (facts.has_key_alias && (!x.has_a || x.a != facts.key_alias)) {
        x.a = s.keys.store(facts.key_alias);
        x.has_a = true;
    }
    if (facts.has_key_name && (!x.has_b || x.b != facts.key_name)) {
        x.b = s.keys.store(facts.key_name);
        x.has_b = true;
    }
}

uint32_t RollupBuilder::model(std::string_view model, const EntryValues &v, const std::string_view *own_provider)
{
    Impl &s = *impl_;
    bool fresh;
    uint32_t m = s.models.find(model, fresh);
    s.cur_model = m;
    s.cur_derived = kNone;
    s.add(s.models.totals(m), v, "aggregated_by_model", model);
    Extra &x = s.models.extra[m];
    x.mask |= s.bit;
    if (own_provider && (!x.has_a || x.a != *own_provider)) {
        x.a = s.models.store(*own_provider);
        x.has_a = true;
    }
    // daily: the day's own entry, canonical.
    Totals one(s.mr);
    s.add(one, v, "aggregated_by_model", model);
    s.day_models.key(model);
    s.day_models.begin_object();
    s.day_models.key("metrics");
    write_canonical_metrics(s.day_models, one.counts, one.cost);
    s.day_models.end_object();
    if (!s.stored_providers) {
        // providers_derived: the provider by the day's own-provider rule (pg/breakdown.cpp).
        std::string_view p = provider_rule(model, own_provider);
        uint32_t d = s.derived.find(p, fresh);
        s.add(s.derived.totals(d), v, "aggregated_by_model", model);
        s.derived.extra[d].mask |= s.bit;
        s.cur_derived = d;
        uint32_t dm = s.derived_models.find(pair_key(s.buf, p, model), fresh);
        if (fresh) {
            s.derived_models.extra[dm].next = s.derived.extra[d].first;
            s.derived.extra[d].first = dm;
        }
        uint32_t un = s.unprovided.find(model, fresh);
        s.add(s.unprovided.totals(un), v, "aggregated_by_model", model);
        s.unprovided.extra[un].mask |= s.bit;
    }
    return m;
}

void RollupBuilder::model_has_users(uint32_t model)
{
    Impl &s = *impl_;
    s.models.extra[model].flag = true;
    if (model == s.cur_model && s.cur_derived != kNone)
        s.derived.extra[s.cur_derived].flag = true;
}

void RollupBuilder::model_user(uint32_t model, std::string_view user, bool named)
{
    Impl &s = *impl_;
    if (named)
        s.idents.model_user_named(model, user);
    std::string_view name = s.models.agg.slots()[model].key_view();
    bool fresh;
    uint32_t p = s.model_users.find(pair_key(s.buf, name, user), fresh);
    if (fresh) {
        s.model_users.extra[p].next = s.models.extra[model].first;
        s.models.extra[model].first = p;
    }
    if (model != s.cur_model || s.cur_derived == kNone)
        return;
    // The derived provider's distinct users (pg/breakdown.cpp's note_users).
    uint32_t d = s.cur_derived;
    uint32_t du = s.derived_users.find(pair_key(s.buf, s.derived.agg.slots()[d].key_view(), user), fresh);
    if (fresh) {
        s.derived_users.extra[du].next = s.derived.extra[d].first2;
        s.derived.extra[d].first2 = du;
    }
}

void RollupBuilder::provider(std::string_view provider, const EntryValues &v)
{
    Impl &s = *impl_;
    bool fresh;
    uint32_t p = s.providers.find(provider, fresh);
    s.add(s.providers.totals(p), v, "aggregated_by_provider", provider);
    s.providers.extra[p].mask |= s.bit;
}

void RollupBuilder::set_tick(void (*tick)())
{
    impl_->tick = tick;
}

RollupDocuments RollupBuilder::finish()
{
    Impl &s = *impl_;
    s.flush_day();
    s.daily.end_object();
    RollupDocuments d;
    d.days = int32_t(s.days);
    d.users = s.users_document();
    d.models = s.models_document();
    if (s.any_stored)
        d.providers = s.simple_document(s.providers);
    d.providers_derived = s.derived_document();
    d.models_unprovided = s.simple_document(s.unprovided);
    d.daily = s.daily.take();
    return d;
}

}  // namespace ducache::core
