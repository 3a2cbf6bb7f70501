// The state of a core::RollupBuilder, shared by the file that sums the days into it
// (rollup_builder.cpp) and the one that writes its documents (rollup_documents.cpp).
// Internal to those two files.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"
#include "core/count_sum.hpp"
#include "core/json_sink.hpp"
#include "core/rollup_builder.hpp"
#include "core/rollup_identity.hpp"

#include <memory_resource>
#include <string>
#include <vector>

namespace ducache::core::rollup_detail {

constexpr uint32_t kNone = UINT32_MAX;

// Names the day being summed in overflow messages: "day 4 of 2025-03".
class MonthDayLabel final : public RowLabel {
public:
    MonthDayLabel(const std::string &month, const int &day) : month_(month), day_(day) {}
    std::string text() const override { return "day " + std::to_string(day_) + " of " + month_; }

private:
    const std::string &month_;
    const int &day_;
};

// Per-slot facts of one level, indexed like the level's KeyAggregator slots.
struct Extra {
    uint32_t mask = 0;
    bool flag = false;        // users: has "models"; cells: has "api_keys"; models: has "users"
    uint32_t first = kNone;   // first child (cells of a user, keys of a cell, user pairs of a model)
    uint32_t next = kNone;    // next sibling under the same parent
    uint32_t first2 = kNone;  // derived providers: first user pair
    std::string_view a, b;    // identity-like strings (keyAlias/keyName, own provider)
    bool has_a = false, has_b = false;
};

class Level {
public:
    explicit Level(std::pmr::memory_resource *mr) : agg(mr), extra(mr) {}
    // The slot of key; fresh says it was just created.
    uint32_t find(std::string_view key, bool &fresh)
    {
        size_t before = agg.size();
        Slot &s = agg.find_or_insert(key.data(), key.size());
        uint32_t i = uint32_t(&s - agg.slots().data());
        fresh = agg.size() != before;
        if (fresh)
            extra.resize(agg.size());
        return i;
    }
    // The child named `name` in the list that starts at `first` (children are linked by
    // Extra::next, and a child's key is its parent's key, '\0', its name). A user has a few
    // models and a cell a few keys, so comparing names along the list costs less than building
    // the pair key and hashing it; kNone when it is not among the first kChildScan children
    // (a long list, or a new child): the caller hashes then.
    static constexpr int kChildScan = 8;
    uint32_t child(uint32_t first, size_t parent_len, std::string_view name) const
    {
        const Slot *slots = agg.slots().data();
        size_t len = parent_len + 1 + name.size();
        uint32_t c = first;
        for (int n = 0; c != kNone && n < kChildScan; n++, c = extra[c].next) {
            const Slot &s = slots[c];
            if (s.key_len == len && name == std::string_view(s.key + parent_len + 1, name.size()))
                return c;
        }
        return kNone;
    }
    // find() with the key's position in its day's object as a hint (KeyAggregator::
    // find_or_insert_at): the days of a month list mostly the same users in the same order.
    uint32_t find_at(std::string_view key, uint32_t position, bool &fresh)
    {
        size_t before = agg.size();
        Slot &s = agg.find_or_insert_at(key.data(), key.size(), position);
        uint32_t i = uint32_t(&s - agg.slots().data());
        fresh = agg.size() != before;
        if (fresh)
            extra.resize(agg.size());
        return i;
    }
    Totals &totals(uint32_t i) { return agg.slots()[i].totals; }
    std::string_view store(std::string_view s) { return agg.store(s.data(), s.size()); }

    KeyAggregator agg;
    std::pmr::vector<Extra> extra;
};

// "daily": one day's own aggregated_by_model entry, and one day's figures (its models are
// day_models[first, end)). Costs are kept as the exact text the document carries.
struct DayModel {
    uint32_t model;  // a slot of `models`
    int64_t counts[kCountMetrics];
    std::string_view cost;
};
struct DayFigures {
    int day;
    int64_t users;
    int64_t counts[kCountMetrics];
    std::string_view cost;
    uint32_t first, end;
};

}  // namespace ducache::core::rollup_detail

namespace ducache::core {

struct RollupBuilder::Impl {
    using Level = rollup_detail::Level;

    Impl(std::pmr::memory_resource *mr, std::string month)
        : mr(mr), month(std::move(month)), label(this->month, day), users(mr), cells(mr), keys(mr), models(mr),
          model_users(mr), providers(mr), derived(mr), derived_models(mr), derived_users(mr), unprovided(mr),
          buf(mr), day_total(mr), day_models(mr), daily(mr), idents(mr)
    {
    }

    std::pmr::memory_resource *mr;
    void (*tick)() = nullptr;
    uint32_t written = 0;
    std::string month;
    int day = 0;
    uint32_t bit = 0;
    bool stored_providers = false;
    uint32_t days = 0;
    rollup_detail::MonthDayLabel label;
    Level users, cells, keys, models, model_users, providers, derived, derived_models, derived_users, unprovided;
    bool any_stored = false;
    uint32_t cur_model = rollup_detail::kNone, cur_derived = rollup_detail::kNone;  // the last model() and its derived provider
    std::pmr::string buf;
    // The current day's "daily" figures.
    bool day_open = false;
    int64_t day_users = 0;
    Totals day_total;
    uint32_t day_first = 0;
    std::pmr::vector<rollup_detail::DayModel> day_models;
    std::pmr::vector<rollup_detail::DayFigures> daily;
    RollupIdentities idents;

    void add(Totals &t, const EntryValues &v, std::string_view what, std::string_view key)
    {
        t.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, what, key, label);
    }

    // The current day's figures into `daily` (rollup_builder.cpp).
    void flush_day();

    // The documents (rollup_documents.cpp).
    void users_document(JsonSink &w);
    void models_document(JsonSink &w);
    void simple_document(JsonSink &w, Level &level);
    void derived_document(JsonSink &w);
    void daily_document(JsonSink &w);

    // A keyed entry: more members written by more(), then "~days" and "metrics".
    template <typename More>
    void write_entry(JsonSink &w, Level &level, uint32_t i, std::string_view key, More &&more)
    {
        const Totals &t = level.agg.slots()[i].totals;
        if (tick && (++written & 1023) == 0)
            tick();
        w.key(key);
        w.begin_object();
        more();
        w.key("~days");
        w.integer(level.extra[i].mask);
        w.key("metrics");
        write_canonical_metrics(w, t.counts, t.cost);
        w.end_object();
    }
};

}  // namespace ducache::core
