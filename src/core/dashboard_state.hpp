// What core::DashboardBuilder has summed before it writes the document: the mergeable state of
// ducache_dashboard. On a coordinator (docs/scale-out.md) every shard builds this state over its
// own rows and ships it as a binary partial (core/dashboard_partial.hpp); the coordinator adds
// the partials into one state and renders the same document one node renders.
//
// Every member merges by adding or by a "latest wins" rule with an explicit date, never by the
// order the shards answer in:
// * sums per key (users, models, providers, keys, daily rows) add: users are disjoint across
//   shards, models / providers / dates are not, and adding is right for both;
// * idents: a user's entries live on one shard (the non-empty identity is taken);
// * model_provider: a model's own "provider" string with the day it was read on; the later
//   day wins (a rollup row gives the month's latest under its first day);
// * has_current / has_previous: a cached row was seen in the range / comparison period.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"

#include <climits>
#include <map>
#include <memory>
#include <memory_resource>
#include <string>
#include <string_view>
#include <vector>

namespace ducache::core {

struct DashboardState {
    explicit DashboardState(std::pmr::memory_resource *mr)
        : mr(mr), users(mr), prev_users(mr), idents(mr), models(mr), providers(mr), unprovided(mr), keys(mr),
          model_provider(mr), total(mr), prev_total(mr)
    {
    }
    struct OwnProvider {
        std::pmr::string provider;
        int32_t day = INT32_MIN;  // a day number (rows in date order); INT32_MIN: given, no day
    };
    // One cached day of the range: its passing totals and its model sums (dailyUsage,
    // dailyModelUsage). Days with 0 requests stay here: a shard's 0 may not be the day's.
    // A day's models start in a small table (KeyAggregator grows it): ~10 models a day.
    static constexpr size_t kDayModelsTable = 32;
    struct Day {
        Day(std::string_view d, std::pmr::memory_resource *mr)
            : date(d), total(mr), models(std::make_unique<KeyAggregator>(mr, kDayModelsTable))
        {
        }
        std::string date;  // "YYYY-MM-DD" (or "... BC")
        Totals total;
        std::unique_ptr<KeyAggregator> models;
    };

    std::pmr::memory_resource *mr;
    // users / idents / models / providers / unprovided / keys: the range; prev_users: the
    // comparison period. keys: alias, NUL, user.
    KeyAggregator users, prev_users, idents, models, providers, unprovided, keys;
    // The comparison period's users with requests != 0 counted by the shards (a partial sends
    // the count, not the users: users are disjoint across shards, and the document shows only
    // the count); the document adds the ones listed in prev_users.
    int64_t prev_users_counted = 0;
    std::pmr::map<std::pmr::string, OwnProvider, std::less<>> model_provider;
    Totals total, prev_total;
    bool has_current = false, has_previous = false;
    std::vector<Day> days;  // in date order

    // The model's own provider, the later day winning (equal days: the one already here).
    void note_provider(std::string_view model, std::string_view provider, int32_t day, bool replace_on_tie);
    // Adds `other` into this state (the merge of two shards' partials).
    void merge(const DashboardState &other);
};

// Orders "YYYY-MM-DD" / "YYYY-MM-DD BC" date texts as dates (-1, 0, 1).
int compare_date_text(std::string_view a, std::string_view b);

}  // namespace ducache::core
