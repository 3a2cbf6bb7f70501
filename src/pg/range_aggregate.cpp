#include "core/aggregator.hpp"

#include "pg/cache_scan.hpp"
#include "pg/entry_reader.hpp"
#include "pg/range_aggregate.hpp"

namespace ducache::pg {

int aggregate_range(const char *table, const char *column, DateADT start, DateADT end, const RollupAccess &rollups,
                    core::KeyAggregator &agg, bool want_identity)
{
    CacheScan scan(table, column, column, 1, start, end, rollups);
    ScanRow row;
    const Jsonb *value = nullptr;
    int days = 0;
    while (scan.next(row, &value)) {
        days += row.day_count();
        InputRow ctx{row.date, row.base, column, nullptr, row.rollup};
        accumulate_breakdown(agg, value, ctx, want_identity);
    }
    scan.finish();
    return days;
}

}  // namespace ducache::pg
