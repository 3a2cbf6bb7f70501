// The usage cells of one day (CONTRACT §5.1): aggregated_by_user[U] (level user),
// aggregated_by_user[U].models[M] (level model), aggregated_by_user[U].models[M].api_keys[A]
// (level key), read in place from the JSONB binary, filtered by core::Filters (§5.2), each
// handed to a callback with its metrics parsed by the core's entry rules.
//
// How to use:
//   core::Filters f(&memory);  read_filter_args(fcinfo, 2, f);   // pg/filter_args.hpp
//   core::CellLevel level = f.level(need_model);
//   InputRow day{date, day_index, "aggregated_by_user"};
//   walk_cells(users_jsonb, day, f, level, [&](const Cell &c) { ... c.values ... });
//   // optional 6th argument: on_user(std::string_view user, const JsonbObjectView &entry),
//   // called for every user entry that passes the user filter (e.g. to read its identity
//   // with read_identity below), whatever the level and the other filters.
// Rules: the user filter applies at every level; an entry without "models" (flat, or null
// "models") has no model or key cells; a user entry, models[M] or api_keys[A] that is not an
// object, or a "models"/"api_keys" that is not an object, is 22023 naming the date, user,
// model and key. The callback's Cell and its views are valid during the call only.
#pragma once

#include "core/entry_rules.hpp"
#include "core/filters.hpp"

#include "pg/entry_reader.hpp"
#include "pg/jsonb_object_view.hpp"

#include <string>
#include <string_view>

namespace ducache::pg {

struct Cell {
    core::CellLevel level;
    std::string_view user;
    std::string_view model;     // level model and key
    std::string_view key;       // level key: the key alias
    std::string_view key_name;  // level key: the cell's "keyName" string (has_key_name)
    bool has_key_name;
    const EntryValues &values;
};

// Names a cell's row in messages: "2025-03-01 (model "m", api key "k")".
class CellLabel final : public core::RowLabel {
public:
    explicit CellLabel(const InputRow &day) : day_(day) {}
    std::string text() const override;
    std::string_view model, key;
    bool has_model = false, has_key = false;

private:
    const InputRow &day_;
};

// Index of the member named `name`, or -1.
int32 find_member(const JsonbObjectView &v, std::string_view name);

// The entry's username/email/role strings (empty when absent or not strings).
void read_identity(const JsonbObjectView &entry, EntryValues &out);

// "models"/"api_keys" member of `entry` as a container, nullptr when absent or JSON null;
// anything else than an object is 22023 naming `field`.
const JsonbContainer *child_object(const JsonbObjectView &entry, std::string_view field, const core::EntrySite &site);

[[noreturn]] void throw_cell_not_object(const core::EntrySite &site, const JsonbItem &item);

struct NoUserHook {
    void operator()(std::string_view, const JsonbObjectView &) const {}
};

template <typename OnCell, typename OnUser = NoUserHook>
void walk_cells(const Jsonb *users, const InputRow &day, const core::Filters &f, core::CellLevel level,
                OnCell &&on_cell, OnUser &&on_user = NoUserHook())
{
    if (users == nullptr)
        return;
    const JsonbContainer *root = &users->root;
    if (!JsonContainerIsObject(root) || JsonContainerIsScalar(root))
        throw_bad_shape(day, "it is not a JSON object");
    ObjectWalker walk(root);
    JsonbItem k, v;
    EntryValues values;
    uint32 n = 0;
    auto tick = [&n] {
        if ((++n & 4095) == 0)
            check_for_interrupts();
    };
    while (walk.next(k, v)) {
        tick();
        std::string_view user(k.data, k.len);
        if (!f.users.contains(user))
            continue;
        CellLabel label(day);
        core::EntrySite site{day.column, label, user};
        if (!item_is_object(v))
            throw_cell_not_object(site, v);
        JsonbObjectView uview(reinterpret_cast<const JsonbContainer *>(v.data));
        on_user(user, uview);
        if (level == core::CellLevel::user) {
            read_entry(v, day, user, false, values);
            on_cell(Cell{level, user, {}, {}, {}, false, values});
            continue;
        }
        const JsonbContainer *models = child_object(uview, "models", site);
        if (!models)
            continue;
        ObjectWalker mwalk(models);
        JsonbItem mk, mv;
        while (mwalk.next(mk, mv)) {
            tick();
            std::string_view model(mk.data, mk.len);
            if (!f.models.contains(model))
                continue;
            label.model = model;
            label.has_model = true;
            if (level == core::CellLevel::model) {
                read_cell_entry(mv, site, 1, day.rollup, values);
                on_cell(Cell{level, user, model, {}, {}, false, values});
                continue;
            }
            if (!item_is_object(mv))
                throw_cell_not_object(site, mv);
            JsonbObjectView mview(reinterpret_cast<const JsonbContainer *>(mv.data));
            const JsonbContainer *keys = child_object(mview, "api_keys", site);
            if (!keys)
                continue;
            ObjectWalker kwalk(keys);
            JsonbItem kk, kv;
            while (kwalk.next(kk, kv)) {
                tick();
                std::string_view alias(kk.data, kk.len);
                if (!f.keys.contains(alias))
                    continue;
                label.key = alias;
                label.has_key = true;
                read_cell_entry(kv, site, 2, day.rollup, values);  // checks that it is an object
                JsonbObjectView kview(reinterpret_cast<const JsonbContainer *>(kv.data));
                int32 name_at = find_member(kview, "keyName");
                bool has_name = name_at >= 0 && kview.kind(uint32(name_at)) == core::ValueKind::string;
                std::string_view name = has_name ? kview.text(uint32(name_at)) : std::string_view();
                on_cell(Cell{level, user, model, alias, name, has_name, values});
            }
            label.has_key = false;
        }
    }
}

}  // namespace ducache::pg
