// The day blocks nested in a month (docs/rollups.md "Day blocks"): days 1-8, 9-16, 17-24 and 25
// to the month's end, as SQL's ducache_block_of() computes them. In days of the month (1-based);
// pg/rollup_blocks.hpp turns them into dates.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

namespace ducache::core {

// The day of the month that starts the block holding day `day`.
constexpr int block_start_day(int day)
{
    return day >= 25 ? 25 : (day - 1) / 8 * 8 + 1;
}

// The last day of the block starting on day `start` of a month of `month_days` days.
constexpr int block_last_day(int start, int month_days)
{
    return start >= 25 || start + 7 > month_days ? month_days : start + 7;
}

}  // namespace ducache::core
