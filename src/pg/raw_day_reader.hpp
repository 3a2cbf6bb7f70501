// Reads the gateway's raw_data of one day (CONTRACT §3, ducache_rebuild) in its binary form,
// through the JSONB view, and feeds the core's rebuild model. Malformed structure is the core's
// 22023 naming the date and the path; bad metric values are read_entry's errors.
#pragma once

#include "core/rebuild_model.hpp"

#include "pg/postgres.hpp"

#include <memory_resource>
#include <set>
#include <string>

namespace ducache::pg {

using KeyHashes = std::pmr::set<std::pmr::string, std::less<>>;

// Adds every counted key hash of breakdown.models.*.api_keys to `hashes` (the pass before the
// owner lookup; it also checks the structure of every day before anything is summed).
void collect_key_hashes(const Jsonb *raw, DateADT date, KeyHashes &hashes);

// Feeds each model of breakdown.models and each of its keys into `day`, then finishes the day
// with raw_data's own metrics.
void feed_raw_day(const Jsonb *raw, DateADT date, core::RebuildDay &day);

// aggregated_by_provider: raw_data's own breakdown.providers, copied (core::providers_copy
// says what an absent member becomes).
struct CopiedMembers {
    Datum providers;
    int32 n_providers;
};
CopiedMembers copy_raw_members(const Jsonb *raw, DateADT date);

}  // namespace ducache::pg
