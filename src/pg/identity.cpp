#include "core/aggregator.hpp"

#include "pg/boundary.hpp"
#include "pg/identity.hpp"
#include "pg/user_tables.hpp"


namespace ducache::pg {

void apply_users_table(core::KeyAggregator &agg)
{
    if (agg.size() == 0)
        return;
    size_t n = agg.size();
    UsersLookup lookup = users_lookup(n);
    if (!lookup.sql)
        return;  // no users table: no id array to build
    std::string_view *ids = nullptr;
    if (!lookup.whole_table) {
        ids = static_cast<std::string_view *>(palloc_or_throw(CurrentMemoryContext, n * sizeof(std::string_view), "the user ids of one identity lookup"));
        for (size_t i = 0; i < n; i++)
            ids[i] = agg.slots()[i].key_view();
    }
    // Read whole, the table's other rows find no slot and are skipped (core/lookup_rule.hpp).
    run_text_lookup(lookup.sql, ids, lookup.whole_table ? 0 : n, 4, [&](const std::string_view *cols) {
        if (!cols[0].data())
            return;
        core::Slot *slot = const_cast<core::Slot *>(agg.find(cols[0].data(), cols[0].size()));
        if (!slot)
            return;
        auto set = [&](std::string_view &dst, std::string_view v) {
            if (v.data())
                dst = agg.store(v.data(), v.size());
        };
        set(slot->totals.username, cols[1]);
        set(slot->totals.email, cols[2]);
        set(slot->totals.role, cols[3]);
    });
}

}  // namespace ducache::pg
