// The document of ducache_dashboard: LiteMaaS's POST /api/v1/admin/usage/analytics response
// (docs/litemaas.md §5; differences L1, L3, L5-L9), built from the usage the adapter hands in
// (already filtered, CONTRACT §5.2) and written as JSON text.
//
// How to use: for each cached day of both periods in date order, begin_day(); then hand in the
// day's passing usage: user_usage() for every passing cell at the filters' level (both
// periods); for current days also identity() of user entries, model_usage() (filtered: the
// passing cells at model level or below; unfiltered: aggregated_by_model entries),
// provider_usage() and key_usage() (key cells passing every filter). Then document().
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"
#include "core/metrics.hpp"

#include <memory>
#include <memory_resource>
#include <string>
#include <string_view>

namespace ducache::core {

constexpr std::string_view kUnknownUserId = "00000000-0000-0000-0000-000000000000";
constexpr int kTopUsers = 5, kTopModels = 10;  // the limits getAnalytics passes

struct DashboardOptions {
    bool filtered = false;     // any filter (userIds, modelIds, apiKeyIds, providerIds)
    bool user_filter = false;  // userIds given: the Unknown User leaves topUsers
};

class DashboardBuilder {
public:
    DashboardBuilder(std::pmr::memory_resource *mr, DashboardOptions options);
    ~DashboardBuilder();

    // date: "YYYY-MM-DD"; current: the requested period (else the comparison period).
    void begin_day(int32_t day, std::string_view date, bool current);
    void user_usage(std::string_view user, const EntryValues &v);
    void identity(std::string_view user, const EntryValues &v);  // latest present value wins
    // provider: the model's provider (CONTRACT §5.3 rule, resolved by the caller)
    void model_usage(std::string_view model, std::string_view provider, const EntryValues &v);
    void provider_usage(std::string_view provider, const EntryValues &v);
    void key_usage(std::string_view alias, std::string_view user, const EntryValues &v);

    // The whole document; start/end are the request's dates.
    std::string document(std::string_view start, std::string_view end);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ducache::core
