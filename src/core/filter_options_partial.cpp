// The binary partial of ducache_filter_options on a coordinator (docs/scale-out.md).
// Layout (core/partial_wire.hpp: little-endian, strings as u32 length + bytes), version 1:
//   "DUCP" u8 version u8 kind=2 |
//   u32 n, n x (model, u8 own, i32 day, provider)               models ascending |
//   u32 n, n x (user)                                           users seen, ascending |
//   u32 n, n x (user, i32 day, u8 flags, username, email)      identities, users ascending
//   (flags: bit 0 has a username, bit 1 has an email).
// Anything else is 22P03 "invalid ducache filter options partial" (fuzzed with the dashboard's
// partial in test/fuzz/fuzz_dashboard_partial.cpp).
#include "core/filter_options.hpp"
#include "core/partial_wire.hpp"

#include <vector>

namespace ducache::core {

std::string FilterOptionsBuilder::partial() const
{
    WireWriter w;
    write_partial_header(w, DocumentPartialKind::filter_options);
    w.u32(uint32_t(models_.size()));
    for (const auto &[name, m] : models_) {
        w.bytes(name);
        w.u8(m.own ? 1 : 0);
        w.i32(m.day);
        w.bytes(m.provider);
    }
    w.u32(uint32_t(users_.size()));
    for (const auto &u : users_)
        w.bytes(u);
    w.u32(uint32_t(idents_.size()));
    for (const auto &[user, id] : idents_) {
        w.bytes(user);
        w.i32(id.day);
        w.u8(uint8_t((id.has_username ? 1 : 0) | (id.has_email ? 2 : 0)));
        w.bytes(id.username);
        w.bytes(id.email);
    }
    return w.take();
}

void FilterOptionsBuilder::merge_partial(const char *data, size_t len)
{
    WireReader r(data, len, "ducache filter options partial");
    read_partial_header(r, DocumentPartialKind::filter_options);
    // Read whole before anything is merged: a malformed partial changes nothing.
    struct M { std::string_view name; bool own; int32_t day; std::string_view provider; };
    struct I { std::string_view user; int32_t day; uint8_t flags; std::string_view username, email; };
    std::vector<M> models;
    std::vector<std::string_view> users;
    std::vector<I> idents;
    auto ascending = [&](std::string_view prev, std::string_view next, size_t i, const char *of) {
        if (i > 0 && !(prev < next))
            r.corrupt(std::string(of) + " out of order (item " + std::to_string(i) + ")");
    };
    uint32_t n = r.count(13, "models");
    for (uint32_t i = 0; i < n; i++) {
        M m{r.bytes(), false, 0, {}};
        uint8_t own = r.u8();
        if (own > 1)
            r.corrupt("a model's own flag is " + std::to_string(own));
        m.own = own == 1;
        m.day = r.i32();
        m.provider = r.bytes();
        ascending(i ? models.back().name : std::string_view(), m.name, i, "models");
        models.push_back(m);
    }
    n = r.count(4, "users");
    for (uint32_t i = 0; i < n; i++) {
        std::string_view u = r.bytes();
        ascending(i ? users.back() : std::string_view(), u, i, "users");
        users.push_back(u);
    }
    n = r.count(17, "identities");
    for (uint32_t i = 0; i < n; i++) {
        I id{r.bytes(), 0, 0, {}, {}};
        id.day = r.i32();
        id.flags = r.u8();
        if (id.flags > 3)
            r.corrupt("an identity's flags are " + std::to_string(id.flags));
        id.username = r.bytes();
        id.email = r.bytes();
        ascending(i ? idents.back().user : std::string_view(), id.user, i, "identities");
        idents.push_back(id);
    }
    if (r.left() != 0)
        r.corrupt("trailing bytes");

    for (const M &m : models) {
        auto [it, fresh] = models_.try_emplace(std::pmr::string(m.name, mr_));
        Model &mine = it->second;
        if (m.own && (fresh || !mine.own || m.day > mine.day)) {
            mine.own = true;
            mine.day = m.day;
            mine.provider.assign(m.provider.data(), m.provider.size());
        }
    }
    for (std::string_view u : users)
        users_.emplace(u);
    for (const I &id : idents) {
        auto [it, fresh] = idents_.try_emplace(std::pmr::string(id.user, mr_));
        Ident &mine = it->second;
        if (fresh || id.day > mine.day) {
            mine.day = id.day;
            mine.has_username = id.flags & 1;
            mine.has_email = id.flags & 2;
            mine.username.assign(id.username.data(), id.username.size());
            mine.email.assign(id.email.data(), id.email.size());
        }
    }
}

}  // namespace ducache::core
