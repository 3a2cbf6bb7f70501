// The layout of a result row as PostgreSQL stores it in a tuple (heaptuple.c's
// heap_compute_data_size and heap_fill_tuple): where each column's bytes go, which varlena
// gets a 1-byte header, the null bitmap's bytes and the header's size. A rule over column
// shapes and value sizes; the adapter (pg/tuple_writer.*) writes the bytes and checks these
// constants against PostgreSQL's own (round 12 of issue 13: a breakdown row laid out once,
// without heap_form_minimal_tuple's two passes over the tuple descriptor).
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include <cstddef>
#include <cstdint>

namespace ducache::core {

// A result column as the tuple layout sees it (pg_attribute's attlen, attalign, attstorage).
struct RowColumn {
    int16_t len = -1;      // 1, 2, 4 or 8: a fixed-width value passed by value; -1: varlena
    uint8_t align = 4;     // 1, 2, 4 or 8 bytes
    bool packable = true;  // a varlena whose storage is not plain: a value that fits gets a 1-byte header
};

constexpr uint32_t kRowMaxAlign = 8;        // MAXIMUM_ALIGNOF
constexpr uint32_t kRowHeapHeader = 23;     // offsetof(HeapTupleHeaderData, t_bits)
constexpr uint32_t kRowVarHeader = 4;       // VARHDRSZ
constexpr uint32_t kRowVarShortHeader = 1;  // VARHDRSZ_SHORT
constexpr uint32_t kRowVarShortMax = 127;   // VARATT_SHORT_MAX: a short varlena's whole size

constexpr uint32_t row_align(uint32_t off, uint32_t align)
{
    return (off + align - 1) & ~(align - 1);
}

// The null bitmap's bytes (BITMAPLEN).
constexpr uint32_t row_bitmap_bytes(uint32_t natts)
{
    return (natts + 7) / 8;
}

// The tuple header's size, the data's offset from the tuple's start (t_hoff of a heap tuple;
// a minimal tuple's is the same, MINIMAL_TUPLE_OFFSET bytes later in memory).
constexpr uint32_t row_header_bytes(uint32_t natts, bool has_nulls)
{
    return row_align(kRowHeapHeader + (has_nulls ? row_bitmap_bytes(natts) : 0), kRowMaxAlign);
}

// Whether a varlena of `payload` bytes (its data without a header) is stored with a 1-byte
// header (VARATT_CAN_MAKE_SHORT on a packable column); else its 4-byte header, aligned.
constexpr bool row_short_varlena(const RowColumn &c, uint32_t payload)
{
    return c.packable && payload + kRowVarShortHeader <= kRowVarShortMax;
}

// Column by column, in heap_fill_tuple's order: where the next non-null value goes, as an
// offset from the data's first byte (8-aligned in memory, so aligning an offset aligns the
// address as heap_fill_tuple does). A NULL column takes no bytes: skip it.
struct RowCursor {
    uint32_t off = 0;  // the data's length so far

    // A fixed-width value: its offset.
    uint32_t fixed(const RowColumn &c)
    {
        off = row_align(off, c.align);
        uint32_t at = off;
        off += uint32_t(c.len);
        return at;
    }
    // k consecutive non-null columns of one fixed-width shape c (a run of bigints): the first
    // one's offset, the others each c.len after it (as k calls of fixed(): a fixed-width
    // value's length is a multiple of its alignment).
    uint32_t fixed_run(const RowColumn &c, uint32_t k)
    {
        off = row_align(off, c.align);
        uint32_t at = off;
        off += uint32_t(c.len) * k;
        return at;
    }
    // A varlena of `payload` data bytes (without a header): its header's offset, and whether
    // that header is the 1-byte one (then unaligned).
    uint32_t varlena(const RowColumn &c, uint32_t payload, bool &short_header)
    {
        short_header = row_short_varlena(c, payload);
        if (!short_header)
            off = row_align(off, c.align);
        uint32_t at = off;
        off += (short_header ? kRowVarShortHeader : kRowVarHeader) + payload;
        return at;
    }
};

// A whole row's placement (the cursor over every column): per non-null column its offset and,
// for a varlena, whether its header is short; the data's length, whether the row has a NULL,
// the header's size and the tuple's whole length. `payload[i]`: a varlena's data bytes.
struct RowPlacement {
    uint32_t data_len = 0;
    uint32_t header = 0;
    uint32_t total = 0;
    bool has_nulls = false;
};

inline RowPlacement place_row(const RowColumn *cols, uint32_t natts, const uint32_t *payload, const bool *nulls,
                              uint32_t *at, bool *short_header)
{
    RowPlacement p;
    RowCursor cur;
    for (uint32_t i = 0; i < natts; i++) {
        if (nulls[i]) {
            p.has_nulls = true;
            continue;
        }
        at[i] = cols[i].len > 0 ? cur.fixed(cols[i]) : cur.varlena(cols[i], payload[i], short_header[i]);
    }
    p.data_len = cur.off;
    p.header = row_header_bytes(natts, p.has_nulls);
    p.total = p.header + p.data_len;
    return p;
}

}  // namespace ducache::core
