// JSONB's key order (shorter keys first, then bytewise: how jsonb_in stores an object's keys)
// as a rule over a list of members, for a sink that lays an object out at once
// (pg/rollup_jsonb.cpp's sum_object, the dashboard's ~10K byUser members).
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string_view>

namespace ducache::core {

inline bool jsonb_key_less(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return a.size() < b.size();
    return !a.empty() && std::memcmp(a.data(), b.data(), a.size()) < 0;
}

// Puts members[0, n) into JSONB's key order, a repeated key keeping only its last member
// (jsonb_in's rule); returns how many are kept, at the front. A list already in order with
// distinct keys (the dashboard's users as the range's walk leaves them) costs one compare per
// member and moves nothing. key_of(member) gives its key.
template <class Member, class KeyOf>
size_t jsonb_member_order(Member *members, size_t n, KeyOf key_of)
{
    size_t i = 1;
    while (i < n && jsonb_key_less(key_of(members[i - 1]), key_of(members[i])))
        i++;
    if (i >= n)
        return n;
    std::stable_sort(members, members + n,
                     [&](const Member &a, const Member &b) { return jsonb_key_less(key_of(a), key_of(b)); });
    size_t kept = 0;
    for (size_t r = 0; r < n; r++) {
        // Equal keys are adjacent in the order given: keep the last of each run.
        if (r + 1 < n && !jsonb_key_less(key_of(members[r]), key_of(members[r + 1])))
            continue;
        members[kept++] = members[r];
    }
    return kept;
}

}  // namespace ducache::core
