// The day projections of one month (src/sql/16_rollup_day_tables.sql), refreshed by the month's
// refresh (pg/rollup_refresh.cpp) while it holds the month's lock and its snapshot is active.
// A day's projection is rebuilt when it has no row, when a change row seen by the month's
// refresh names it, names its block without a day, or names no block; else it is left as it is
// (also when the month itself is fresh: a month built before the day projections existed gets
// them from its next refresh). No day row: its projection row is deleted. is_complete = false,
// a bad value or an overflow: built = false, silently (the month's refresh warns).
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

// A change row seen by the month's refresh that names a block.
struct SeenBlockChange {
    DateADT block;
    DateADT day;   // valid when has_day
    bool has_day;  // the statement touched this one day of the block
};

struct DayRefresh {
    const char *days;     // "schema".ducache_rollup_days
    const char *cache;    // the cache table (quoted)
    const char *schema;   // ducache's schema (quoted)
    DateADT month;
    const SeenBlockChange *changed;
    int nchanged;
    bool whole_month;     // a seen change row names no block
    bool owner_sees_all;
};

void refresh_month_days(const DayRefresh &r);

}  // namespace ducache::pg
