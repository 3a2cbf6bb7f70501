// One cached day handed to core::RollupBuilder, read exactly as the readers read it: user
// entries through pg/entry_reader (identity included), their §5.1 cells as pg/cell_walker.hpp
// walks them (same checks, same errors), aggregated_by_model entries with their own
// "provider" string and "users" object (pg/breakdown.cpp), and aggregated_by_provider when it
// is a non-empty object (else the builder derives the day's providers from the models).
#include "core/entry_rules.hpp"
#include "core/error.hpp"
#include "core/rollup_builder.hpp"

#include "pg/cell_walker.hpp"
#include "pg/entry_reader.hpp"
#include "pg/jsonb_object_view.hpp"
#include "pg/rollup_refresh_feed.hpp"
#include "pg/cache_scan.hpp"
#include "pg/context_resource.hpp"

namespace ducache::pg {

namespace {

bool string_member(const JsonbObjectView &v, std::string_view name, std::string_view &out)
{
    int32 at = find_member(v, name);
    if (at < 0 || v.kind(uint32(at)) != core::ValueKind::string)
        return false;
    out = v.text(uint32(at));
    return true;
}

void feed_cells(core::RollupBuilder &b, uint32_t user_slot, std::string_view user, const JsonbItem &item,
                const InputRow &day)
{
    CellLabel label(day);
    core::EntrySite site{day.column, label, user};
    JsonbObjectView uview(reinterpret_cast<const JsonbContainer *>(item.data));
    const JsonbContainer *models = child_object(uview, "models", site);
    if (!models)
        return;
    b.user_has_models(user_slot);
    ObjectWalker mwalk(models);
    JsonbItem mk, mv;
    EntryValues values;
    uint32 n = 0;
    while (mwalk.next(mk, mv)) {
        if ((++n & 1023) == 0)
            check_for_interrupts();
        std::string_view model(mk.data, mk.len);
        label.model = model;
        label.has_model = true;
        read_cell_entry(mv, site, 1, values);  // checks that it is an object
        uint32_t cell = b.user_model(user_slot, model, values);
        JsonbObjectView mview(reinterpret_cast<const JsonbContainer *>(mv.data));
        const JsonbContainer *keys = child_object(mview, "api_keys", site);
        if (!keys)
            continue;
        b.cell_has_keys(cell);
        ObjectWalker kwalk(keys);
        JsonbItem kk, kv;
        while (kwalk.next(kk, kv)) {
            std::string_view alias(kk.data, kk.len);
            label.key = alias;
            label.has_key = true;
            read_cell_entry(kv, site, 2, values);
            JsonbObjectView kview(reinterpret_cast<const JsonbContainer *>(kv.data));
            core::KeyFacts facts;
            facts.has_key_alias = string_member(kview, "keyAlias", facts.key_alias);
            facts.has_key_name = string_member(kview, "keyName", facts.key_name);
            b.user_key(cell, alias, values, facts);
        }
        label.has_key = false;
    }
}

}  // namespace

bool stored_providers(const Jsonb *providers)
{
    // As pg/breakdown.cpp's provider_breakdown: anything but NULL or {} is read as stored (a
    // non-object is an error there, and here).
    return providers != nullptr && !(JsonContainerIsObject(&providers->root) &&
                                     !JsonContainerIsScalar(&providers->root) &&
                                     JsonContainerSize(&providers->root) == 0);
}

void feed_rollup_day(core::RollupBuilder &b, DateADT date, int day_of_month, const Jsonb *users,
                     const Jsonb *models, const Jsonb *providers)
{
    bool stored = stored_providers(providers);
    b.begin_day(day_of_month, stored);
    InputRow uctx{date, 0, "aggregated_by_user"};
    for_each_entry_item(users, uctx, true,
                        [&](std::string_view user, const EntryValues &v, uint32 position, const JsonbItem &item) {
                            // As ducache_filter_options reads the entry (pg/filter_options.cpp).
                            JsonbObjectView entry(reinterpret_cast<const JsonbContainer *>(item.data));
                            core::UserFacts facts;
                            facts.listed = find_member(entry, "username") >= 0;
                            facts.name_is_string = string_member(entry, "username", facts.name);
                            facts.email_is_string = string_member(entry, "email", facts.email);
                            uint32_t slot = b.user(user, v, facts, position);
                            feed_cells(b, slot, user, item, uctx);
                        });
    InputRow mctx{date, 0, "aggregated_by_model"};
    for_each_entry_item(models, mctx, false,
                        [&](std::string_view model, const EntryValues &v, uint32, const JsonbItem &item) {
                            JsonbObjectView entry(reinterpret_cast<const JsonbContainer *>(item.data));
                            std::string_view own;
                            bool has = string_member(entry, "provider", own);
                            uint32_t m = b.model(model, v, has ? &own : nullptr);
                            int32 at = find_member(entry, "users");
                            if (at < 0 || entry.kind(uint32(at)) != core::ValueKind::object)
                                return;
                            b.model_has_users(m);
                            JsonbObjectView u = entry.object(uint32(at));
                            ObjectWalker walk(u.walker().container());
                            JsonbItem k, val;
                            while (walk.next(k, val)) {
                                // named: as ducache_filter_options lists model users
                                std::string_view name;
                                bool named = item_is_object(val) &&
                                             string_member(JsonbObjectView(reinterpret_cast<const JsonbContainer *>(val.data)),
                                                           "username", name) &&
                                             !name.empty();
                                b.model_user(m, std::string_view(k.data, k.len), named);
                            }
                        });
    if (stored) {
        InputRow pctx{date, 0, "aggregated_by_provider"};
        for_each_entry(providers, pctx, false,
                       [&](std::string_view p, const EntryValues &v, uint32) { b.provider(p, v); });
    }
}

void feed_rollup_span(core::RollupBuilder &b, const char *cache, DateADT month, DateADT first, DateADT last)
{
    CacheScan scan(cache, "aggregated_by_user, aggregated_by_model, aggregated_by_provider", 3, first, last);
    DateADT date;
    const Jsonb *cols[3] = {};
    try {
        while (scan.next(date, cols))
            feed_rollup_day(b, date, int(date - month) + 1, cols[0], cols[1], cols[2]);
    } catch (const core::Error &) {
        scan.finish();
        throw;
    }
    scan.finish();
}

RollupDatums build_rollup_span(const char *cache, DateADT month, DateADT first, DateADT last,
                               const std::string &label, ContextResource *memory)
{
    core::RollupBuilder builder(memory, label);
    builder.set_tick([] { check_for_interrupts(); });
    feed_rollup_span(builder, cache, month, first, last);
    return rollup_jsonb_documents(builder, memory->context());
}

}  // namespace ducache::pg
