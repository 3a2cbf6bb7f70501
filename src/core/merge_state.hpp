// The wire form of a partial ducache_merge state, for PostgreSQL's parallel aggregation
// (serialize in a worker, deserialize in the leader) and for merging per-shard partials.
// Layout: version byte, key count, then per key: key, six counts, days, cost as text.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"

#include <cstdint>
#include <string>

namespace ducache::core {

constexpr uint8_t kMergeStateVersion = 1;

std::string serialize_merge_state(const KeyAggregator &agg);
// Adds the serialized keys into `agg`. A truncated, corrupt or foreign buffer throws
// Error 22P03 (invalid_binary_representation) and never reads out of bounds.
void deserialize_merge_state(const char *data, size_t len, KeyAggregator &agg);

}  // namespace ducache::core
