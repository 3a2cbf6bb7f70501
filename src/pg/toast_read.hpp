// A jsonb value as DatumGetJsonbP gives it, with an on-disk TOAST value's chunks read in the order
// they lie in the TOAST heap (round 17 of issue 13). PostgreSQL's fetch looks every ~2 KB chunk
// up in the TOAST index and fetches it alone: an index step, a buffer pin and lock, a visibility
// test per chunk (a year of flat days: 65,000 chunks; fetching them is ~35 ms of the 137 ms floor,
// and reading them in heap order takes ~6 ms of that off: docs/benchmarks.md). The chunks of one value are written one after another, so they almost always
// follow each other in the heap: here the index finds the first chunk, then each heap page is
// pinned and locked once and its next line pointers taken while each is the next chunk of this
// value (the same tests PostgreSQL's fetch makes of what its index returns: the TOAST snapshot's
// visibility, value id, chunk number, chunk size). Anything else (a chunk placed elsewhere, a
// dead or moved line pointer) and the index finds the next chunk again. The bytes are the same
// (sql/79_toast_read compares them with PostgreSQL's fetch on values written apart).
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

// DatumGetJsonbP(d): the value detoasted into the current memory context (d's own pointer when
// it needs nothing). Raises PostgreSQL's errors (call it inside pg_call).
Jsonb *detoast_jsonb(Datum d);

// Test builds: chunks read after the one before them / found by the index, since the last call
// of ducache_test_toast_chunks().
struct ToastReadCounts {
    uint64 in_order = 0;
    uint64 located = 0;
};
extern ToastReadCounts toast_read_counts;

}  // namespace ducache::pg
