// One cached day into core::RollupBuilder, read with the readers' rules (see the .cpp).
#pragma once

#include "core/rollup_builder.hpp"

#include "pg/postgres.hpp"

namespace ducache::pg {

// True when the day's aggregated_by_provider is read as stored (not NULL, not {}).
bool stored_providers(const Jsonb *providers);

// Throws core::Error on a bad value, naming the date, key and field as the readers do.
void feed_rollup_day(core::RollupBuilder &b, DateADT date, int day_of_month, const Jsonb *users,
                     const Jsonb *models, const Jsonb *providers);

}  // namespace ducache::pg
