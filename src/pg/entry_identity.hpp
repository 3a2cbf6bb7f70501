// A breakdown key's identity (username, email, role) kept from its entries: the fast loops'
// rule, inline in them (pg/entry_reader.cpp). Split out of entry_reader.cpp (round 19).
#pragma once

#include "core/aggregator.hpp"
#include "core/same_bytes.hpp"

#include "pg/postgres.hpp"

#include <string_view>

namespace ducache::pg {

// The key's identity: each non-empty value replaces the last one. The same value as the key's
// last one almost always: compared inline (a library memcmp call each was ~15 instructions a
// string of a nested entry).
inline __attribute__((always_inline)) void keep_identity(core::KeyAggregator &agg, core::Totals &t,
                                                         std::string_view username, std::string_view email,
                                                         std::string_view role)
{
    auto keep = [&](std::string_view &dst, std::string_view src) __attribute__((always_inline)) {
        if (!src.empty() && (src.size() != dst.size() || !core::same_short_bytes(src.data(), dst.data(), src.size())))
            dst = agg.store(src.data(), src.size());
    };
    keep(t.username, username);
    keep(t.email, email);
    keep(t.role, role);
}

// keep_identity for a nested entry read by read_entry_dense<false>: each identity member of the
// entry's layout (plan) read from its object o. The same rule: a string member that is not empty
// replaces the key's value unless it is the same bytes (its length from its JEntry first, then
// its bytes); any other value (null, a number, none) leaves it. Round 13 of issue 13: no views
// stored and reloaded, and the common case (the key's last value again) takes one length
// compare and one short compare a member.
template <typename Object>  // FastObject, LiteMaaSObject
inline __attribute__((always_inline)) void keep_identity_object(core::KeyAggregator &agg, core::Totals &t,
                                                                const Object &o, int32 username, int32 email,
                                                                int32 role)
{
    auto keep = [&](int32 i, std::string_view &dst) __attribute__((always_inline)) {
        if (i < 0)
            return;
        if ((o.value_entry(i) & JENTRY_TYPEMASK) != JENTRY_ISSTRING)
            return;
        const uint32 start = o.start(i), len = o.start(i + 1) - start;
        const char *s = o.base() + start;
        if (__builtin_expect(len == dst.size(), 1) && core::same_short_bytes(s, dst.data(), len))
            return;  // the same value (or empty and none yet)
        if (len != 0)
            dst = agg.store(s, len);
    };
    keep(username, t.username);
    keep(email, t.email);
    keep(role, t.role);
}

}  // namespace ducache::pg
