// The filters document of ducache_dashboard: {"userIds":[..],"modelIds":[..],"apiKeyIds":[..],
// "providerIds":[..]} (LiteMaaS's request names). The rules for what is accepted live here;
// the adapter walks the jsonb and calls them. Every refusal is 22023 naming the field.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/filters.hpp"
#include "core/object_view.hpp"

#include <cstdint>
#include <string_view>

namespace ducache::core {

// The dashboard's filters: the §5.2 three, and providers (applied: a cell passes when the
// provider of its model, CONTRACT §5.3, is in the list; docs/litemaas.md L11).
struct DashboardFilters {
    explicit DashboardFilters(std::pmr::memory_resource *mr) : cells(mr), providers(mr) {}
    Filters cells;
    FilterList providers;
    void seal() { cells.seal(), providers.seal(); }
    bool any() const { return cells.any() || providers.active(); }
    // The level of the passing usage: a provider filter needs the model of each cell.
    CellLevel level() const
    {
        CellLevel l = cells.level(false);
        return (providers.active() && l == CellLevel::user) ? CellLevel::model : l;
    }
};

// The list a field name fills, or throws 22023 for an unknown field.
FilterList &dashboard_filter_list(DashboardFilters &f, std::string_view field);

// 22023 refusals (message "invalid filters for ducache_dashboard", DETAIL naming the field).
[[noreturn]] void throw_filters_not_object(ValueKind got);
[[noreturn]] void throw_filter_not_array(std::string_view field, ValueKind got);
[[noreturn]] void throw_filter_bad_element(std::string_view field, uint32_t index, ValueKind got);

}  // namespace ducache::core
