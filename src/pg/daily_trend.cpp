// ducache_daily_trend: one row per cached day with that day's user count and totals.
// Under filters (CONTRACT §5.2): one row per day with passing usage, summed from its cells.
#include "core/error.hpp"  // before any PostgreSQL header (pg/rollup_retry.hpp needs it)
#include "core/aggregator.hpp"
#include "core/entry_rules.hpp"
#include "core/error.hpp"
#include "core/filters.hpp"

#include "pg/rollup_retry.hpp"
#include "pg/cache_table.hpp"
#include "pg/boundary.hpp"
#include "pg/coordinator_forward.hpp"
#include "pg/cache_scan.hpp"
#include "pg/cell_walker.hpp"
#include "pg/context_resource.hpp"
#include "pg/filter_args.hpp"
#include "pg/entry_reader.hpp"
#include "pg/range_aggregate.hpp"
#include "pg/rollup_access.hpp"
#include "pg/srf_output.hpp"
#include "pg/date_text.hpp"

namespace {

using namespace ducache;
using namespace ducache::pg;

// A rollup's "daily": {"d": {"users": n, "metrics": {...}}} for every cached day d of the
// month, emitted in day order as the days' rows would be.
template <typename Emit>
void emit_rollup_days(const ScanRow &r, const Jsonb *daily, std::pmr::memory_resource *memory, Emit &&emit)
{
    InputRow ctx{r.date, r.base, "daily", nullptr, false};  // its entries carry no "~days"
    if (daily == nullptr)
        throw_bad_shape(ctx, "a rollup has no daily summaries");
    struct Day {
        bool seen = false;
        int32 users = 0;
        EntryValues values;
    };
    Day days[32];
    for_each_entry_item(daily, ctx, false, [&](std::string_view key, const EntryValues &v, uint32, const JsonbItem &item) {
        int d = 0;
        for (char ch : key)
            d = (ch >= '0' && ch <= '9' && d < 100) ? d * 10 + (ch - '0') : 100;
        if (key.empty() || d < 1 || d > 31)
            throw_bad_shape(ctx, "a daily key is not a day of the month");
        JsonbObjectView entry(reinterpret_cast<const JsonbContainer *>(item.data));
        int32 at = find_member(entry, "users");
        int64_t users = 0;
        if (at >= 0 && entry.kind(uint32(at)) == core::ValueKind::number)
            entry.count(uint32(at), users);
        days[d].seen = true;
        days[d].users = int32(users);
        days[d].values = v;
    });
    for (int d = 1; d <= 31; d++) {
        if (!days[d].seen)
            continue;
        core::Totals totals(memory);
        const EntryValues &v = days[d].values;
        const core::FixedLabel where(date_text(r.date + d - 1));
        totals.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, "daily", "", where);
        emit(DateADT(r.date + d - 1), days[d].users, totals);
    }
}

}  // namespace

static Datum ducache_daily_trend_body(FunctionCallInfo fcinfo);

// Through with_days_retry: an error met while summing rollups is the days' own (pg/rollup_retry.hpp).
DUCACHE_FUNCTION(ducache_daily_trend)
{
    Datum coordinated;  // on a coordinator: the shards' answer (docs/scale-out.md)
    if (ducache::pg::forward_to_coordinator(fcinfo, "ducache_coord_daily_trend", 5, false, &coordinated))
        return coordinated;
    return ducache::pg::with_days_retry([&] { return ducache_daily_trend_body(fcinfo); });
}

static Datum ducache_daily_trend_body(FunctionCallInfo fcinfo)
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
        // Unfiltered, a fresh month rollup answers from its "daily" summaries; filtered calls
        // need each day's cells, so they read the days only.
        const char *table = cache_table_name(fcinfo);
        CacheScan scan = filtered
            ? CacheScan(table, "aggregated_by_user", 1, start, end)
            : CacheScan(table, "aggregated_by_user", "daily", 1, start, end, rollup_access(fcinfo));
        ScanRow r;
        const Jsonb *users = nullptr;
        auto emit = [&](DateADT date, int32 active, const core::Totals &totals) {
            Datum values[2 + core::kTrendColumns] = {DateADTGetDatum(date), Int32GetDatum(active)};
            put_metric_columns(totals, values + 2, core::kTrendColumns);
            bool nulls[2 + core::kTrendColumns] = {};
            put_row(fcinfo, values, nulls);
        };
        while (scan.next(r, &users)) {
            if (r.rollup) {
                emit_rollup_days(r, users, &memory, emit);
                continue;
            }
            const DateADT date = r.date;
            InputRow ctx{date, r.base, "aggregated_by_user"};
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
            emit(date, active, totals);
        }
        scan.finish();
    }
    delete_context(work);
    return (Datum)0;
}
