// Month rollups: the refresh protocol (CONTRACT §7; docs/rollups.md). One month at a time:
//  1. INSERT its ducache_rollups row (ON CONFLICT DO NOTHING) and lock it FOR UPDATE, so
//     refreshes of one month queue (under REPEATABLE READ a concurrent refresh gives 40001);
//  2. ONE snapshot for the ctids of the month's visible ducache_rollup_changes rows and the
//     month's day rows;
//  3. built and no change rows: fresh. No day rows: the row is deleted (removed). A day with
//     is_complete = false: built = false (incomplete). A bad value or an overflow while
//     building: built = false, WARNING (skipped). Else the documents are written (refreshed).
//     In every case exactly the change rows seen in 2 are deleted.
// The work runs as the owner of ducache_rollups (a local user id change), which reads every
// day row; callers are checked before (ducache_refresh_rollups) or are ducache's writers.
#pragma once

#include "pg/postgres.hpp"

#include <vector>

namespace ducache::pg {

enum class RollupAction : char { fresh, removed, incomplete, skipped, refreshed };
const char *rollup_action_name(RollupAction a);

// The first day of date's month, and of the month after.
DateADT month_start(DateADT date);
DateADT next_month(DateADT month);

// Refreshes every month meeting [lo, hi] (a NULL bound: unbounded) that has day rows, a
// rollup row or change rows, in order, of the cache table `cache_table` (quoted, its shape
// checked) in schema `nsp`; months and out get one entry per month. Does nothing when the
// schema has no ducache_rollups (an extension not yet updated to 0.3.0).
void refresh_rollup_range(Oid nsp, const char *cache_table, const DateADT *lo, const DateADT *hi,
                          std::vector<DateADT> &months, std::vector<RollupAction> &out);

// The writers' hook: refreshes the months of `dates` (any order, repeats allowed).
void refresh_rollups_of_days(Oid nsp, const char *cache_table, const std::vector<DateADT> &dates);

}  // namespace ducache::pg
