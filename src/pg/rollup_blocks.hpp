// The day blocks nested in a month (src/sql/13_rollup_block_tables.sql, docs/rollups.md "Day
// blocks"): days 1-8, 9-16, 17-24 and 25 to the month's end, as ducache_block_of() computes
// them. The first month PostgreSQL has (4714-11-24 BC to 11-30) is one block.
#pragma once

#include "pg/postgres.hpp"

#include <algorithm>

namespace ducache::pg {

inline constexpr int kBlockStarts[] = {1, 9, 17, 25};

// The first day of date's block (date finite).
inline DateADT block_start(DateADT date)
{
    int y, m, d;
    j2date(date + POSTGRES_EPOCH_JDATE, &y, &m, &d);
    DateADT first_date = DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE;
    if (date2j(y, m, 1) - POSTGRES_EPOCH_JDATE < first_date)
        return first_date;
    int start = d >= 25 ? 25 : (d - 1) / 8 * 8 + 1;
    return date - (d - start);
}

// The last day of the block starting at `start`.
inline DateADT block_last_day(DateADT start)
{
    int y, m, d;
    j2date(start + POSTGRES_EPOCH_JDATE, &y, &m, &d);
    DateADT month_end = (m == 12 ? date2j(y + 1, 1, 1) : date2j(y, m + 1, 1)) - POSTGRES_EPOCH_JDATE - 1;
    if (d >= 25 || date2j(y, m, 1) - POSTGRES_EPOCH_JDATE < DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE)
        return month_end;
    return std::min<DateADT>(start + 7, month_end);
}

// True when [start, end] holds a whole block.
inline bool range_holds_a_block(DateADT start, DateADT end)
{
    DateADT s = block_start(start) == start ? start : block_last_day(block_start(start)) + 1;
    return s <= end && block_last_day(s) <= end;
}

}  // namespace ducache::pg
