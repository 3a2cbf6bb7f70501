// The rules of a rollup row's derived columns (set by pg/rollup_derived.cpp on every write of the
// row, read by the dashboard instead of the whole documents):
//   user_totals  = aggregated_by_user with each user's "models" left out
//   model_totals = aggregated_by_model with each model's "users" and "~named" left out
//   key_totals   = each user's key cells summed per key alias:
//                  { user: { alias: { "metrics": { counts..., "cost" when a cell had one } } } }
//   and, when key_totals is written, every user_totals entry gets "~keycost" and "~keymag" from
//   the user's pairs (core/key_bounds.hpp: the top API key's per-user bounds).
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"
#include "core/error_text.hpp"
#include "core/json_sink.hpp"
#include "core/key_bounds.hpp"
#include "core/metrics.hpp"
#include "core/rollup_builder.hpp"  // canonical_metric_name

#include <memory_resource>
#include <string_view>
#include <vector>

namespace ducache::core {

// Whether a member of a user's entry stays in user_totals / of a model's entry in model_totals.
bool user_totals_keeps(std::string_view member);
bool model_totals_keeps(std::string_view member);

// Writes key_totals into `out` from the key cells of one aggregated_by_user, given user by user
// (the document's order; a user's cells in any order). A sum past bigint throws core::Error
// (the adapter then leaves key_totals NULL, and the dashboard reads the days).
class KeyTotalsWriter {
public:
    KeyTotalsWriter(JsonSink &out, std::pmr::memory_resource *mr);
    void add(std::string_view user, std::string_view alias, const EntryValues &cell, const RowLabel &where);
    // Given before the first add(): each user with pairs gets its UserKeyBound appended, in
    // the document's order.
    void collect_bounds(std::pmr::vector<UserKeyBound> *out) { bounds_ = out; }
    // Writes the last user and closes the document.
    void finish();

private:
    struct AliasSum {
        std::string_view alias;
        Totals totals;
        bool cost_seen;
    };
    void flush_user();

    JsonSink &out_;
    std::pmr::memory_resource *mr_;
    std::string_view user_;
    bool have_user_ = false;
    std::pmr::vector<AliasSum> aliases_;
    std::pmr::vector<UserKeyBound> *bounds_ = nullptr;  // a user has a few keys: a linear search is cheapest
};

}  // namespace ducache::core
