#include "core/dashboard_partial.hpp"

#include "core/partial_wire.hpp"

namespace ducache::core {

std::string serialize_dashboard_state(const DashboardState &s)
{
    WireWriter w;
    write_partial_header(w, PartialKind::dashboard);
    w.u8(uint8_t((s.has_current ? 1 : 0) | (s.has_previous ? 2 : 0)));
    w.totals(s.total);
    w.totals(s.prev_total);
    for (const KeyAggregator *agg : {&s.users, &s.prev_users, &s.models, &s.providers, &s.unprovided, &s.keys})
        write_keys(w, *agg);
    w.u32(uint32_t(s.idents.size()));
    for (const Slot &id : s.idents.slots()) {
        w.bytes(id.key_view());
        w.bytes(id.totals.username);
        w.bytes(id.totals.email);
        w.bytes(id.totals.role);
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
    read_partial_header(r, PartialKind::dashboard);
    uint8_t flags = r.u8();
    if (flags > 3)
        r.corrupt("unknown flags " + std::to_string(flags));
    s.has_current = flags & 1;
    s.has_previous = flags & 2;
    r.totals(s.total, "total");
    r.totals(s.prev_total, "prev_total");
    read_keys(r, s.users, "users");
    read_keys(r, s.prev_users, "previous users");
    read_keys(r, s.models, "models");
    read_keys(r, s.providers, "providers");
    read_keys(r, s.unprovided, "unprovided models");
    read_keys(r, s.keys, "API keys");
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
