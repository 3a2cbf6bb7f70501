// A user breakdown's partial state for parallel workers (issue 13): each participant of a
// parallel aggregation reads some days, in any order; the leader combines the partials and
// gets exactly what reading every day in date order gives (sums, active days, last day, the
// latest non-empty identity in day order).
//
// Order independence needs what the serial path does not keep: the day of each identity
// field (the latest wins), the last day as a maximum. Everything whose result could depend on
// the order of the days is left to the serial path instead (the state is `failed`): a
// negative count (a bigint sum then could pass its limit in date order and not in another, or
// the reverse) and a cost off the 128-bit path (a sum could pass numeric's limit in one order
// only). Errors in the data also mark the state failed: the serial path re-reads the range
// and raises the error the serial order finds first.
//
// Wire form (native byte order; states only travel between processes of one query):
//   uint8 version | uint8 failed | int32 worker days | uint32 key count |
//   per key: uint32 key length, key bytes, six int64 counts, int32 active days,
//            int32 last day, uint32 cost length, cost as JSON number text,
//            3 x (int32 day, uint32 length, bytes) for username, email, role.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"
#include "core/metrics.hpp"

#include <cstdint>
#include <memory_resource>
#include <string>

namespace ducache::core {

constexpr uint8_t kBreakdownPartialVersion = 1;

struct IdentityDays {
    int32_t day[3] = {INT32_MIN, INT32_MIN, INT32_MIN};  // username, email, role
};

struct BreakdownPartial {
    explicit BreakdownPartial(std::pmr::memory_resource *mr) : agg(mr), identity_days(mr) {}
    KeyAggregator agg;
    std::pmr::vector<IdentityDays> identity_days;  // by slot index
    bool failed = false;
    int32_t worker_days = 0;  // rows read by parallel workers (tests check the workers ran)

    // True when an entry's values are safe to sum in any order (see above).
    static bool order_free(const EntryValues &v)
    {
        for (int m = 0; m < kCountMetrics; m++)
            if (v.counts[m] < 0)
                return false;
        return !(v.cost_seen && v.cost.big);
    }
    // Adds one entry of day `day` (an offset, distinct per row) into `slot` of agg. The
    // caller checked order_free(v). Throws core::Error on a bigint overflow.
    void add(Slot &slot, const EntryValues &v, int32_t day, const RowLabel &row, std::string_view column,
             std::string_view key);
    // Adds every key of `other` (disjoint days). On an overflow the state becomes failed.
    void combine(const BreakdownPartial &other);
};

std::string serialize_breakdown_partial(const BreakdownPartial &p);
// Adds a serialized partial into `into` (a combine). A corrupt buffer throws Error 22P03.
void deserialize_breakdown_partial(const char *data, size_t len, BreakdownPartial &into);
// Whether a serialized partial is marked failed (false for a buffer too short to say).
bool serialized_partial_failed(const char *data, size_t len);

}  // namespace ducache::core
