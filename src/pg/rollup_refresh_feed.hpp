// One cached day into core::RollupBuilder, read with the readers' rules (see the .cpp).
#pragma once

#include "core/rollup_builder.hpp"

#include "pg/postgres.hpp"
#include "pg/rollup_jsonb.hpp"

#include <string>

namespace ducache::pg {

// True when the day's aggregated_by_provider is read as stored (not NULL, not {}).
bool stored_providers(const Jsonb *providers);

// Throws core::Error on a bad value, naming the date, key and field as the readers do.
void feed_rollup_day(core::RollupBuilder &b, DateADT date, int day_of_month, const Jsonb *users,
                     const Jsonb *models, const Jsonb *providers);

class ContextResource;

// The cached days [first, last] of the month starting at `month` into the builder, read in the
// active snapshot by the caller. Throws core::Error on a bad value.
void feed_rollup_span(core::RollupBuilder &b, const char *cache, DateADT month, DateADT first, DateADT last);

// The rollup documents of the cached days [first, last] of the month starting at `month` (the
// month, a block or one day), read in the active snapshot by the caller (the rollups' owner),
// as jsonb in memory's context; `label` names the span in the builder's errors. Throws
// core::Error on a bad value.
RollupDatums build_rollup_span(const char *cache, DateADT month, DateADT first, DateADT last,
                               const std::string &label, ContextResource *memory);

}  // namespace ducache::pg
