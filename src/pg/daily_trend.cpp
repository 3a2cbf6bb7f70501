// ducache_daily_trend: one row per cached day with that day's user count and totals.
// Under filters (CONTRACT §5.2): one row per day with passing usage, summed from its cells.
#include "core/aggregator.hpp"
#include "core/entry_rules.hpp"
#include "core/error.hpp"
#include "core/filters.hpp"

#include "pg/cache_table.hpp"
#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/cell_walker.hpp"
#include "pg/context_resource.hpp"
#include "pg/filter_args.hpp"
#include "pg/entry_reader.hpp"
#include "pg/range_aggregate.hpp"
#include "pg/srf_output.hpp"
#include "pg/date_text.hpp"

DUCACHE_FUNCTION(ducache_daily_trend)
{
    using namespace ducache;
    using namespace ducache::pg;
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) {
        init_materialized_srf(fcinfo);  // a NULL date: no rows
        return (Datum)0;
    }
    DateADT start = PG_GETARG_DATEADT(0), end = PG_GETARG_DATEADT(1);
    check_date_range(start, end);
    init_materialized_srf(fcinfo);

    MemoryContext work = new_work_context("ducache daily trend");
    {
        ContextResource memory(work);
        core::Filters filters(&memory);
        read_filter_args(fcinfo, 2, filters);
        const bool filtered = filters.any();
        const core::CellLevel level = filters.level(false);
        CacheScan scan(cache_table_name(fcinfo), "aggregated_by_user", 1, start, end);
        DateADT date;
        const Jsonb *users = nullptr;
        int day = 0;
        while (scan.next(date, &users)) {
            InputRow ctx{date, day++, "aggregated_by_user"};
            core::Totals totals(&memory);
            int32 active = 0;
            const std::string day_text = date_text(date);
            core::FixedLabel where(day_text);
            if (!filtered) {
                for_each_entry(users, ctx, false, [&](std::string_view key, const EntryValues &v, uint32) {
                    active++;
                    totals.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, "aggregated_by_user", key, where);
                });
            } else {
                const char *last_user = nullptr;  // cells come grouped by user
                bool any = false;
                walk_cells(users, ctx, filters, level, [&](const Cell &c) {
                    any = true;
                    if (c.user.data() != last_user) {
                        last_user = c.user.data();
                        active++;
                    }
                    const EntryValues &v = c.values;
                    totals.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, "aggregated_by_user", c.user, where);
                });
                if (!any)
                    continue;
            }
            Datum values[2 + core::kTrendColumns] = {DateADTGetDatum(date), Int32GetDatum(active)};
            put_metric_columns(totals, values + 2, core::kTrendColumns);
            bool nulls[2 + core::kTrendColumns] = {};
            put_row(fcinfo, values, nulls);
        }
        scan.finish();
    }
    delete_context(work);
    return (Datum)0;
}
