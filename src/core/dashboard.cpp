// DashboardBuilder: the calls that hand a row's usage in (core/dashboard.hpp). The document is
// written by core/dashboard_document.cpp; the state both share is core/dashboard_impl.hpp.
#include "core/dashboard.hpp"

#include "core/dashboard_impl.hpp"
#include "core/dashboard_partial.hpp"
#include "core/count_sum.hpp"
#include "core/user_pack.hpp"

#include <algorithm>

namespace ducache::core {

namespace {

const Decimal *cost_of(const EntryValues &v) { return v.cost_seen ? &v.cost : nullptr; }

// The day being read, as FixedLabel(date) names it, without copying it per entry.
class DateLabel final : public RowLabel {
public:
    explicit DateLabel(const std::string &date) : date_(date) {}
    std::string text() const override { return date_; }

private:
    const std::string &date_;
};

}  // namespace

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

namespace {

// Entry i of the columns as the walk's EntryValues (the checked path: a row whose counts would
// pass bigint).
void entry_of(const UserColumns &c, uint32_t i, EntryValues &v)
{
    for (int m = 0; m < kCountMetrics; m++)
        v.counts[m] = c.counts[m][i];
    v.cost_seen = c.cost_dscale[i] != kColumnNoCost;
    v.cost.big = false;
    v.cost.mantissa = v.cost_seen ? c.cost[i] : 0;
    v.cost.scale = v.cost_seen ? c.cost_scale : 0;
    v.cost.dscale = v.cost_seen ? c.cost_dscale[i] : 0;
}

}  // namespace

uint32_t DashboardBuilder::user_slot_index(std::string_view user)
{
    Impl &s = *impl_;
    KeyAggregator &agg = s.current ? s.users : s.prev_users;
    if (s.current)
        s.sync_users_order();
    const Slot &slot = (s.current ? s.users_order : s.prev_users_order).find_or_insert(user);
    return uint32_t(&slot - agg.slots().data());
}

bool DashboardBuilder::run_slots(const UserRun &run, const uint32_t *at, uint32_t m, uint32_t *slots)
{
    Impl &s = *impl_;
    if (!s.current)  // the comparison period: ids instead of slots
        return run.ordered && s.prev_period.run_ids(run, at, m, slots);
    if (!run.ordered || (at == nullptr && m > run.n))
        return false;
    if (s.run_names != run.names || s.run_n != run.n) {  // another run: only for the first row
        if (!s.users.slots().empty())
            return false;
        s.run_names = run.names;
        s.run_n = run.n;
        s.run_slot_of.assign(run.n, 0);
        s.run_made = 0;
    }
    if (s.users.size() != s.run_made)
        return false;  // some range slot came another way: its user may have no run slot yet
    uint32_t *const of = s.run_slot_of.data();
    for (uint32_t i = 0; i < m; i++) {
        const uint32_t j = at == nullptr ? i : at[i];
        if (__builtin_expect(j >= run.n, 0))
            return false;  // (the slots made so far are the users' own: user_slot_index finds them)
        uint32_t v = of[j];
        if (v == 0) {  // new to the range, and (every slot being the run's) to the aggregator
            v = s.users.append_new(run.names[j].data(), uint32_t(run.names[j].size()), run.hashes[j]) + 1;
            of[j] = v;
            s.run_made++;
            s.run_order_stale = true;
        }
        slots[i] = v - 1;
    }
    return true;
}

void DashboardBuilder::Impl::flush_run()
{
    if (!run.active())
        return;
    switch (run.kind()) {
    case kRunRangeSlots:
    case kRunPreviousSlots: {
        const bool range = run.kind() == kRunRangeSlots;
        Slot *const base = (range ? users : prev_users).slots().data();
        Totals &t = range ? total : prev_total;
        run.flush([&](uint32_t k) { return base[k].totals.counts; },
                  [&](uint32_t k) -> DecimalSum * { return &base[k].totals.cost; }, t.counts, t.cost);
        break;
    }
    default:
        run.flush([&](uint32_t k) { return prev_period.sums_at(k); }, [](uint32_t) -> DecimalSum * { return nullptr; },
                  prev_total.counts, prev_total.cost);
        break;
    }
}

void DashboardBuilder::user_usage_columns(const uint32_t *slots, const UserColumns &c, bool run_likely)
{
    Impl &s = *impl_;
    KeyAggregator &agg = s.current ? s.users : s.prev_users;
    Totals &total = s.current ? s.total : s.prev_total;
    // A day row's usage also counts for its day: entry by entry (the packs are rollup rows').
    const bool by_column = !(s.current && s.day_sums);
    CountBound &bound = s.bound[s.current];
    const bool proven = by_column && bound.proves(c);
    const int kind = s.current ? Impl::kRunRangeSlots : Impl::kRunPreviousSlots;
    if (proven && s.run.continues(kind, slots, c)) {  // the run's users again: summed entry-wise
        s.run.add(c);
        bound.add(c);
        return;
    }
    s.flush_run();
    if (proven && run_likely) {
        s.run.start(kind, slots, c);
        bound.add(c);
        return;
    }
    Slot *const base = agg.slots().data();
    if (by_column && add_count_columns([&](uint32_t i) { return base[slots[i]].totals.counts; }, total.counts, c, proven)) {
        add_cost_columns([&](uint32_t i) -> DecimalSum & { return base[slots[i]].totals.cost; }, &total.cost, c);
        bound.add(c);
        return;
    }
    // Some running sum passes bigint: the entry walk's checked adds, in its order, raise its error.
    DateLabel where(s.date);
    EntryValues v{};
    for (uint32_t i = 0; i < c.n; i++) {
        entry_of(c, i, v);
        Slot &slot = base[slots[i]];
        const std::string_view user = slot.key_view();
        slot.totals.add_or_throw(v.counts, cost_of(v), "the dashboard's users", user, where);
        total.add_or_throw(v.counts, cost_of(v), "the dashboard's totals", user, where);
        if (s.current && s.day_sums)
            s.day_total->add_or_throw(v.counts, cost_of(v), "the dashboard's daily usage", user, where);
    }
    bound.add(c);  // every value within the header's largest (decode checked them)
}

void DashboardBuilder::identity_columns(const uint32_t *slots, const std::string_view *records, uint32_t n)
{
    Impl &s = *impl_;
    if (!s.current)
        return;  // identity_of() ignores the comparison period
    if (s.user_ident.size() < s.users.slots().size()) {  // identity_of()'s room, made once
        s.user_ident.resize(s.users.slots().size(), 0);
        s.user_ident_key.resize(s.users.slots().size(), std::string_view());
    }
    for (uint32_t i = 0; i < n; i++) {
        const uint32_t at = slots[i];
        const std::string_view rec = records[i];
        std::string_view &last = s.user_ident_key[at];
        // identity_read_before(), inline
        if (last.data() != nullptr && last.size() == rec.size() && same_bytes_likely(last.data(), rec.data(), rec.size()))
            continue;
        // identity_of() of the record's identity, the strings as views into the record's copy
        // (the key identity_of() keeps; the arena's bytes live as long as the builder) instead
        // of three copies more: the same bytes.
        last = rec.empty() ? std::string_view("", 0) : s.idents.store(rec.data(), rec.size());
        const PackIdentity id = UserPackView::identity(last);
        if (id.username.empty())
            continue;
        uint32_t &link = s.user_ident[at];
        if (link == 0) {
            // The user's first identity: no idents slot has its key (identity_of() and
            // first_users() make each user's, and link it; identity() is not mixed with them),
            // so a new slot, the key and hash the user's slot's (the users' slots and their key
            // bytes live as long as the idents).
            const Slot &u = s.users.slots()[at];
            link = s.idents.append_new(u.key, u.key_len, u.hash) + 1;
        }
        Totals &t = s.idents.slots()[link - 1].totals;
        t.username = id.username;  // keep_identity(): the non-empty strings, empty ones as none
        t.email = id.email.empty() ? std::string_view() : id.email;
        t.role = id.role.empty() ? std::string_view() : id.role;
    }
}

bool DashboardBuilder::first_users(const UserRun &run, uint32_t *slots)
{
    Impl &s = *impl_;
    if (!run.ordered)
        return false;
    if (!s.current)
        return s.prev_period.first_run(run, slots);
    if (!s.users.slots().empty() || !s.idents.slots().empty() || !s.user_ident.empty() || s.day_sums)
        return false;
    s.users.reserve(run.n);
    if (!s.users_order.adopt_run(0, run.n))
        return false;
    for (uint32_t i = 0; i < run.n; i++)
        slots[i] = s.users.append_new(run.names[i].data(), uint32_t(run.names[i].size()), run.hashes[i]);
    // run_slots() may go on from this run: its slots are the run's indexes, users_order has them.
    s.run_names = run.names;
    s.run_n = run.n;
    s.run_slot_of.resize(run.n);
    for (uint32_t i = 0; i < run.n; i++)
        s.run_slot_of[i] = i + 1;
    s.run_made = run.n;
    s.run_order_stale = false;
    // identity_columns() for a first sight of each: the record as the user's last key,
    // the identity (a non-empty username) into its idents slot, the strings as views.
    s.user_ident.assign(run.n, 0);
    s.user_ident_key.resize(run.n);
    s.idents.reserve(run.n);
    for (uint32_t i = 0; i < run.n; i++) {
        const std::string_view rec = run.records[i];
        s.user_ident_key[i] = rec.empty() ? std::string_view("", 0) : rec;
        const PackIdentity &id = run.identities[i];
        if (id.username.empty())
            continue;
        const uint32_t at = s.idents.append_new(run.names[i].data(), uint32_t(run.names[i].size()), run.hashes[i]);
        s.user_ident[i] = at + 1;
        Totals &t = s.idents.slots()[at].totals;
        t.username = id.username;  // keep_identity() of empty strings: the non-empty ones
        t.email = id.email.empty() ? std::string_view() : id.email;
        t.role = id.role.empty() ? std::string_view() : id.role;
    }
    return true;
}

uint32_t DashboardBuilder::previous_user_id(std::string_view user) { return impl_->prev_period.map(user); }

void DashboardBuilder::previous_usage_columns(const uint32_t *ids, const UserColumns &c, bool run_likely)
{
    Impl &s = *impl_;
    PeriodUsers &p = s.prev_period;
    CountBound &bound = s.bound[0];
    const bool proven = bound.proves(c);
    if (proven && s.run.continues(Impl::kRunPreviousIds, ids, c)) {
        s.run.add(c);
        bound.add(c);
        return;
    }
    s.flush_run();
    if (proven && run_likely) {
        s.run.start(Impl::kRunPreviousIds, ids, c);
        bound.add(c);
        return;
    }
    if (add_count_columns([&](uint32_t i) { return p.sums_at(ids[i]); }, s.prev_total.counts, c, proven)) {
        add_cost_total(s.prev_total.cost, c);
        bound.add(c);
        return;
    }
    DateLabel where(s.date);  // previous_user_usage()'s checked adds, entry by entry
    EntryValues v{};
    for (uint32_t i = 0; i < c.n; i++) {
        entry_of(c, i, v);
        const std::string_view user = p.key(ids[i]);
        add_counts_or_throw(p.sums_at(ids[i]), v.counts, "the dashboard's users", user, where);
        s.prev_total.add_or_throw(v.counts, cost_of(v), "the dashboard's totals", user, where);
    }
    bound.add(c);
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
