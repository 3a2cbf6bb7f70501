// Sums one breakdown column over a date range into a per-key aggregator, and prints summed
// metrics as result columns (in core::kOutputColumns order).
#pragma once

#include "core/aggregator.hpp"

#include "pg/postgres.hpp"
#include "pg/srf_output.hpp"

#include <memory_resource>
#include <vector>

namespace ducache::pg {

// Returns the number of cached days read; dates (if given) gets each day index's date. column is one of the three breakdown columns.
int aggregate_range(const char *table, const char *column, DateADT start, DateADT end, core::KeyAggregator &agg,
                    bool want_identity, std::pmr::vector<DateADT> *dates = nullptr);

// Writes the first `n` metric columns of core::kOutputColumns from t into values[0..n).
inline void put_metric_columns(const core::Totals &t, Datum *values, int n = core::kMetricCount)
{
    for (int i = 0; i < n; i++) {
        core::Metric m = core::kOutputColumns[i];
        values[i] = m == core::kCost ? numeric_datum(t.cost.to_string()) : Int64GetDatum(t.counts[m]);
    }
}

}  // namespace ducache::pg
