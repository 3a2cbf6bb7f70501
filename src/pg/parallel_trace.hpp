// Test builds only (ducache.test_trace_parallel): the parallel user breakdown's timeline, each
// step of each process logged at LOG with the process's wall clock (CLOCK_MONOTONIC, shared by
// every process of the machine) and its own CPU clock (CLOCK_PROCESS_CPUTIME_ID), so a script can
// line up the leader's and the workers' steps (docs/benchmarks.md, round 11 of issue 13).
// Without DUCACHE_TEST_HOOKS every call is empty.
#pragma once

#include "pg/boundary.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "access/parallel.h"
#include "storage/ipc.h"
}

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace ducache::pg {

#ifdef DUCACHE_TEST_HOOKS
inline long long trace_clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

// The log line itself (no C++ object alive: also called from a C exit callback).
inline void trace_line(const char *event, long long arg)
{
    long long wall = trace_clock_us(CLOCK_MONOTONIC), cpu = trace_clock_us(CLOCK_PROCESS_CPUTIME_ID);
    elog(LOG, "ducache trace: %s worker=%d wall_us=%lld cpu_us=%lld arg=%lld", event,
         IsParallelWorker() ? ParallelWorkerNumber : -1, wall, cpu, arg);
}

// A line of /proc/self/status in kB (RssAnon, RssShmem: a worker's memory at its end), -1 if unread.
inline long long trace_status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long long kb = -1;
    const size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            kb = atoll(line + n + 1);
            break;
        }
    fclose(f);
    return kb;
}

inline void trace_parallel(const char *event, long long arg = -1)
{
    if (test_trace_parallel_setting())
        pg_call([&] { trace_line(event, arg); });
}

// A worker's last step: its exit, after its partial went through the Gather's queue.
inline void trace_parallel_worker_exit()
{
    static bool registered = false;
    if (registered || !IsParallelWorker() || !test_trace_parallel_setting())
        return;
    registered = true;
    pg_call([&] {
        on_proc_exit(
            [](int, Datum) {
                trace_line("worker exit", -1);
                trace_line("worker exit RssShmem kB", trace_status_kb("RssShmem"));
                trace_line("worker exit RssAnon kB", trace_status_kb("RssAnon"));
            },
            0);
    });
}
#else
inline long long trace_status_kb(const char *) { return -1; }
inline void trace_parallel(const char *, long long = -1) {}
inline void trace_parallel_worker_exit() {}
#endif

}  // namespace ducache::pg
