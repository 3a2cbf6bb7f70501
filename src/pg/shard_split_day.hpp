// The coordinator's split of a batch (CONTRACT §8): for every day and shard, the documents
// that shard stores, by the rule of docs/scale-out.md "How a day is split" (stated in plain SQL
// by test/reference/shard_split.sql). Users go by the hash of their key (core::shard_of_hash
// over hash_bytes = hashtext for deterministic collations); on a cell-split day each shard's
// model entries and total_metrics are its users' per-field sums (core::ShardSplit); on a home
// day shard 0 keeps them whole; raw_data stays whole on shard 0.
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

// The five JSON columns of a batch, in upsert argument order: raw_data, aggregated_by_user,
// aggregated_by_model, aggregated_by_provider, total_metrics.
constexpr int kSplitColumns = 5;

struct SplitColumns {
    bool present[kSplitColumns];  // false: the whole argument array is NULL
    Datum *values[kSplitColumns];
    bool *nulls[kSplitColumns];
};

// Fills out[k] (palloc'd arrays of n, in CurrentMemoryContext) for k in 0..shards-1 from in.
// Throws core::Error for a bad usage value (the split must read the metrics).
void split_batch(int shards, int n, const Datum *dates, const SplitColumns &in, SplitColumns *out);

// The shard of one user key.
int shard_of_key(const char *key, int len, int shards);

}  // namespace ducache::pg
