// When the unfiltered user breakdown hands its range to parallel workers, and how many scans of
// the range its query holds (rounds 10 and 18 of issue 13). Pure arithmetic over what the range
// costs to ask for: its days and its stored bytes (the sum of pg_column_size of aggregated_by_user over the range's rows:
// read from the rows' TOAST pointers, nothing decompressed).
//
// Why bytes: the serial read's time grows with the bytes it decompresses and walks, while
// the workers add fixed costs the serial read does not have: each worker's start (~5-9 ms of
// CPU for a parallel worker on the 2-core machine: fork, attach, catalog caches) and, in every
// participant, a partial state of every key it meets (a worker's serialized and read into the
// leader's state). Below the byte minimum those fixed costs outweigh the rows a worker takes
// over, so the read stays serial. The minimum is a setting (ducache.parallel_min_kb; 0: none).
//
// The default is the wall-time break-even measured in round 13 of issue 13 (docs/benchmarks.md;
// the leader and one worker on the 2-CPU machine, the call's processes given the CPUs): serial
// against one worker over growing ranges of two shapes at 10,000 keys. Equal wall time at
// ~7 MB stored on the sparse flat table (119 days: 20.0 / 19.5 ms) and at 7-10.6 MB on the
// daily flat one (20 days: 18.9 / 20.8 ms; 30 days: 25.7 / 23.0 ms); at ~10.6 MB the worker
// takes 10-12 % off the wall for +70-80 % CPU, at 21 MB 24-27 % for +40-45 %. The minimum sits
// a little above the break-even, as PostgreSQL's own parallel plans trade CPU for wall time
// once a scan is large enough (min_parallel_table_scan_size), bounded by
// max_parallel_workers_per_gather (an operator who wants no such trade sets that to 0, or
// raises this minimum). Not a property of any one table: the two shapes differ 5x in entries
// per key and break even at about the same bytes.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include <cstdint>

namespace ducache::core {

// The default of ducache.parallel_min_kb: 12 MiB stored (above; until round 13 32 MiB, which
// kept the sparse flat year at L, 21.6 MB, serial).
constexpr int32_t kParallelMinKbDefault = 12 * 1024;

struct ParallelPlan {
    bool workers = false;  // hand the range to parallel workers
};

// days: the range's days; min_days: ducache.parallel_min_days (-1: never); range_bytes: the
// range's stored bytes, or -1 when not asked (min_kb <= 0); min_kb: ducache.parallel_min_kb.
inline ParallelPlan plan_parallel_breakdown(int days, int min_days, int64_t range_bytes, int32_t min_kb)
{
    ParallelPlan p;
    if (min_days < 0 || days < min_days || days <= 1)
        return p;
    if (min_kb > 0 && range_bytes >= 0 && range_bytes < int64_t(min_kb) * 1024)
        return p;
    p.workers = true;
    return p;
}

// How many whole-range scans the query holds under its UNION ALL (round 18 of issue 13): one a
// participant (the `workers`, and the leader when it reads: parallel_leader_participation), so
// Parallel Append gives each its own scan and every participant sees every day; which of them
// reads a day is claimed at run time (pg/day_claims.hpp). Until round 18 the range was split in
// ~15-day chunks, one participant a chunk: the processes ended up to a chunk apart.
inline int parallel_scans(int workers, bool leader_reads)
{
    const int n = (workers > 0 ? workers : 0) + (leader_reads ? 1 : 0);
    return n > 1 ? n : 1;
}

// How many workers the parallel user breakdown asks for (round 11 of issue 13): no more
// processes reading rows than the machine has CPUs. `setting`: max_parallel_workers_per_gather;
// `cpus`: the CPUs online (0 or less: unknown, the setting stands); `leader_reads`:
// parallel_leader_participation (the leader is then one of the readers). Never below one worker.
// Why: on the 2-CPU machine, two workers and the reading leader are three processes taking
// turns on two CPUs; each turn costs their caches (a participant's 10,000 slots and the row it
// decompresses are ~1 MB each, L2 is 1 MB a core), and each worker is a new process (8-9 ms of
// CPU to start, ~3,600 minor faults at 10,000 keys). One worker and the leader, measured with
// the call's processes given the CPUs whenever they could run (docs/benchmarks.md): 216-232 ms
// against 225-239 ms with two workers, 409-442 ms of CPU against 438-470.
inline int parallel_workers_for(int setting, int cpus, bool leader_reads)
{
    if (cpus <= 0)
        return setting;
    int cap = cpus - (leader_reads ? 1 : 0);
    if (cap < 1)
        cap = 1;
    return setting < cap ? setting : cap;
}

// Whether a parallel worker leaves the days nobody has claimed yet to the leader (round 18 of
// issue 13; pg/day_claims.hpp). A worker's end is longer than the leader's: its partial into
// shared memory (~1 ms at 10,000 keys) and its process's exit, which the leader's query waits
// for and which grows with the buffer-pool pages the worker mapped (measured on the 2-CPU
// machine, 10,000 keys: ~1.5 ms from its last row to its exit callback, then ~2.2 ms + ~0.05 ms a
// MB mapped until the leader sees it gone: ~7 ms after a flat year's half), against the leader's
// read of that partial and its output (~1.9 ms). So the worker stops claiming when the days left
// would keep the leader busy alone no longer than that difference: kWorkerTailMs +
// kWorkerTailMsPerMb x the stored MB the worker read (~1.1 MB mapped a MB read), at most
// kLeaveAtMostMs. The fixed part is the traces' (flat and sparse years at L): with 1.8 ms, the
// estimate's own, the leader still waited ~1.2 ms for the exit after its output on both. The
// most: the nested LiteMaaS year's worker (~320 MB mapped of a table larger than the buffer
// pool) took ~18 ms to exit. Both ends grow with the keys (the worker's partial, the leader's
// output) and are taken at 10,000. `unclaimed`: the range's days not claimed yet (days without a row count
// too, so a gap only makes the worker stop later); `ms_per_day`: the worker's own pace so far.
constexpr double kWorkerTailMs = 3.0, kWorkerTailMsPerMb = 0.055, kLeaveAtMostMs = 20.0;
inline bool worker_leaves_rest(uint32_t unclaimed, double ms_per_day, double mb_read)
{
    double leave = kWorkerTailMs + kWorkerTailMsPerMb * mb_read;
    if (leave > kLeaveAtMostMs)
        leave = kLeaveAtMostMs;
    return ms_per_day > 0 && double(unclaimed) * ms_per_day <= leave;
}

// Whether the range's stored bytes are needed at all (a byte minimum is set and the days pass).
inline bool parallel_needs_bytes(int days, int min_days, int32_t min_kb)
{
    return min_kb > 0 && plan_parallel_breakdown(days, min_days, -1, min_kb).workers;
}

}  // namespace ducache::core
