// ducache_batch_upsert on a coordinator (CONTRACT §8; docs/scale-out-writes.md): the batch,
// already validated as on one node, is split by user hash (pg/shard_split_day.hpp), each
// shard's part written there by its own ducache_batch_upsert in a remote transaction that
// commits with the coordinator's (pg/shard_xact.hpp). Days are reported as on one node.
#pragma once

#include "pg/shard_split_day.hpp"

namespace ducache::pg {

struct ShardBatch {
    int n;
    const Datum *dates;   // n dates (finite, distinct)
    const int *order;     // input indexes in date order
    SplitColumns json;    // raw_data .. total_metrics
    bool complete_null;   // is_complete argument NULL
    Datum complete;       // else the boolean[] argument
    bool touch;           // touch_unchanged
};

// Writes the batch on the shards and fills the function's materialized result (date, action)
// in date order. C++ (throws); PostgreSQL calls run in pg_call.
void write_through_shards(FunctionCallInfo fcinfo, Oid schema, int nshards, char **servers, const ShardBatch &b);

}  // namespace ducache::pg
