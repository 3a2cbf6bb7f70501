#include "core/cell_reducers.hpp"
#include "core/error_text.hpp"
#include "core/filters.hpp"
#include "core/rollup_builder_impl.hpp"

#include <algorithm>
#include <new>

namespace ducache::core {

using rollup_detail::DayFigures;
using rollup_detail::DayModel;
using rollup_detail::Extra;
using rollup_detail::kNone;

void RollupBuilder::Impl::flush_day()
{
    if (!day_open)
        return;
    DayFigures f;
    f.day = day;
    f.users = day_users;
    std::copy(day_total.counts, day_total.counts + kCountMetrics, f.counts);
    f.cost = models.store(day_total.cost.to_string());
    f.first = day_first;
    f.end = uint32_t(day_models.size());
    daily.push_back(f);
    day_open = false;
}

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
    s.day_first = uint32_t(s.day_models.size());
}

uint32_t RollupBuilder::user(std::string_view user, const EntryValues &v, const UserFacts &facts, uint32_t position)
{
    Impl &s = *impl_;
    bool fresh;
    uint32_t u = position == kNoPosition ? s.users.find(user, fresh) : s.users.find_at(user, position, fresh);
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
    bool fresh = false;
    uint32_t c = s.cells.child(s.users.extra[user].first, name.size(), model);
    if (c == kNone)
        c = s.cells.find(pair_key(s.buf, name, model), fresh);
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
    bool fresh = false;
    uint32_t k = s.keys.child(s.cells.extra[cell].first, cell_key.size(), alias);
    if (k == kNone)
        k = s.keys.find(pair_key(s.buf, cell_key, alias), fresh);
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
    DayModel own{m, {}, s.models.store(one.cost.to_string())};
    std::copy(one.counts, one.counts + kCountMetrics, own.counts);
    s.day_models.push_back(own);
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

int32_t RollupBuilder::end_days()
{
    impl_->flush_day();
    return int32_t(impl_->days);
}

}  // namespace ducache::core
