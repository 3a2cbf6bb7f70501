// Keeps glibc from handing the heap back to the kernel between the documents of one refresh.
//
// A refresh builds month, block and day documents one after the other, each a few MB to a few
// hundred MB of builder state and jsonb. glibc trims the heap's free top after each (its trim
// threshold follows its mmap threshold, at most 64 MB) and the next build faults the same pages
// in again: a 10-day LiteMaaS refresh at 10K users took 848K minor faults (3.3 GB zeroed by the
// kernel) and ~23% of its CPU in them. While a HeapRetention lives the trim threshold is high,
// so freed memory is reused; when the last one ends, the thresholds are set to the pair glibc's
// own dynamic adjustment ends at (mmap 32 MB, trim 64 MB: setting one turns that adjustment
// off) and malloc_trim gives back what the refresh kept. No-op without glibc.
#pragma once

namespace ducache::pg {

// At load: the same pair for the whole backend. Without it glibc starts at 128 KB / 256 KB and
// raises them only as mmapped chunks are freed, so a backend whose detoasted values and
// builder state sit around those sizes maps, faults in and unmaps them at every call (a shard
// backend at S spent 28 % of a user breakdown in the kernel doing so; another, 1 %).
void settle_heap_thresholds();

class HeapRetention {
public:
    HeapRetention();
    ~HeapRetention();
    HeapRetention(const HeapRetention &) = delete;
    HeapRetention &operator=(const HeapRetention &) = delete;
};

}  // namespace ducache::pg
