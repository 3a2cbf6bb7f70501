// The fast walk over a breakdown object's entries ({key: entry, ...}), shared by the three
// readers that add entries into a core::KeyAggregator by position: the user breakdown
// (accumulate_breakdown, pg/entry_reader.cpp), the parallel breakdown's transition
// (pg/user_partial_agg.cpp) and ducache_merge's (pg/merge_agg.cpp). Round 11 of issue 13: it was
// three copies of one loop. Each value's end is computed once, for its read and for the next
// entry's prefetch. The per-entry step is the caller's, inlined into the loop (no call per
// entry). (It also asked the cache for the slot the position hint expected a few entries on,
// KeyAggregator::prefetch_at: GCC 12 compiled that call to nothing, and a prefetch that did
// compile measured no gain in CPU (round 13 of issue 13, r18a), so it is gone.)
#pragma once

#include "core/aggregator.hpp"

#include "pg/boundary.hpp"
#include "pg/jsonb_view.hpp"
#include "pg/postgres.hpp"

namespace ducache::pg {

// One entry as walk_entries hands it to its step.
struct WalkedEntry {
    const char *base;  // the object's data area (keys, then values)
    const char *key;
    uint32 key_len;
    uint32 position;   // 0, 1, 2, ... (KeyAggregator::find_or_insert_at's hint)
    JEntry vje;        // the value's JEntry
    uint32 val_start, val_end;

    bool is_container() const { return (vje & JENTRY_TYPEMASK) == JENTRY_ISCONTAINER; }
    // The value as a container (only when is_container(): containers start int-aligned).
    const JsonbContainer *container() const
    {
        return reinterpret_cast<const JsonbContainer *>(base + INTALIGN(val_start));
    }
    // The value as an item, for the general read.
    void item(JsonbItem &out) const { ObjectWalker::item(base, vje, val_start, val_end, out); }
};

// An object's key list as core::KeyAggregator::known_keys and remember_keys take it (round 14
// of issue 13): JSONB keeps the keys apart from the values, their JEntries first (lengths, and
// every JB_OFFSET_STRIDE-th an offset from the data area's start, where the keys begin), then
// their bytes; equal ranges are equal keys at every position. Only for an object (n > 0).
struct ObjectKeys {
    const char *jentries;
    size_t jentries_len;
    const char *bytes;
    size_t bytes_len;
    const char *first;  // position 0's key
    uint32 first_len;
    uint32 n;

    const uint32_t *known(core::KeyAggregator &agg) const
    {
        return agg.known_keys(first, first_len, jentries, jentries_len, bytes, bytes_len, n);
    }
    void remember(core::KeyAggregator &agg) const { agg.remember_keys(jentries, jentries_len, bytes, bytes_len, n); }
};
inline ObjectKeys object_keys(const JsonbContainer *root)
{
    const uint32 n = JsonContainerSize(root);
    const char *base = reinterpret_cast<const char *>(&root->children[2 * n]);
    return {reinterpret_cast<const char *>(root->children), size_t(n) * sizeof(JEntry), base,
            size_t(getJsonbOffset(root, int(n))), base, uint32(getJsonbLength(root, 0)), n};
}

// A nested row's prefetch (round 15 of issue 13): walk_entries asks for the next entry while it
// reads one, but a nested row is larger than L2 and its entries ~40 ns apart, too little to
// fetch the next one from the last level. With kAhead > 0 it also asks for the entry kAhead + 1
// places on, whose bounds this cursor keeps (one JEntry a step). Flat entries are short and read
// whole, which the hardware's prefetch follows: the flat loops keep kAhead 0 (no cursor; the
// cursor's instructions cost them more than it gained).
template <uint32 kAhead>
struct AheadPrefetch {
    uint32 pos, start, end;  // the entry pos's bounds
    __attribute__((always_inline)) AheadPrefetch(const JEntry *je, uint32 n, const char *base, uint32 first_start,
                                                 uint32 first_end)
        : pos(0), start(first_start), end(first_end)
    {
        for (uint32 i = 0; i < kAhead; i++)
            step(je, n, base);
    }
    __attribute__((always_inline)) void step(const JEntry *je, uint32 n, const char *base)
    {
        if (pos + 1 >= n)
            return;
        pos++;
        start = end;
        JBE_ADVANCE_OFFSET(end, je[n + pos]);
        if (end - start > 192) {  // a nested entry: its head and its last 256 bytes
            __builtin_prefetch(base + start);
            __builtin_prefetch(base + start + 64);
            __builtin_prefetch(base + end - 64);
            __builtin_prefetch(base + end - 128);
            __builtin_prefetch(base + end - 192);
            __builtin_prefetch(base + end - 256);
        }
    }
};

// The nested loops' distance (the breakdown's, the parallel transition's, the merge's): the
// entry 4 places on (3 measured better than 7 at L).
constexpr uint32 kNestedPrefetchAhead = 3;

template <>
struct AheadPrefetch<0> {
    __attribute__((always_inline)) AheadPrefetch(const JEntry *, uint32, const char *, uint32, uint32) {}
};

// Calls step(const WalkedEntry &) for every entry of root (an object; the caller checked it), in
// order; interrupts checked every 4,096 entries. kKeys false: the entries' keys are not found
// (key nullptr, key_len 0; ~8 instructions an entry): for a row whose slots come by position
// (core::KeyAggregator::known_keys), where an entry that needs its key asks entry_key.
// kAhead: AheadPrefetch above (0: the next entry only).
template <bool kKeys = true, uint32 kAhead = 0, typename Step>
inline __attribute__((always_inline)) void walk_entries(const JsonbContainer *root, Step &&step)
{
    const uint32 n = JsonContainerSize(root);
    if (n == 0)
        return;
    const JEntry *je = root->children;
    const char *base = reinterpret_cast<const char *>(&root->children[2 * n]);
    // Where the values start (the keys' end): back from the last key to the nearest JEntry that
    // holds an offset, at most JB_OFFSET_STRIDE of them (round 9: a walk over all n keys was ~9
    // instructions an entry).
    uint32 key_end = getJsonbOffset(root, int(n));
    uint32 key_start = 0, val_start = key_end, val_end = key_end;
    key_end = 0;
    // Each value's JEntry is read once, for the prefetch of its entry and then for its read
    // (round 12 of issue 13).
    JEntry vje = je[n];
    JBE_ADVANCE_OFFSET(val_end, vje);
    [[maybe_unused]] AheadPrefetch<kAhead> ahead(je, n, base, val_start, val_end);
    // Interrupts checked after every 4,096 entries: the entries in runs of 4,096, so an entry
    // costs one loop test, not a loop test and a counter test (round 14 of issue 13).
    for (uint32 run_start = 0; run_start < n; run_start += 4096) {
        const uint32 run_end = n - run_start > 4096 ? run_start + 4096 : n;
        for (uint32 position = run_start; position < run_end; position++) {
            if constexpr (kKeys)
                JBE_ADVANCE_OFFSET(key_end, je[position]);
            // The next entry, asked for while this one is read: its head (JEntries, keys) and its
            // last bytes (members are stored by key length, so a nested entry's "metrics" and
            // identity lie after its long "models").
            uint32 next_end = val_end;
            JEntry next_vje = 0;
            if (position + 1 < n) {
                next_vje = je[n + position + 1];
                JBE_ADVANCE_OFFSET(next_end, next_vje);
                if constexpr (kAhead == 0) {  // else the cursor asked for it kAhead entries ago
                    const char *p = base + val_end;
                    uint32 len = next_end - val_end;
                    // [p, p + 128) and the last 64 bytes cover an entry of up to 192 bytes (a flat one:
                    // no length test); longer ones their last 256 (round 12 of issue 13: one test).
                    __builtin_prefetch(p);
                    __builtin_prefetch(p + 64);
                    __builtin_prefetch(base + next_end - 64);
                    if (len > 192) {
                        __builtin_prefetch(base + next_end - 128);
                        __builtin_prefetch(base + next_end - 192);
                        __builtin_prefetch(base + next_end - 256);
                    }
                }
            }
            if constexpr (kAhead != 0)
                ahead.step(je, n, base);
            const WalkedEntry e{base, kKeys ? base + key_start : nullptr, key_end - key_start, position, vje,
                                val_start, val_end};
            step(e);
            key_start = key_end;
            val_start = val_end;
            val_end = next_end;
            vje = next_vje;
        }
        if (run_end - run_start == 4096)
            check_for_interrupts();
    }
}

// The entry's key, for an entry walked without (walk_entries<false>): e with its key.
inline WalkedEntry entry_key(const JsonbContainer *root, const WalkedEntry &e)
{
    WalkedEntry k = e;
    k.key = e.base + getJsonbOffset(root, int(e.position));
    k.key_len = uint32(getJsonbLength(root, int(e.position)));
    return k;
}

}  // namespace ducache::pg
