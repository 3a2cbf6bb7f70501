// The day blocks of core/rollup_blocks.hpp as dates (src/sql/13_rollup_block_tables.sql). The
// first month PostgreSQL has (4714-11-24 BC to 11-30) is one block: its first days do not exist.
#pragma once

#include "core/rollup_blocks.hpp"  // includers put it before any PostgreSQL header

#include "pg/postgres.hpp"

namespace ducache::pg {

// The first day of date's block (date finite).
inline DateADT block_start(DateADT date)
{
    int y, m, d;
    j2date(date + POSTGRES_EPOCH_JDATE, &y, &m, &d);
    DateADT first_date = DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE;
    if (date2j(y, m, 1) - POSTGRES_EPOCH_JDATE < first_date)
        return first_date;
    return date - (d - core::block_start_day(d));
}

// The last day of the block starting at `start`.
inline DateADT block_last_day(DateADT start)
{
    int y, m, d;
    j2date(start + POSTGRES_EPOCH_JDATE, &y, &m, &d);
    DateADT month_end = (m == 12 ? date2j(y + 1, 1, 1) : date2j(y, m + 1, 1)) - POSTGRES_EPOCH_JDATE - 1;
    if (date2j(y, m, 1) - POSTGRES_EPOCH_JDATE < DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE)
        return month_end;
    DateADT first = start - (d - 1);
    return first + core::block_last_day(d, int(month_end - first) + 1) - 1;
}

// True when [start, end] holds a whole block.
inline bool range_holds_a_block(DateADT start, DateADT end)
{
    DateADT s = block_start(start) == start ? start : block_last_day(block_start(start)) + 1;
    return s <= end && block_last_day(s) <= end;
}

}  // namespace ducache::pg
