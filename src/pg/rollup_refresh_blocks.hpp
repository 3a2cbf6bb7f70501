// The day-block rollups of one month, refreshed by the month's refresh (pg/rollup_refresh.cpp)
// while it holds the month's lock and its snapshot is active, before the month's own write.
// A block is rebuilt when a change row seen by the month's refresh names it (or names no
// block: the whole month), or when it is not built; else it is left as it is. No day rows:
// its row is deleted. A day with is_complete = false: built = false. A bad value or an
// overflow: built = false, silently (the month's refresh warns for the month).
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

struct BlockRefresh {
    const char *blocks;   // "schema".ducache_rollup_blocks
    const char *cache;    // the cache table (quoted)
    const char *schema;   // ducache's schema (quoted)
    DateADT month;
    const DateADT *changed;  // the blocks the seen change rows name
    int nchanged;
    bool whole_month;        // a seen change row names no block
    bool owner_sees_all;
};

void refresh_month_blocks(const BlockRefresh &r);

}  // namespace ducache::pg
