// ducache_merge's transition read (pg/merge_agg.cpp's aggregate): one input breakdown object's
// entries summed into the merge state's aggregator (CONTRACT §6: an entry with a numeric "days",
// as ducache_merge outputs carry, stands for that many days, others for one). Split out of
// merge_agg.cpp (round 15 of issue 13): reading the input here, the aggregate and its output
// there.
#pragma once

#include "core/aggregator.hpp"

#include "pg/entry_reader.hpp"
#include "pg/postgres.hpp"

namespace ducache::pg {

// Adds one input object's entries into agg; an ERROR (core::Error) names day's row and the key.
void accumulate_merge_input(core::KeyAggregator &agg, const Jsonb *obj, const InputRow &day);

}  // namespace ducache::pg
