// ducache_period_summary: the totals behind ducache_analytics for one period (the SQL function
// ducache_analytics calls it for the period and for the one before, and computes the changes).
#include "core/aggregator.hpp"
#include "core/error.hpp"

#include "pg/cache_table.hpp"
#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/context_resource.hpp"
#include "pg/entry_reader.hpp"
#include "pg/range_aggregate.hpp"
#include "pg/srf_output.hpp"
#include "pg/date_text.hpp"

extern "C" {
#include "access/htup_details.h"
}

DUCACHE_FUNCTION(ducache_period_summary)
{
    using namespace ducache;
    using namespace ducache::pg;
    DateADT start = PG_GETARG_DATEADT(0), end = PG_GETARG_DATEADT(1);
    bool with_top = PG_GETARG_BOOL(2);
    check_date_range(start, end);
    TupleDesc desc = pg_call([&] {
        TupleDesc d;
        if (get_call_result_type(fcinfo, nullptr, &d) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "ducache_period_summary must return a record");
        return BlessTupleDesc(d);
    });
    const char *table = cache_table_name(fcinfo);

    Datum values[11];
    bool nulls[11] = {};
    MemoryContext work = new_work_context("ducache period summary");
    {
        ContextResource memory(work);
        core::KeyAggregator users(&memory);
        int days = aggregate_range(table, "aggregated_by_user", start, end, users, false);
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
            core::KeyAggregator models(&memory);
            aggregate_range(table, "aggregated_by_model", start, end, models, false);
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
