// DashboardBuilder's column path (core/dashboard.hpp): a pack row's users handed in column by
// column (their slots or comparison-period ids, the counts and costs added per column by
// core/user_columns.hpp, the identities by record) instead of entry by entry (core/dashboard.cpp).
#include "core/dashboard.hpp"

#include "core/dashboard_impl.hpp"
#include "core/count_sum.hpp"
#include "core/user_pack.hpp"

namespace ducache::core {

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

}  // namespace ducache::core
