// DashboardBuilder: the calls that hand a row's usage in (core/dashboard.hpp), entry by entry;
// a pack row's users column by column are core/dashboard_columns.cpp's. The document is written
// by core/dashboard_document.cpp; the state they share is core/dashboard_impl.hpp.
#include "core/dashboard.hpp"

#include "core/dashboard_impl.hpp"
#include "core/dashboard_partial.hpp"
#include "core/count_sum.hpp"
#include "core/user_pack.hpp"

#include <algorithm>

namespace ducache::core {

void DashboardBuilder::Impl::end_day()
{
    if (!in_day || !current)
        return;
    in_day = false;
    days.emplace_back(date, mr);
    days.back().total = std::move(*day_total);
    days.back().models = std::move(day_models);
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

// The entry's identity into the user's idents slot, copied only when it changed: the same
// identity comes back every day.
void keep_identity(KeyAggregator &idents, Totals &t, const EntryValues &v)
{
    auto keep = [&](std::string_view &dst, std::string_view src) {
        if (dst != src)
            dst = src.empty() ? std::string_view() : idents.store(src.data(), src.size());
    };
    keep(t.username, v.username);
    keep(t.email, v.email);
    keep(t.role, v.role);
}

}  // namespace

void DashboardBuilder::user_usage(std::string_view user, const EntryValues &v, uint32_t position)
{
    user_usage_slot(user, v, position);
}

void DashboardBuilder::identity(std::string_view user, const EntryValues &v, uint32_t position)
{
    Impl &s = *impl_;
    if (!s.current || v.username.empty())
        return;
    Totals &t = lookup(s.idents, s.idents_order, user, position).totals;
    keep_identity(s.idents, t, v);
}

const Slot &DashboardBuilder::user_usage_slot(std::string_view user, const EntryValues &v, uint32_t position)
{
    Impl &s = *impl_;
    s.flush_run();
    s.bound[s.current].forget();  // an entry's counts have no header's largest
    DateLabel where(s.date);
    KeyAggregator &agg = s.current ? s.users : s.prev_users;
    if (s.current)
        s.sync_users_order();
    Slot &slot = lookup(agg, s.current ? s.users_order : s.prev_users_order, user, position);
    slot.totals.add_or_throw(v.counts, cost_of(v), "the dashboard's users", user, where);
    (s.current ? s.total : s.prev_total).add_or_throw(v.counts, cost_of(v), "the dashboard's totals", user, where);
    if (s.current && s.day_sums)
        s.day_total->add_or_throw(v.counts, cost_of(v), "the dashboard's daily usage", user, where);
    return slot;
}

uint32_t DashboardBuilder::user_index(const Slot &user) const
{
    return uint32_t(&user - impl_->users.slots().data());
}

void DashboardBuilder::previous_user_usage(std::string_view user, const EntryValues &v)
{
    Impl &s = *impl_;
    if (s.current) {  // not the comparison period: what user_usage() does
        user_usage(user, v);
        return;
    }
    s.flush_run();
    s.bound[0].forget();
    DateLabel where(s.date);
    s.prev_period.add(user, v.counts, "the dashboard's users", where);
    s.prev_total.add_or_throw(v.counts, cost_of(v), "the dashboard's totals", user, where);
}

void DashboardBuilder::expect_users(size_t n)
{
    Impl &s = *impl_;
    if (!s.users.slots().empty() || !s.idents.slots().empty())
        return;  // only before the first user: reserving moves the slots
    s.users.reserve(n);
    s.idents.reserve(n);
}

bool DashboardBuilder::identity_read_before(const Slot &user, std::string_view identity_key) const
{
    const Impl &s = *impl_;
    if (!s.current)
        return true;  // identity_of() ignores the comparison period
    size_t i = size_t(&user - s.users.slots().data());
    if (i >= s.user_ident_key.size())
        return false;
    std::string_view last = s.user_ident_key[i];
    return last.data() != nullptr && last == identity_key;
}

void DashboardBuilder::identity_of(const Slot &user, const EntryValues &v, const std::string_view *identity_key)
{
    Impl &s = *impl_;
    if (!s.current)
        return;
    size_t i = size_t(&user - s.users.slots().data());
    if (i >= s.user_ident.size()) {
        size_t n = std::max(i + 1, s.users.slots().size());
        s.user_ident.resize(n, 0);
        s.user_ident_key.resize(n, std::string_view());
    }
    // The key read now: an entry with the same key hands in the same identity (a no-op then).
    std::string_view &last = s.user_ident_key[i];
    if (identity_key == nullptr)
        last = std::string_view();
    else if (identity_key->empty())
        last = std::string_view("", 0);
    else if (last != *identity_key || last.data() == nullptr)
        last = s.idents.store(identity_key->data(), identity_key->size());
    if (v.username.empty())
        return;
    uint32_t &link = s.user_ident[i];
    if (link == 0) {
        Slot &id = s.idents.find_or_insert(user.key, user.key_len);
        link = uint32_t(&id - s.idents.slots().data()) + 1;
    }
    Totals &t = s.idents.slots()[link - 1].totals;
    keep_identity(s.idents, t, v);
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

std::string DashboardBuilder::partial()
{
    impl_->flush_run();
    impl_->end_day();
    impl_->settle_previous();
    return serialize_dashboard_state(*impl_);
}

void DashboardBuilder::merge_partial(const char *data, size_t len)
{
    impl_->flush_run();
    for (CountBound &b : impl_->bound)  // sums not from column rows
        b.forget();
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

}  // namespace ducache::core
