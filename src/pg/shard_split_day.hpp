// The coordinator's split of a batch (CONTRACT §8; docs/scale-out-writes.md "How a day is
// split"): for every day and shard, the documents that shard stores. Users go by the hash of
// their key (core::shard_of_hash over hash_any = hashtext's for deterministic collations);
// each shard's models, providers and total are recomputed from its users' cells by
// core::ShardSplit; raw_data stays whole on shard 0.
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
