// A month's rollup documents (CONTRACT §7; the design in docs and /work/notes/rollups.md), built
// from the month's cached days. The adapter reads each day with the readers' rules and hands in
// what they would sum; the builder keeps exact sums (counts with the one overflow check,
// costs as DecimalSum), a day mask per entry and cell ("~days": bit d-1 = present on day d), the
// latest identity / keyName / keyAlias / own provider, and writes every document into a
// JsonSink (the adapter's builds JSONB directly; JsonTextSink gives JSON text).
//
// How to use, for each cached day of the month in date order:
//   b.begin_day(day_of_month, stored_providers);   // stored: aggregated_by_provider non-empty
//   u = b.user(U, values_with_identity, facts);    // every aggregated_by_user entry
//     b.user_has_models(u);                        // its "models" is an object
//     c = b.user_model(u, M, values);              // models[M]
//       b.cell_has_keys(c);                        // models[M].api_keys is an object
//       b.user_key(c, A, values, facts);           // api_keys[A]
//   m = b.model(M, values, own_provider_or_null);  // every aggregated_by_model entry
//     b.model_has_users(m); b.model_user(m, U, named);  // its "users" object and keys
//   b.provider(P, values);                         // aggregated_by_provider entries (stored days)
// then end_days() and write(doc, sink) for each document has(doc) (or finish(): all as JSON
// text). A bad sum throws core::Error (then the month gets no rollup).
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"
#include "core/json_sink.hpp"
#include "core/metrics.hpp"
#include "core/rollup_identity.hpp"

#include <cstdint>
#include <memory_resource>
#include <string>
#include <string_view>

namespace ducache::core {

// The documents of a rollup row, in the order of its columns.
enum class RollupDocument { users, models, providers, providers_derived, models_unprovided, daily };
constexpr int kRollupDocuments = 6;

// The documents of one month; JSON text. providers is empty when no day had stored providers
// (the column is NULL then).
struct RollupDocuments {
    int32_t days = 0;  // bit d-1: day d was cached
    std::string users, models, providers, providers_derived, models_unprovided, daily;
};

// A key cell's own strings, as the cell carries them on a day.
struct KeyFacts {
    std::string_view key_alias, key_name;
    bool has_key_alias = false, has_key_name = false;
};

// The preferred (first) alias names of the seven metrics, as rollups write them.
const char *canonical_metric_name(Metric m);
// {"totalRequests": n, ..., "totalCost": <exact text>} (cost keeps its scale, e.g. 0.30).
void write_canonical_metrics(JsonSink &w, const int64_t counts[kCountMetrics], const DecimalSum &cost);

class RollupBuilder {
public:
    // month_label names the month in error messages ("2025-03").
    RollupBuilder(std::pmr::memory_resource *mr, std::string month_label);
    ~RollupBuilder();
    RollupBuilder(const RollupBuilder &) = delete;
    RollupBuilder &operator=(const RollupBuilder &) = delete;

    void begin_day(int day, bool stored_providers);
    // facts: what filter options read of the entry (core/rollup_identity.hpp); position: the
    // entry's index in its day's aggregated_by_user (a lookup hint), kNoPosition if unknown.
    static constexpr uint32_t kNoPosition = UINT32_MAX;
    uint32_t user(std::string_view user, const EntryValues &v, const UserFacts &facts = {},
                  uint32_t position = kNoPosition);
    void user_has_models(uint32_t user);
    uint32_t user_model(uint32_t user, std::string_view model, const EntryValues &v);
    void cell_has_keys(uint32_t cell);
    void user_key(uint32_t cell, std::string_view alias, const EntryValues &v, const KeyFacts &facts);
    uint32_t model(std::string_view model, const EntryValues &v, const std::string_view *own_provider);
    void model_has_users(uint32_t model);
    // named: users[U] is an object with a non-empty string username
    void model_user(uint32_t model, std::string_view user, bool named = false);
    void provider(std::string_view provider, const EntryValues &v);

    // Called every 1024 entries while write() writes a document (the adapter checks for
    // interrupts there; it may throw).
    void set_tick(void (*tick)());

    // After the last day: the days cached (bit d-1: day d). Then write() any document.
    int32_t end_days();
    // False for providers when no day had stored providers (the column is NULL then).
    bool has(RollupDocument d) const;
    void write(RollupDocument d, JsonSink &out);
    // Every document as JSON text (end_days and write): for tests and tools.
    RollupDocuments finish();

private:
    struct Impl;
    Impl *impl_;
};

}  // namespace ducache::core
