// The columns of a rollup row (month, block or day projection) that only the dashboard reads:
// a user entry's "~identity", "daily" and key_totals, decoded into core::DashboardBuilder with
// the readers' checks and errors. Used by pg/dashboard.cpp's range loop.
#pragma once

#include "core/error.hpp"  // core headers before any PostgreSQL header
#include "core/dashboard.hpp"
#include "core/filters.hpp"

#include "pg/cache_scan.hpp"
#include "pg/cell_walker.hpp"
#include "pg/entry_reader.hpp"

#include <string_view>

namespace ducache::pg {

// A rollup user entry's "~identity" (core/rollup_identity.hpp) as the day entry's own strings,
// and its bytes (the identity key of DashboardBuilder::identity_of: "" when it has none).
// identity_member_at: the same with the member's index already known (-1: none), e.g. from the
// entry's layout plan (core::EntryPlan::identity).
int32 identity_member(const JsonbObjectView &entry);
int32 identity_member_at(const JsonbObjectView &entry, int32 at);
void rollup_identity_at(const JsonbObjectView &entry, int32 at, EntryValues &out);
void rollup_identity(const JsonbObjectView &entry, EntryValues &out);
std::string_view identity_key(const JsonbObjectView &entry, int32 at);

// A rollup's "daily" {"d": {"users", "metrics", "models": {M: {"metrics"}}}}, in day order.
void rollup_daily(const Jsonb *daily, const ScanRow &r, core::DashboardBuilder &b);

// A rollup's key_totals {U: {A: {"metrics"}}} (pg/rollup_derived.cpp) into the API keys. NULL
// beside users: its key cells could not be summed there; the call then reads the days.
void rollup_key_totals(const Jsonb *keys, bool has_users, const InputRow &ctx, core::DashboardBuilder &b);

}  // namespace ducache::pg
