// ducache_dashboard's filters argument (jsonb) -> core::DashboardFilters.
#pragma once

#include "core/dashboard_filters.hpp"

#include "pg/postgres.hpp"

namespace ducache::pg {

// 22023 naming the field for anything but an object of string arrays with known fields.
void read_dashboard_filters(const Jsonb *doc, core::DashboardFilters &out);

}  // namespace ducache::pg
