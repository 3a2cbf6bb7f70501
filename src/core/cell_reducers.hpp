// Reducers of usage cells (CONTRACT §5.2-5.4): sums by model with distinct users and the day
// sets a later grouping by provider needs, the latest own "provider" of each model, and the
// (a, b) pair keys of the drill-downs. Pure C++: the adapter walks the cells (pg/cell_walker)
// and hands each one here.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"
#include "core/filters.hpp"
#include "core/metrics.hpp"

#include <memory_resource>
#include <string>
#include <string_view>
#include <utility>

namespace ducache::core {

// A pair of keys as one aggregator key: a, NUL, b. JSONB text never holds NUL, so the split is
// exact, and byte order of the pair key is the order of (a, b).
std::string_view pair_key(std::pmr::string &buf, std::string_view a, std::string_view b);
std::pair<std::string_view, std::string_view> split_pair(std::string_view key);

// Days as a bit set over day offsets (date - scan start; never negative).
class DaySet {
public:
    explicit DaySet(std::pmr::memory_resource *mr) : bits_(mr) {}
    void add(int32_t day) { add(day, 1); }
    // The days base + b for every bit b of mask. base may be negative (a day-block rollup
    // counts its days from its month's first day, which may lie before the scan's start);
    // bits for offsets below 0 are not days of the range and are ignored.
    void add(int32_t base, uint32_t mask);
    void merge(const DaySet &o);
    int32_t count() const;

private:
    std::pmr::vector<uint64_t> bits_;
};

// The latest string "provider" a model's own entries carry (aggregated_by_model[M].provider),
// then §5.3's rule by name.
class ProviderNames {
public:
    explicit ProviderNames(std::pmr::memory_resource *mr) : names_(mr), own_(mr) {}
    // Days in increasing order: the last call for a model wins.
    void saw(std::string_view model, std::string_view provider);
    std::string_view provider_of(std::string_view model) const;

private:
    KeyAggregator names_;
    std::pmr::vector<std::string_view> own_;  // by slot index
};

// Per model: totals and active days, distinct users (pairs model\0user), days as sets.
class ModelUsage {
public:
    explicit ModelUsage(std::pmr::memory_resource *mr)
        : models(mr), pairs(mr), users(mr), days(mr), mr_(mr), buf_(mr) {}
    // One cell of `user` for `model` in the row at day offset `base`, present on the days of
    // v.days (base + bit); where/column name the row on overflow.
    void add(std::string_view model, std::string_view user, const EntryValues &v, int32_t base,
             std::string_view column, const RowLabel &where);
    // Sums grouped by provider_of(model): active days from the union of the models' days,
    // models and users distinct.
    void group_by_provider(const ProviderNames &names, KeyAggregator &out, std::pmr::vector<int32_t> &models_out,
                           std::pmr::vector<int32_t> &users_out) const;
    int32_t users_of(const Slot &model_slot) const { return users[size_t(&model_slot - models.slots().data())]; }

    KeyAggregator models, pairs;
    std::pmr::vector<int32_t> users;  // by model slot index
    std::pmr::vector<DaySet> days;    // by model slot index

private:
    std::pmr::memory_resource *mr_;
    std::pmr::string buf_;
};

}  // namespace ducache::core
