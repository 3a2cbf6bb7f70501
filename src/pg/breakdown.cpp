// ducache_user_breakdown, ducache_model_breakdown, ducache_provider_breakdown.
#include "core/aggregator.hpp"

#include "pg/cache_table.hpp"
#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/context_resource.hpp"
#include "pg/identity.hpp"
#include "pg/range_aggregate.hpp"
#include "pg/srf_output.hpp"

namespace ducache::pg {

namespace {

// Appends the seven metric columns in contract order, then active_days.
int put_metrics(const core::Totals &t, Datum *values, bool *nulls, int col)
{
    put_metric_columns(t, values + col);
    col += core::kMetricCount;
    values[col++] = Int32GetDatum(t.active_days);
    for (int i = 0; i < col; i++)
        nulls[i] = false;
    return col;
}

Datum breakdown(FunctionCallInfo fcinfo, const char *column, bool users)
{
    DateADT start = PG_GETARG_DATEADT(0), end = PG_GETARG_DATEADT(1);
    check_date_range(start, end);
    init_materialized_srf(fcinfo);

    MemoryContext work = new_work_context("ducache breakdown");
    {
        ContextResource memory(work);
        core::KeyAggregator agg(&memory);
        aggregate_range(cache_table_name(fcinfo), column, start, end, agg, users);
        if (users)
            apply_users_table(agg);

        Datum values[12];
        bool nulls[12];
        uint32 n = 0;
        for (const core::Slot *s : agg.sorted()) {
            if ((++n & 1023) == 0)
                check_for_interrupts();
            int col = 0;
            values[col++] = text_datum(s->key_view());
            if (users) {
                for (std::string_view v : {s->totals.username, s->totals.email, s->totals.role}) {
                    values[col] = v.empty() ? (Datum)0 : text_datum(v);
                    col++;
                }
            }
            put_metrics(s->totals, values + col, nulls + col, 0);
            nulls[0] = false;
            if (users) {
                nulls[1] = s->totals.username.empty();
                nulls[2] = s->totals.email.empty();
                nulls[3] = s->totals.role.empty();
            }
            put_row(fcinfo, values, nulls);
        }
    }
    delete_context(work);
    return (Datum)0;
}

}  // namespace

}  // namespace ducache::pg

using ducache::pg::breakdown;

DUCACHE_FUNCTION(ducache_user_breakdown)
{
    return breakdown(fcinfo, "aggregated_by_user", true);
}

DUCACHE_FUNCTION(ducache_model_breakdown)
{
    return breakdown(fcinfo, "aggregated_by_model", false);
}

DUCACHE_FUNCTION(ducache_provider_breakdown)
{
    return breakdown(fcinfo, "aggregated_by_provider", false);
}
