// One trend of the dashboard (LiteMaaS's AdminUsageTrendCalculator.calculateTrend), computed
// exactly on decimal text: change = (current - previous) / previous * 100; direction "stable"
// when |change| <= the stability threshold (1.0), decided on the unrounded change, else
// "up"/"down"; percentageChange rounded to 2 places half away from zero (SQL round(numeric, 2)).
// previous = 0: 100 and "up" when current > 0, else 0 and "stable".
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/json_sink.hpp"

#include <string>
#include <string_view>

namespace ducache::core {

struct TrendChange {
    std::string percentage;  // JSON number text, e.g. "12.35", "-0.50", "100", "0"
    const char *direction;   // "up", "down", "stable"
};

// current and previous: plain decimal text ("12", "-0.0450"), as numeric sums print.
TrendChange trend_change(std::string_view current, std::string_view previous);

// LiteMaaS's createEmptyAnalytics (no cached day in the range): zeros, empty maps and lists.
void write_empty_dashboard(JsonSink &w, std::string_view start, std::string_view end);

}  // namespace ducache::core
