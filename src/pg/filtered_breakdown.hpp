// The breakdowns under filters (CONTRACT §5.2) and the two drill-downs (§5.4): one scan of
// aggregated_by_user (plus aggregated_by_model for the models' own "provider" fields where a
// provider is printed), its passing cells (pg/cell_walker.hpp) summed by the core's reducers.
#pragma once

#include "core/filters.hpp"

#include "pg/postgres.hpp"

#include <memory_resource>

namespace ducache::pg {

enum class FilteredKind { user, model, provider, user_model, api_key };

// Writes the rows of `kind` into the materialized result of fcinfo.
void filtered_breakdown(FunctionCallInfo fcinfo, const char *table, DateADT start, DateADT end,
                        const core::Filters &filters, FilteredKind kind, std::pmr::memory_resource *memory);

}  // namespace ducache::pg
