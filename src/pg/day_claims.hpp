// Which participant of the parallel user breakdown reads which day (round 18 of issue 13).
//
// Until this round the breakdown's query split the range into ~15-day chunks under a UNION ALL
// and Parallel Append gave each chunk wholly to one participant. The two processes then ended
// up to a chunk apart (~9 ms of rows on the flat daily year at L; 4.8 ms on average over 12
// traced calls), one of them idle meanwhile. Now every participant scans the whole range (one
// full-range scan per participant under the UNION ALL: a scan's rows are TOAST pointers, cheap)
// and reads a day only if it is the first to claim it in a bitmap in dynamic shared memory: the
// participants take the days one by one as they come free, and end at most one day apart. The
// worker may end a little earlier on purpose (core::worker_leaves_rest): its exit, which the
// leader's query waits for, then runs while the leader reads the last days.
//
// The leader creates the segment before the query and passes its handle as the query's fourth
// parameter (a tag in the high half: never a date or the marker of pg/partial_dsa.hpp);
// PostgreSQL serializes the parameters to every worker, which attaches the segment on its first
// row. Every row is scanned by at least one participant (Parallel Append runs every scan once;
// a parallel-aware scan hands each row to one), and the first to see a day claims it, so each
// day is read exactly once whatever the plan. A day is a row: daily_usage_cache has a unique
// index on date (pg/table_shape.cpp), so one snapshot sees at most one row a day.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "storage/dsm.h"
}

namespace ducache::pg {

// The query's fourth parameter (int8): kDayClaimsTag | the segment's handle.
constexpr int64 kDayClaimsTag = int64(0x6475636c) << 32;  // "ducl"

struct DayClaimsShared;

// The leader's segment for one query: created before it, detached after it (on an ERROR the
// resource owner detaches it). `token` is the fourth parameter.
struct DayClaimsSegment {
    dsm_segment *seg = nullptr;
    DayClaimsShared *shared = nullptr;
    int64 token = 0;
};

// A segment for `days` days (day index 0 .. days - 1), every day unclaimed; seg stays nullptr
// when no segment can be made (the DSM slots are full): the breakdown then reads serially.
DayClaimsSegment create_day_claims(int32 days);
void release_day_claims(DayClaimsSegment &s);

// The claims of the query this aggregate call runs in: found by the fourth parameter, attached
// in a worker; nullptr when the query has none (the aggregate's own queries: read every row).
DayClaimsShared *day_claims_for(FunctionCallInfo fcinfo);

// A worker's reading so far, for core::worker_leaves_rest.
struct WorkerPace {
    int64 first_us = 0;  // its first day's start (GetCurrentTimestamp)
    uint32 days = 0;
    double stored_mb = 0;
};

// The leader, on its first row: it reads every row of the range from now on when its plan
// scans it whole (no parallel-aware scan shares rows out), and then says so, so workers may
// leave it the last days (claim_day).
void note_leader_reads(DayClaimsShared *claims, FunctionCallInfo fcinfo);

// Whether this participant reads the day: true for the first to claim it. A worker (pace given)
// leaves an unclaimed day to the leader when the leader reads every row and the days left are
// few enough (core::worker_leaves_rest): the leader, whose scan has not reached the day yet
// (else it would have claimed it), reads it.
bool claim_day(DayClaimsShared *claims, int32 day_index, const WorkerPace *pace);

// Days claimed so far, and whether the leader said it reads every row (tests).
uint32 days_claimed(const DayClaimsShared *claims);
bool leader_reads_all(const DayClaimsShared *claims);

}  // namespace ducache::pg
