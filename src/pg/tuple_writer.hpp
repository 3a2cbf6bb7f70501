// A materialized SRF's rows laid out by ducache (round 12 of issue 13): each cell written
// straight into a reused batch buffer where core::RowCursor places it (text from a string_view,
// a sum's numeric from its digits, fixed-width values by value), the header and null bitmap
// when the row is complete, and the batch handed to the tuplestore (tuplestore_puttuple: one
// copy a row, one pg_call a batch). The same tuple heap_form_minimal_tuple makes of the same
// values, without its two passes over the descriptor, a palloc per text and numeric datum and a
// pg_call per datum.
#pragma once

#include "core/decimal.hpp"
#include "core/row_layout.hpp"

#include "pg/boundary.hpp"

#include <memory_resource>
#include <string_view>

namespace ducache::pg {

class RowWriter {
public:
    static constexpr int kMaxColumns = 16;

    // The result descriptor of fcinfo's materialized SRF (init_materialized_srf first). When a
    // column is one it does not lay out itself (fixed-width by reference, cstring), every row
    // goes through tuplestore_putvalues with the same values.
    RowWriter(FunctionCallInfo fcinfo, std::pmr::memory_resource *memory);
    RowWriter(const RowWriter &) = delete;
    RowWriter &operator=(const RowWriter &) = delete;

    // A row's cells, in column order; a column not set is NULL.
    // A fixed-width value passed by value (int8, int4, date): its Datum.
    void set_fixed(int i, Datum v)
    {
        if (!own_layout_)
            return keep(i, v);
        const core::RowColumn &c = cols_[i];
        char *row = start_cell(i, uint32(c.len) + 8);
        char *at = row + cursor_.fixed(c);
        switch (c.len) {  // store_att_byval, without its unreachable elog
        case 1: *reinterpret_cast<char *>(at) = DatumGetChar(v); break;
        case 2: *reinterpret_cast<int16 *>(at) = DatumGetInt16(v); break;
        case 4: *reinterpret_cast<int32 *>(at) = DatumGetInt32(v); break;
        default: *reinterpret_cast<Datum *>(at) = v; break;
        }
    }
    // Consecutive bigint columns first .. first + k - 1: their values (round 14 of issue 13: one
    // capacity test, padding store and alignment for the run instead of one per column).
    void set_int8s(int first, const int64 *v, int k)
    {
        const uint32 mask = ((1u << k) - 1) << first;
        if (!own_layout_ || (int8_cols_ & mask) != mask) {
            for (int j = 0; j < k; j++)
                set_fixed(first + j, Int64GetDatum(v[j]));
            return;
        }
        const uint32 bytes = uint32(k) * sizeof(int64);
        char *row = start_cells(mask, bytes + 8);
        memcpy(row + cursor_.fixed_run(cols_[first], uint32(k)), v, bytes);
    }
    // A text column's bytes (copied).
    void set_text(int i, std::string_view s)
    {
        if (!own_layout_)
            return keep(i, text_value(s));
        uint32 n = uint32(s.size());
        char *body = varlena_cell(i, n);
        // Ids, names and emails of 8 to 32 bytes: overlapping fixed-size copies, no memcpy call.
        if (n >= 8 && n <= 16) {
            copy_overlapping<8>(body, s.data(), n);
            return;
        }
        if (n > 16 && n <= 32) {
            copy_overlapping<16>(body, s.data(), n);
            return;
        }
        memcpy(body, s.data(), n);
    }
    // A numeric column: the exact sum (the bytes numeric_in makes of its text).
    void set_numeric(int i, const core::DecimalSum &sum);

    // Adds the row of the cells set; at the end, finish().
    void put();
    // Hands the batch to the tuplestore.
    void finish();

private:
    static constexpr uint32 kRoom = 32;  // a row's header room: 23 bytes + the null bitmap, 8-aligned

    // The row's data starts kRoom bytes after used_; a cell's bytes at most `bytes` past the
    // cursor (its alignment included). Columns come in order.
    char *start_cell(int i, uint32 bytes) { return start_cells(1u << i, bytes); }
    char *start_cells(uint32 mask, uint32 bytes)
    {
        set_ |= mask;
        if (used_ + kRoom + cursor_.off + bytes + 8 > cap_)
            make_room(bytes);
        char *row = buf_ + used_ + kRoom;
        memset(row + cursor_.off, 0, 8);  // alignment padding zeroed, as palloc0 leaves it
        return row;
    }
    char *varlena_cell(int i, uint32 n)
    {
        varwidth_ = true;
        char *row = start_cell(i, n + 8);
        bool short_header;
        char *at = row + cursor_.varlena(cols_[i], n, short_header);
        if (short_header) {
            SET_VARSIZE_SHORT(at, VARHDRSZ_SHORT + n);
            return at + VARHDRSZ_SHORT;
        }
        SET_VARSIZE(at, VARHDRSZ + n);
        return at + VARHDRSZ;
    }
    // n bytes (W <= n <= 2 W) as a W-byte head and a W-byte tail that overlap.
    template <size_t W>
    static void copy_overlapping(char *dst, const char *src, uint32 n)
    {
        char head[W], tail[W];
        memcpy(head, src, W);
        memcpy(tail, src + n - W, W);
        memcpy(dst, head, W);
        memcpy(dst + n - W, tail, W);
    }
    void make_room(uint32 bytes);
    void keep(int i, Datum v);
    static Datum text_value(std::string_view s);

    FunctionCallInfo fcinfo_;
    Tuplestorestate *store_;
    std::pmr::memory_resource *memory_;
    int natts_;
    bool own_layout_;
    uint32 int8_cols_ = 0;  // bit i: column i is a bigint passed by value (set_int8s)
    core::RowColumn cols_[kMaxColumns];

    // The row being written: the columns set, whether one is a varlena, the cursor.
    uint32 set_ = 0;
    bool varwidth_ = false;
    core::RowCursor cursor_;
    // Rows laid out by PostgreSQL: their datums.
    Datum values_[kMaxColumns];

    // The batch: tuples in buf_ at the offsets off_, lengths len_.
    static constexpr int kBatchRows = 64;
    char *buf_ = nullptr;
    uint32 cap_ = 0, used_ = 0;
    int rows_ = 0;
    uint32 off_[kBatchRows], len_[kBatchRows];
};

}  // namespace ducache::pg
