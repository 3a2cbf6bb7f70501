// The dashboard's readers of a rollup row's own columns (see the header).
#include "core/error.hpp"  // before any PostgreSQL header
#include "core/dashboard.hpp"
#include "core/entry_rules.hpp"
#include "core/filters.hpp"

#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/cell_walker.hpp"
#include "pg/dashboard_rollup_columns.hpp"
#include "pg/date_text.hpp"
#include "pg/entry_reader.hpp"

namespace ducache::pg {

int32 identity_member_at(const JsonbObjectView &entry, int32 at)
{
    return at >= 0 && entry.kind(uint32(at)) == core::ValueKind::object ? at : -1;
}

int32 identity_member(const JsonbObjectView &entry)
{
    return identity_member_at(entry, find_member(entry, core::kIdentityMember));
}

void rollup_identity_at(const JsonbObjectView &entry, int32 at, EntryValues &out)
{
    out.username = out.email = out.role = {};
    if (at >= 0)
        read_identity(entry.object(uint32(at)), out);
}

void rollup_identity(const JsonbObjectView &entry, EntryValues &out)
{
    rollup_identity_at(entry, identity_member(entry), out);
}

std::string_view identity_key(const JsonbObjectView &entry, int32 at)
{
    if (at < 0)
        return std::string_view("", 0);
    JsonbItem item = entry.item(uint32(at));
    return {item.data, item.len};
}

void rollup_daily(const Jsonb *daily, const ScanRow &r, core::DashboardBuilder &b)
{
    InputRow ctx{r.date, r.base, "daily", nullptr, false};  // its entries carry no "~days"
    if (daily == nullptr)
        throw_bad_shape(ctx, "a rollup has no daily summaries");
    JsonbItem days[32] = {};
    bool seen[32] = {};
    ObjectWalker walk(&daily->root);
    JsonbItem k, v;
    while (walk.next(k, v)) {
        int d = 0;
        for (uint32 i = 0; i < uint32(k.len); i++)
            d = (k.data[i] >= '0' && k.data[i] <= '9' && d < 100) ? d * 10 + (k.data[i] - '0') : 100;
        if (k.len == 0 || d < 1 || d > 31 || !item_is_object(v))
            throw_bad_shape(ctx, "a daily key is not a day of the month");
        days[d] = v;
        seen[d] = true;
    }
    EntryValues values;
    for (int d = 1; d <= 31; d++) {
        if (!seen[d])
            continue;
        read_entry(days[d], ctx, "metrics", false, values);
        b.rollup_day(date_text(r.date + d - 1), values);
        JsonbObjectView entry(reinterpret_cast<const JsonbContainer *>(days[d].data));
        int32 at = find_member(entry, "models");
        if (at < 0 || entry.kind(uint32(at)) != core::ValueKind::object)
            continue;
        JsonbObjectView models = entry.object(uint32(at));
        ObjectWalker mwalk(models.walker().container());
        JsonbItem mk, mv;
        while (mwalk.next(mk, mv)) {
            std::string_view model(mk.data, mk.len);
            read_entry(mv, ctx, model, false, values);
            b.rollup_day_model(model, values);
        }
    }
}

void rollup_key_totals(const Jsonb *keys, bool has_users, const InputRow &ctx, core::DashboardBuilder &b)
{
    if (keys == nullptr) {
        if (has_users)
            throw core::Error("22023", "rollup of " + row_text(ctx) + " has no key totals");
        return;
    }
    InputRow keys_ctx{ctx.date, ctx.day_index, "key_totals", nullptr, false};
    if (!JsonContainerIsObject(&keys->root) || JsonContainerIsScalar(&keys->root))
        throw_bad_shape(keys_ctx, "it is not a JSON object");
    ObjectWalker walk(&keys->root);
    JsonbItem k, v;
    EntryValues values;
    DayLabel row(keys_ctx);
    std::string_view column(keys_ctx.column);
    uint32 at = 0;  // the pairs come in the same order row after row (core/ordered_lookup.hpp)
    while (walk.next(k, v)) {
        std::string_view user(k.data, k.len);
        if (!item_is_object(v))
            throw_bad_shape(keys_ctx, "a user's key totals are not an object");
        ObjectWalker kwalk(reinterpret_cast<const JsonbContainer *>(v.data));
        JsonbItem ak, av;
        while (kwalk.next(ak, av)) {
            std::string_view alias(ak.data, ak.len);
            read_entry_at(av, column, row, alias, false, false, values);
            b.key_usage(alias, user, values, at++);
        }
        check_for_interrupts();
    }
}

}  // namespace ducache::pg
