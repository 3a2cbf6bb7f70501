// The breakdowns' output order (CONTRACT §3: total cost DESC, then the key ASC in byte order,
// COLLATE "C") over an aggregator's slots. KeyAggregator::sorted() is its one caller.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"

#include <memory_resource>
#include <vector>

namespace ducache::core {

// Appends a pointer to every slot of `slots` to `out` in the output order (out empty, reserved).
// Three ways, one order:
// * every cost a 64-bit integer at the largest scale of the call (the common case: costs below
//   ~9.2 x 10^12 at scale 6): an LSD radix sort over those integers, only the digits the
//   costs' range spans, then each run of equal costs by key bytes (round 14 of issue 13: ~350
//   instructions an output key for the introsort of (cost, slot) pairs before);
// * every cost on the 128-bit path and its value at that scale too: the introsort of
//   (cost, slot) pairs (round 12);
// * else (a sum past 128 bits): sums compared by DecimalSum::compare.
void order_by_cost(const std::pmr::vector<Slot> &slots, std::vector<const Slot *> &out);

}  // namespace ducache::core
