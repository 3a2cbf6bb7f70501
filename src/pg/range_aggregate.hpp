// Sums one breakdown column over a date range into a per-key aggregator, and prints summed
// metrics as result columns (in core::kOutputColumns order).
#pragma once

#include "core/aggregator.hpp"

#include "pg/postgres.hpp"
#include "pg/rollup_access.hpp"
#include "pg/srf_output.hpp"

#include <memory_resource>
#include <vector>

namespace ducache::pg {

// Returns the number of cached days read (a rollup row counts the days it holds). column is
// aggregated_by_user or aggregated_by_model: the rollups' column of the same name stands for
// it (when `rollups` is usable). Day offsets (Totals::last_day) count from start.
int aggregate_range(const char *table, const char *column, DateADT start, DateADT end, const RollupAccess &rollups,
                    core::KeyAggregator &agg, bool want_identity);

// The date of a day offset from start (Totals::last_day), or NULL when no day was counted.
inline Datum offset_date_or_null(DateADT start, int32 offset, bool &null)
{
    null = offset < 0;
    return null ? (Datum)0 : DateADTGetDatum(start + offset);
}

// Writes the first `n` metric columns of core::kOutputColumns from t into values[0..n).
inline void put_metric_columns(const core::Totals &t, Datum *values, int n = core::kMetricCount)
{
    for (int i = 0; i < n; i++) {
        core::Metric m = core::kOutputColumns[i];
        values[i] = m == core::kCost ? numeric_sum_datum(t.cost) : Int64GetDatum(t.counts[m]);
    }
}

}  // namespace ducache::pg
