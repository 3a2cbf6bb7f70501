#include "core/aggregator.hpp"

#include "pg/boundary.hpp"
#include "pg/identity.hpp"
#include "pg/user_tables.hpp"


namespace ducache::pg {

void apply_users_table(core::KeyAggregator &agg)
{
    if (agg.size() == 0)
        return;
    // No users table (the default 'users' absent): no id array to build (round 14 of issue 13).
    const char *sql = users_lookup_sql();
    if (!sql)
        return;
    size_t n = agg.size();
    auto *ids = static_cast<std::string_view *>(palloc_or_throw(CurrentMemoryContext, n * sizeof(std::string_view), "the user ids of one identity lookup"));
    for (size_t i = 0; i < n; i++)
        ids[i] = agg.slots()[i].key_view();
    run_lookup(sql, ids, n, 4, [&](char *const *cols) {
        if (!cols[0])
            return;
        core::Slot *slot = const_cast<core::Slot *>(agg.find(cols[0], strlen(cols[0])));
        if (!slot)
            return;
        auto set = [&](std::string_view &dst, const char *v) {
            if (v)
                dst = agg.store(v, strlen(v));
        };
        set(slot->totals.username, cols[1]);
        set(slot->totals.email, cols[2]);
        set(slot->totals.role, cols[3]);
    });
}

}  // namespace ducache::pg
