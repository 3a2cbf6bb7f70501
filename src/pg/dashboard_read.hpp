// The reading halves of ducache_dashboard (pg/dashboard.cpp) and ducache_filter_options, shared by the one-node call, a
// shard's partial and the coordinator (pg/coordinator_dashboard.cpp, docs/scale-out.md).
#pragma once

#include "core/dashboard.hpp"
#include "core/dashboard_filters.hpp"
#include "core/filter_options.hpp"

#include "pg/postgres.hpp"

namespace ducache::pg {

class TopKeyRead;

struct DashboardReadMode {
    // The coordinator's {"model": "provider"} (the range's own providers over every shard):
    // taken instead of this database's own (a provider filter needs the whole range's).
    const Jsonb *providers = nullptr;
    bool providers_only = false;  // read only the range's own providers (the coordinator's first step)
    // The unfiltered range's top API key from per-user bounds (pg/dashboard_top_key.hpp); null:
    // every pair summed (a shard's partial, a filtered call).
    TopKeyRead *top_key = nullptr;
    // With top_key: the rollup rows' users from their user_pack (core/user_pack.hpp) instead of
    // user_totals, in both periods; a rollup row without a usable pack throws NoPack (the call
    // is then run again without packs: pg/dashboard_call.cpp).
    bool user_packs = false;
};

struct NoPack {};

inline core::DashboardOptions dashboard_options(const core::DashboardFilters &flt)
{
    core::DashboardOptions o;
    o.filtered = flt.any();
    o.user_filter = flt.cells.users.active();
    return o;
}

// Reads the range and its comparison period into b, as one node does.
void read_dashboard(FunctionCallInfo fcinfo, DateADT start, DateADT end, const core::DashboardFilters &flt,
                    core::DashboardBuilder &b, const DashboardReadMode &mode);

// Reads the range as ducache_filter_options does (pg/filter_options.cpp).
void read_filter_options(FunctionCallInfo fcinfo, DateADT start, DateADT end, core::FilterOptionsBuilder &b);

// ducache_dashboard on a coordinator (pg/coordinator_dashboard.cpp).
Datum coordinator_dashboard(FunctionCallInfo fcinfo);
// ducache_filter_options on a coordinator.
Datum coordinator_filter_options(FunctionCallInfo fcinfo);

}  // namespace ducache::pg
