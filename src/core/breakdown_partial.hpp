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
// Wire form (native byte order; states only travel between processes of one query), version 2:
//   uint8 version | uint8 failed | int32 worker days | uint32 key count |
//   per key: uint32 key length, key bytes, six int64 counts, int32 active days,
//            int32 last day, uint8 flags (1: the cost is text, 2: identity follows),
//            the cost: int128 sum, int32 scale, int32 dscale (its 128-bit parts: no text to
//            print or parse), or with flag 1 uint32 length + JSON number text (past 128 bits);
//            with flag 2: 3 x (int32 day, uint32 length, bytes) for username, email, role.
// (Version 1 carried every cost as text and every key's identity; a key of the flat shapes
// cost ~2,100 instructions to write and more to read back.)
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

constexpr uint8_t kBreakdownPartialVersion = 2;

struct IdentityDays {
    int32_t day[3] = {INT32_MIN, INT32_MIN, INT32_MIN};  // username, email, role
};

struct BreakdownPartial {
    explicit BreakdownPartial(std::pmr::memory_resource *mr) : agg(mr), identity_days(mr) {}
    KeyAggregator agg;
    std::pmr::vector<IdentityDays> identity_days;  // by slot index
    bool failed = false;
    int32_t worker_days = 0;  // rows read by parallel workers (tests check the workers ran)
    // Which slots one deserialize has met (by slot index; a key twice in a buffer is corrupt).
    std::pmr::vector<uint32_t> seen{agg.resource()};
    uint32_t seen_mark = 0;

    // True when an entry's values are safe to sum in any order (see above).
    static bool order_free(const EntryValues &v)
    {
        return counts_order_free(v.counts) && !(v.cost_seen && v.cost.big);
    }
    // The counts' half of order_free: no negative count (one test of the OR of all).
    static bool counts_order_free(const int64_t counts[kCountMetrics])
    {
        int64_t any = 0;
        for (int m = 0; m < kCountMetrics; m++)
            any |= counts[m];
        return any >= 0;
    }
    // add()'s day and identity steps, for a reader that adds the counts and cost itself (the
    // transition's fast path, pg/user_partial_agg.cpp): day `day` counted once in `slot`, its
    // last day kept as a maximum (days come in any order).
    static void mark_day(Slot &slot, int32_t day)
    {
        int32_t last = slot.totals.last_day;
        slot.totals.mark_day(day);  // rows have distinct days: a new row counts once
        if (last > slot.totals.last_day)
            slot.totals.last_day = last;
    }
    // Each non-empty identity field of day `day` replaces the slot's when it is from a later day.
    void keep_identity(Slot &slot, int32_t day, std::string_view username, std::string_view email,
                       std::string_view role);
    // Adds one entry of day `day` (an offset, distinct per row) into `slot` of agg. The
    // caller checked order_free(v). Throws core::Error on a bigint overflow.
    void add(Slot &slot, const EntryValues &v, int32_t day, const RowLabel &row, std::string_view column,
             std::string_view key);
    // Adds every key of `other` (disjoint days). On an overflow the state becomes failed.
    void combine(const BreakdownPartial &other);
};

std::string serialize_breakdown_partial(const BreakdownPartial &p);
// The same in two steps, for a caller that owns the buffer (a bytea): its exact size, then the
// bytes written at `out` (serialized_partial_size(p) of them).
size_t serialized_partial_size(const BreakdownPartial &p);
void write_serialized_partial(const BreakdownPartial &p, char *out);
// Adds a serialized partial into `into` (a combine): into an empty state key by key, else each
// key straight into its slot of `into` (no state in between). A corrupt buffer throws Error
// 22P03 (`into` is then left partly combined: the caller discards it).
void deserialize_breakdown_partial(const char *data, size_t len, BreakdownPartial &into);
// Whether a serialized partial is marked failed (false for a buffer too short to say).
bool serialized_partial_failed(const char *data, size_t len);

}  // namespace ducache::core
