// The derived columns of a rollup row (see pg/rollup_derived.cpp): the trigger on the month and
// block rows sets them from the row's documents; the day projections' refresh
// (pg/rollup_refresh_days.cpp) computes them from a one-day rollup's documents the same way.
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

// Index of each derived column in rollup_derived_columns' arrays.
enum RollupDerived { kUserTotals = 0, kKeyTotals = 1, kModelTotals = 2, kUserPack = 3, kRollupDerived = 4 };

// user_totals, key_totals, model_totals and user_pack of the documents `users` and `models`
// (either may be NULL), palloc'd in the current memory context; nulls[i] set when column i is NULL.
void rollup_derived_columns(const Jsonb *users, const Jsonb *models, Datum values[kRollupDerived],
                            bool nulls[kRollupDerived]);

// user_pack (core/user_pack.hpp) of a user_totals value, as a bytea in the current memory
// context; nullptr when there is none (NULL user_totals, a value that does not fit exactly, an
// entry the dashboard's readers refuse).
bytea *user_pack_of(const Jsonb *user_totals);

}  // namespace ducache::pg
