// ducache_daily_trend: one row per cached day with that day's user count and totals.
#include "core/aggregator.hpp"
#include "core/error.hpp"

#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/context_resource.hpp"
#include "pg/entry_reader.hpp"
#include "pg/srf_output.hpp"

DUCACHE_FUNCTION(ducache_daily_trend)
{
    using namespace ducache;
    using namespace ducache::pg;
    DateADT start = PG_GETARG_DATEADT(0), end = PG_GETARG_DATEADT(1);
    check_date_range(start, end);
    init_materialized_srf(fcinfo);

    MemoryContext work = new_work_context("ducache daily trend");
    {
        ContextResource memory(work);
        CacheScan scan(cache_table_name(fcinfo), "aggregated_by_user", 1, start, end);
        DateADT date;
        const Jsonb *users = nullptr;
        int day = 0;
        while (scan.next(date, &users)) {
            DayContext ctx{date, day++, "aggregated_by_user"};
            core::Totals totals(&memory);
            int32 active = 0;
            for_each_entry(users, ctx, false, [&](std::string_view key, const EntryValues &v, uint32) {
                active++;
                core::Metric overflow = totals.add(v.counts, v.cost_seen ? &v.cost : nullptr);
                if (overflow != core::kMetricCount)
                    throw core::Error("22003", "bigint out of range summing aggregated_by_user on " + date_text(date),
                                      "Field \"" + std::string(core::metric_name(overflow)) +
                                          "\" passes 9223372036854775807 at key \"" + std::string(key) + "\".");
            });
            Datum values[7] = {DateADTGetDatum(date),
                               Int32GetDatum(active),
                               Int64GetDatum(totals.counts[core::kRequests]),
                               Int64GetDatum(totals.counts[core::kTotalTokens]),
                               Int64GetDatum(totals.counts[core::kPromptTokens]),
                               Int64GetDatum(totals.counts[core::kCompletionTokens]),
                               numeric_datum(totals.cost.to_string())};
            bool nulls[7] = {};
            put_row(fcinfo, values, nulls);
        }
        scan.finish();
    }
    delete_context(work);
    return (Datum)0;
}
