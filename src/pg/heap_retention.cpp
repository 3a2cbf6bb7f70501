// See heap_retention.hpp. Plain libc calls: nothing here can raise a PostgreSQL ERROR.
#include "pg/heap_retention.hpp"

#include <cstdlib>  // defines __GLIBC__ on glibc
#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace ducache::pg {

namespace {

int depth = 0;  // nested retentions (a refresh inside a writer's call)

#ifdef __GLIBC__
constexpr int kMmapThreshold = 32 * 1024 * 1024;  // glibc's dynamic maximum (64-bit)
constexpr int kTrimAfter = 2 * kMmapThreshold;    // the trim threshold glibc pairs with it
constexpr int kTrimDuring = 1024 * 1024 * 1024;
#endif

}  // namespace

void settle_heap_thresholds()
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
    mallopt(M_TRIM_THRESHOLD, kTrimAfter);
#endif
}

HeapRetention::HeapRetention()
{
    if (depth++ > 0)
        return;
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, kMmapThreshold);
    mallopt(M_TRIM_THRESHOLD, kTrimDuring);
#endif
}

HeapRetention::~HeapRetention()
{
    if (--depth > 0)
        return;
#ifdef __GLIBC__
    mallopt(M_TRIM_THRESHOLD, kTrimAfter);
    malloc_trim(0);
#endif
}

}  // namespace ducache::pg
