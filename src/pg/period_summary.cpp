// ducache_period_summary: the totals behind ducache_analytics for one period (the SQL function
// ducache_analytics calls it for the period and for the one before, and computes the changes).
// Under filters (CONTRACT §5.2) the totals, active users and top user come from the passing
// cells; the top model from the passing cells at the model level (or deeper).
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

extern "C" {
#include "access/htup_details.h"
}

static Datum ducache_period_summary_body(FunctionCallInfo fcinfo);

// Through with_days_retry: an error met while summing rollups is the days' own (pg/rollup_retry.hpp).
DUCACHE_FUNCTION(ducache_period_summary)
{
    Datum coordinated;  // on a coordinator: the shards' answer (docs/scale-out.md)
    if (ducache::pg::forward_to_coordinator(fcinfo, "ducache_coord_period_summary", 6, true, &coordinated))
        return coordinated;
    return ducache::pg::with_days_retry([&] { return ducache_period_summary_body(fcinfo); });
}

static Datum ducache_period_summary_body(FunctionCallInfo fcinfo)
{
    using namespace ducache;
    using namespace ducache::pg;
    bool no_period = PG_ARGISNULL(0) || PG_ARGISNULL(1);  // a row of NULLs (as when STRICT)
    DateADT start = no_period ? 0 : PG_GETARG_DATEADT(0), end = no_period ? 0 : PG_GETARG_DATEADT(1);
    bool with_top = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
    if (!no_period)
        check_date_range(start, end);
    TupleDesc desc = pg_call([&] {
        TupleDesc d;
        if (get_call_result_type(fcinfo, nullptr, &d) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "ducache_period_summary must return a record");
        return BlessTupleDesc(d);
    });
    const char *table = cache_table_name(fcinfo);

    Datum values[11] = {};
    bool nulls[11] = {};
    if (no_period) {
        for (bool &n : nulls)
            n = true;
        HeapTuple tuple = pg_call([&] { return heap_form_tuple(desc, values, nulls); });
        return HeapTupleGetDatum(tuple);
    }
    MemoryContext work = new_work_context("ducache period summary");
    {
        ContextResource memory(work);
        core::KeyAggregator users(&memory), models(&memory);
        core::Filters filters(&memory);
        read_filter_args(fcinfo, 3, filters);
        // Whole months from fresh rollups (their aggregated_by_user and aggregated_by_model
        // have the days' shape, with "~days"): the same sums, users and days.
        const RollupAccess rollups = rollup_access(fcinfo);
        int days = 0;
        if (!filters.any()) {
            days = aggregate_range(table, "aggregated_by_user", start, end, rollups, users, false);
        } else {
            core::CellLevel level = filters.level(false), model_level = filters.level(true);
            CacheScan scan(table, "aggregated_by_user", "aggregated_by_user", 1, start, end, rollups);
            ScanRow r;
            const Jsonb *value = nullptr;
            while (scan.next(r, &value)) {
                days += r.day_count();
                InputRow ctx{r.date, r.base, "aggregated_by_user", nullptr, r.rollup};
                DayLabel row(ctx);
                auto add = [&](core::KeyAggregator &agg, std::string_view key, const Cell &c) {
                    core::Slot &s = agg.find_or_insert(key.data(), key.size());
                    s.totals.add_or_throw(c.values.counts, c.values.cost_seen ? &c.values.cost : nullptr, ctx.column,
                                          c.user, row);
                    s.totals.mark_days(ctx.day_index, c.values.days);
                };
                bool same_cells = level == model_level;
                walk_cells(value, ctx, filters, level, [&](const Cell &c) {
                    add(users, c.user, c);
                    if (with_top && same_cells)
                        add(models, c.model, c);
                });
                if (with_top && !same_cells)
                    walk_cells(value, ctx, filters, model_level, [&](const Cell &c) { add(models, c.model, c); });
            }
            scan.finish();
        }
        core::Totals all(&memory);
        core::FixedLabel where("the period " + date_text(start) + " to " + date_text(end));
        for (const core::Slot &s : users.slots()) {
            all.add_or_throw(s.totals.counts, nullptr, "the period's totals", s.key_view(), where);
            all.cost.add(s.totals.cost);
        }
        values[0] = Int32GetDatum(days);
        values[1] = Int32GetDatum(int32(users.size()));
        put_metric_columns(all, values + 2);
        nulls[9] = nulls[10] = true;
        if (with_top && users.size() > 0) {
            auto top = users.sorted();
            values[9] = text_datum(top[0]->key_view());
            nulls[9] = false;
            if (!filters.any())
                aggregate_range(table, "aggregated_by_model", start, end, rollups, models, false);
            if (models.size() > 0) {
                auto top_model = models.sorted();
                values[10] = text_datum(top_model[0]->key_view());
                nulls[10] = false;
            }
        }
    }
    HeapTuple tuple = pg_call([&] { return heap_form_tuple(desc, values, nulls); });
    delete_context(work);
    return HeapTupleGetDatum(tuple);
}
