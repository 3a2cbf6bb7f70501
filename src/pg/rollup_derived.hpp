// The derived columns of a rollup row (see pg/rollup_derived.cpp): the trigger on the month and
// block rows sets them from the row's documents; the day projections' refresh
// (pg/rollup_refresh_days.cpp) computes them from a one-day rollup's documents the same way.
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

// Index of each derived column in rollup_derived_columns' arrays.
enum RollupDerived { kUserTotals = 0, kKeyTotals = 1, kModelTotals = 2 };

// user_totals, key_totals and model_totals of the documents `users` and `models` (either may be
// NULL), palloc'd in the current memory context; nulls[i] set when column i is NULL.
void rollup_derived_columns(const Jsonb *users, const Jsonb *models, Datum values[3], bool nulls[3]);

}  // namespace ducache::pg
