// The split of one day over user-hash shards (CONTRACT §8, docs/scale-out-writes.md): which
// shard holds a user, and the model, provider and total sums each shard gets, recomputed from
// its own users' cells exactly (bigint counts checked, cost as an exact decimal sum).
//
// The adapter reads the day's documents (entry rules of core/entry_rules.hpp) and feeds the
// values in; this class only groups and adds, so it is tested without PostgreSQL. Which user
// goes where comes from PostgreSQL's hashtext, computed by the adapter: shard_of_hash.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/decimal.hpp"
#include "core/error_text.hpp"
#include "core/metrics.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ducache::core {

// Shard of a user: (hashtext(user_id)::bigint & 4294967295) % shards, i.e. the hash read as
// an unsigned 32-bit number (docs/scale-out.md, "How a day is split").
inline int shard_of_hash(int32_t hash, int shards)
{
    return int(uint32_t(hash) % uint32_t(shards));
}

// The seven sums of a group of entries.
struct MetricSums {
    int64_t counts[kCountMetrics] = {};
    DecimalSum cost;
    bool used = false;  // at least one entry went in

    // Adds one entry; a count passing bigint is 22003 naming `what`, `key` and `where`.
    void add(const EntryValues &v, std::string_view what, std::string_view key, const RowLabel &where);
    // Text of one metric as a JSON number: counts in decimal, the cost as sum(numeric) prints it.
    std::string value_text(Metric m) const;
};

// The key a shard document writes each metric under (LiteMaaS's "metrics" object names).
const char *shard_metric_key(Metric m);

// One model of the day's aggregated_by_model: its key and its provider (core/filters.hpp's
// provider_rule, applied by the adapter to the entry).
struct SplitModel {
    std::string name;
    std::string provider;
};

class ShardSplit {
public:
    // models: the keys of the day's aggregated_by_model, in the order the adapter numbers them.
    ShardSplit(int shards, std::vector<SplitModel> models);

    // A user on `shard` with its own metrics: goes into that shard's total.
    void add_user(int shard, std::string_view user, const EntryValues &own, const RowLabel &where);
    // One cell users[user].models[model] of a user on `shard` (model: index into the models).
    void add_cell(int shard, int model, std::string_view user, const EntryValues &cell, const RowLabel &where);

    int shards() const { return int(shards_.size()); }
    const MetricSums &total(int shard) const { return shards_[shard].total; }
    // The sums of model m on a shard; .used is false when none of its users has a cell of m.
    const MetricSums &model(int shard, int m) const { return shards_[shard].models[m]; }
    const SplitModel &model_info(int m) const { return models_[m]; }
    int models() const { return int(models_.size()); }
    // The shard's providers: the sums of its models grouped by provider (models with cells only).
    std::map<std::string, MetricSums> providers(int shard, const RowLabel &where) const;

private:
    struct Shard {
        MetricSums total;
        std::vector<MetricSums> models;
    };
    std::vector<SplitModel> models_;
    std::vector<Shard> shards_;
};

}  // namespace ducache::core
