// The wire form of a partial ducache_merge state, for PostgreSQL's parallel aggregation
// (serialize in a worker, deserialize in the leader) and for merging per-shard partials.
// The whole state is here, behind the version byte: the adapter adds nothing of its own.
// Layout (native byte order, version 2):
//   uint8 version | int32 rows | uint32 key count |
//   per key: uint32 key length, key bytes, six int64 counts, int32 days,
//            uint32 cost length, cost as JSON number text.
// `days` is the key's day sum so far (core/merge_days.hpp: an input entry with a "days" field
// counts that many), combined by adding: the format did not change when that rule came in.
// A new field of the whole state goes into MergeStateHeader (after `rows`), a new field of
// a key after its cost; either way kMergeStateVersion goes up by one. States only travel
// between processes of one query, so an old version is refused, never converted.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"

#include <cstdint>
#include <string>

namespace ducache::core {

// 1: keys only (the row count was appended outside, by the adapter). 2: rows in the header.
constexpr uint8_t kMergeStateVersion = 2;

// What a partial state holds besides its keys.
struct MergeStateHeader {
    int32_t rows = 0;  // input rows this partial has seen (never negative)
};

std::string serialize_merge_state(const KeyAggregator &agg, const MergeStateHeader &header);
// Adds the serialized keys into `agg` and returns the header. A truncated, corrupt or foreign
// buffer, or one of another version, throws Error 22P03 (invalid_binary_representation) and
// never reads out of bounds.
MergeStateHeader deserialize_merge_state(const char *data, size_t len, KeyAggregator &agg);

}  // namespace ducache::core
