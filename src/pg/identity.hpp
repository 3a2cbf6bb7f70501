// Who a user key is: username, email and role from the users table (GUC ducache.users_table),
// fetched in ONE query for all keys of a breakdown, falling back to what the entries carry.
#pragma once

#include "core/aggregator.hpp"

namespace ducache::pg {

// Overwrites each slot's username/email/role with the users table's non-NULL values.
void apply_users_table(core::KeyAggregator &agg);

}  // namespace ducache::pg
