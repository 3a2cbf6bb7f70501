#include "core/dashboard_partial.hpp"

#include "core/dashboard.hpp"
#include "core/partial_wire.hpp"

#include <algorithm>
#include <vector>

namespace ducache::core {

namespace {

// KeyAggregator::sorted()'s order: cost descending, then key in byte order.
bool before(const Slot *a, const Slot *b)
{
    int c = a->totals.cost.compare(b->totals.cost);
    return c != 0 ? c > 0 : a->key_view() < b->key_view();
}

// Appends the first n slots of agg (in before() order) among those passing keep.
template <typename Keep>
void first_slots(const KeyAggregator &agg, size_t n, Keep keep, std::vector<const Slot *> &out)
{
    std::vector<const Slot *> all;
    for (const Slot &s : agg.slots())
        if (keep(s))
            all.push_back(&s);
    size_t k = std::min(n, all.size());
    std::partial_sort(all.begin(), all.begin() + ptrdiff_t(k), all.end(), before);
    out.insert(out.end(), all.begin(), all.begin() + ptrdiff_t(k));
}

}  // namespace

std::string serialize_dashboard_state(const DashboardState &s)
{
    WireWriter w;
    write_partial_header(w, DocumentPartialKind::dashboard);
    w.u8(uint8_t((s.has_current ? 1 : 0) | (s.has_previous ? 2 : 0)));
    w.totals(s.total);
    w.totals(s.prev_total);
    write_keys(w, s.users);
    // The comparison period's users: only their count (see the layout).
    int64_t prev_users = s.prev_users_counted;
    for (const Slot &p : s.prev_users.slots())
        prev_users += p.totals.counts[kRequests] != 0;
    w.i64(prev_users);
    for (const KeyAggregator *agg : {&s.models, &s.providers, &s.unprovided})
        write_keys(w, *agg);
    // The API keys: only the first by cost (the document's topApiKey).
    const Slot *best_key = nullptr;
    for (const Slot &k : s.keys.slots())
        if (best_key == nullptr || before(&k, best_key))
            best_key = &k;
    w.u32(best_key ? 1 : 0);
    if (best_key) {
        w.bytes(best_key->key_view());
        w.totals(best_key->totals);
    }
    // Identities: only of the users the document can name (see the layout).
    std::vector<const Slot *> named;
    first_slots(s.users, 2, [](const Slot &u) { return u.totals.counts[kRequests] != 0; }, named);
    first_slots(s.users, size_t(kTopUsers) + 1, [](const Slot &u) { return u.totals.counts[kRequests] > 0; }, named);
    std::vector<std::string_view> who;
    for (const Slot *u : named)
        who.push_back(u->key_view());
    if (best_key) {
        std::string_view both = best_key->key_view();
        who.push_back(both.substr(std::min(both.size(), both.find('\0') + 1)));
    }
    std::vector<const Slot *> idents;
    for (size_t i = 0; i < who.size(); i++) {
        const Slot *id = s.idents.find(who[i].data(), who[i].size());
        if (id != nullptr && std::find(idents.begin(), idents.end(), id) == idents.end())
            idents.push_back(id);
    }
    w.u32(uint32_t(idents.size()));
    for (const Slot *id : idents) {
        w.bytes(id->key_view());
        w.bytes(id->totals.username);
        w.bytes(id->totals.email);
        w.bytes(id->totals.role);
    }
    w.u32(uint32_t(s.model_provider.size()));
    for (const auto &[model, p] : s.model_provider) {
        w.bytes(model);
        w.i32(p.day);
        w.bytes(p.provider);
    }
    w.u32(uint32_t(s.days.size()));
    for (const DashboardState::Day &d : s.days) {
        w.bytes(d.date);
        w.totals(d.total);
        write_keys(w, *d.models);
    }
    return w.take();
}

void deserialize_dashboard_state(const char *data, size_t len, DashboardState &s)
{
    WireReader r(data, len, "ducache dashboard partial");
    read_partial_header(r, DocumentPartialKind::dashboard);
    uint8_t flags = r.u8();
    if (flags > 3)
        r.corrupt("unknown flags " + std::to_string(flags));
    s.has_current = flags & 1;
    s.has_previous = flags & 2;
    r.totals(s.total, "total");
    r.totals(s.prev_total, "prev_total");
    read_keys(r, s.users, "users");
    s.prev_users_counted = r.i64();
    if (s.prev_users_counted < 0 || s.prev_users_counted > (int64_t(1) << 48))
        r.corrupt("a count of previous users out of range");
    read_keys(r, s.models, "models");
    read_keys(r, s.providers, "providers");
    read_keys(r, s.unprovided, "unprovided models");
    read_keys(r, s.keys, "API keys");
    if (s.keys.size() > 1)
        r.corrupt("more than one API key");
    uint32_t n = r.count(16, "identities");
    for (uint32_t i = 0; i < n; i++) {
        std::string_view user = r.bytes();
        if (s.idents.find(user.data(), user.size()))
            r.corrupt("a user twice in identities (item " + std::to_string(i) + ")");
        Totals &t = s.idents.find_or_insert(user.data(), user.size()).totals;
        std::string_view parts[3] = {r.bytes(), r.bytes(), r.bytes()};
        std::string_view *dst[3] = {&t.username, &t.email, &t.role};
        for (int k = 0; k < 3; k++)
            *dst[k] = parts[k].empty() ? std::string_view() : s.idents.store(parts[k].data(), parts[k].size());
    }
    n = r.count(12, "own providers");
    std::string_view last;
    for (uint32_t i = 0; i < n; i++) {
        std::string_view model = r.bytes();
        if (i > 0 && !(last < model))
            r.corrupt("own providers out of order (item " + std::to_string(i) + ")");
        last = model;
        int32_t day = r.i32();
        std::string_view provider = r.bytes();
        s.note_provider(model, provider, day, true);
    }
    n = r.count(4 + kWireTotalsMin + 4, "days");
    for (uint32_t i = 0; i < n; i++) {
        std::string_view date = r.bytes();
        if (i > 0 && compare_date_text(s.days.back().date, date) >= 0)
            r.corrupt("days out of order (item " + std::to_string(i) + ")");
        s.days.emplace_back(date, s.mr);
        r.totals(s.days.back().total, date);
        read_keys(r, *s.days.back().models, "a day's models");
    }
    if (r.left() != 0)
        r.corrupt("trailing bytes");
}

}  // namespace ducache::core
