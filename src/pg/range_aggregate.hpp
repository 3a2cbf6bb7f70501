// Sums one breakdown column over a date range into a per-key aggregator.
#pragma once

#include "core/aggregator.hpp"

#include "pg/postgres.hpp"

namespace ducache::pg {

// Returns the number of cached days read. column is one of the three breakdown columns.
int aggregate_range(const char *table, const char *column, DateADT start, DateADT end, core::KeyAggregator &agg,
                    bool want_identity);

}  // namespace ducache::pg
