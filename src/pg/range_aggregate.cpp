#include "core/aggregator.hpp"

#include "pg/cache_scan.hpp"
#include "pg/entry_reader.hpp"
#include "pg/range_aggregate.hpp"

namespace ducache::pg {

int aggregate_range(const char *table, const char *column, DateADT start, DateADT end, core::KeyAggregator &agg,
                    bool want_identity, std::pmr::vector<DateADT> *dates)
{
    CacheScan scan(table, column, 1, start, end);
    DateADT date;
    const Jsonb *value = nullptr;
    int day = 0;
    while (scan.next(date, &value)) {
        if (dates)
            dates->push_back(date);
        InputRow ctx{date, day++, column};
        accumulate_breakdown(agg, value, ctx, want_identity);
    }
    scan.finish();
    return day;
}

}  // namespace ducache::pg
