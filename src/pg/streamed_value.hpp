// A jsonb column value read while it is decompressed (issue 13, round 4). detoast_attr
// decompresses a whole day (1-9 MB) before the first entry is read, so by then its start has
// left the 512 KB L2 and every entry is read from memory. For an lz4-compressed value this
// fetches the compressed bytes only and decodes them with core::Lz4Block a step at a time, as
// the reader asks for them (until()), so each part is read soon after it was written.
// Anything else (pglz, uncompressed, inline) is detoasted as usual, all at once.
#pragma once

#include "pg/postgres.hpp"

// Declared only: this header is included after PostgreSQL's (pg/entry_reader.hpp).
namespace ducache::core {
class Lz4Block;
}

namespace ducache::pg {

class StreamedValue {
public:
    // Its memory lives in a context under `parent`; the decompressed bytes go into one buffer
    // reused from value to value.
    explicit StreamedValue(MemoryContext parent = CurrentMemoryContext);
    // The value of `d` (a jsonb datum, maybe toasted). Its bytes before until()'s bound may not
    // be decoded yet: a reader calls until(end) before reading up to `end`.
    const Jsonb *open(Datum d);
    // Makes the value's bytes before `end` readable; a bound past the value's end, or a
    // malformed block, raises XX001.
    void until(const char *end)
    {
        if (end > ready_)
            more(end);
    }
    // Decodes what is left of the value, so a malformed block is found as detoasting finds it.
    void finish();

private:
    void more(const char *end);

    MemoryContext cxt_, fetch_cxt_;  // fetch_cxt_: the compressed bytes, reset per value
    char *buf_ = nullptr;
    size_t cap_ = 0;
    core::Lz4Block *block_;  // in cxt_ (trivially destructible)
    const char *start_ = nullptr, *ready_ = nullptr, *end_ = nullptr;
    bool streaming_ = false;
};

// Lets a walker that knows no streaming run on a fully present value.
struct AllReady {
    void until(const char *) const {}
};

}  // namespace ducache::pg
