#include "core/error.hpp"  // core headers before any PostgreSQL header
#include "core/object_view.hpp"

#include "pg/tuple_writer.hpp"

#include "pg/numeric_decode.hpp"
#include "pg/srf_output.hpp"

#include <cstring>

namespace ducache::pg {

// The core's layout constants are PostgreSQL's (core/row_layout.hpp).
static_assert(core::kRowMaxAlign == MAXIMUM_ALIGNOF);
static_assert(core::kRowHeapHeader == SizeofHeapTupleHeader);
static_assert(core::kRowVarHeader == VARHDRSZ);
static_assert(core::kRowVarShortHeader == VARHDRSZ_SHORT);
static_assert(core::kRowVarShortMax == VARATT_SHORT_MAX);
// A row's header with or without its null bitmap fits the room before its data: with a NULL
// the tuple starts at the room's start, without one 8 bytes later.
static_assert(core::row_header_bytes(RowWriter::kMaxColumns, true) == 32);
static_assert(core::row_header_bytes(RowWriter::kMaxColumns, false) == 24);

namespace {

uint8 align_bytes(char attalign)
{
    switch (attalign) {
    case TYPALIGN_CHAR: return 1;
    case TYPALIGN_SHORT: return ALIGNOF_SHORT;
    case TYPALIGN_INT: return ALIGNOF_INT;
    default: return ALIGNOF_DOUBLE;
    }
}

}  // namespace

RowWriter::RowWriter(FunctionCallInfo fcinfo, std::pmr::memory_resource *memory)
    : fcinfo_(fcinfo), memory_(memory)
{
    auto *rs = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    store_ = rs->setResult;
    TupleDesc desc = rs->setDesc;
    natts_ = desc->natts;
    if (natts_ > kMaxColumns)  // every caller's declaration has fewer
        throw core::Error("42P13", "ducache: a result row of more than 16 columns");
    own_layout_ = true;
    for (int i = 0; i < natts_; i++) {
        Form_pg_attribute a = TupleDescAttr(desc, i);
        bool fixed = a->attbyval && (a->attlen == 1 || a->attlen == 2 || a->attlen == 4 || a->attlen == 8);
        if (!fixed && a->attlen != -1)
            own_layout_ = false;  // by reference, cstring: tuplestore_putvalues lays the rows out
        cols_[i].len = int16(a->attlen);
        cols_[i].align = align_bytes(a->attalign);
        cols_[i].packable = a->attstorage != TYPSTORAGE_PLAIN;
        if (fixed && a->attlen == 8 && cols_[i].align == 8)
            int8_cols_ |= 1u << i;
    }
}

void RowWriter::set_numeric(int i, const core::DecimalSum &sum)
{
    core::NumericDigits d;
    if (own_layout_ && sum.numeric_digits(d)) {
        uint32 n = uint32(numeric_encoded_size(d) - VARHDRSZ);
        encode_numeric_body(d, varlena_cell(i, n), n);
        return;
    }
    // Past 128 bits (or rows laid out by PostgreSQL): numeric_in of the sum's text.
    Datum v = numeric_sum_datum(sum);
    if (!own_layout_)
        return keep(i, v);
    const char *p = DatumGetPointer(v);
    uint32 n = uint32(VARSIZE_ANY_EXHDR(p));
    memcpy(varlena_cell(i, n), VARDATA_ANY(p), n);
}

void RowWriter::keep(int i, Datum v)
{
    set_ |= 1u << i;
    values_[i] = v;
}

Datum RowWriter::text_value(std::string_view s)
{
    return text_datum(s);
}

// The row written so far moves to the start of a buffer with room for `bytes` more; the
// complete rows before it go to the tuplestore first.
void RowWriter::make_room(uint32 bytes)
{
    uint32 partial = kRoom + cursor_.off;  // the row's room and data so far
    char *row = buf_ ? buf_ + used_ : nullptr;
    finish();  // used_ = 0; the buffer's bytes stay
    uint64 need = uint64(partial) + bytes + 8;
    if (need > cap_) {
        uint64 want = need > 16384 ? need * 2 : 16384;
        check_alloc_size(size_t(want), "a batch of result rows");
        char *fresh = static_cast<char *>(memory_->allocate(size_t(want), MAXIMUM_ALIGNOF));
        if (row)
            memcpy(fresh, row, partial);
        if (buf_)
            memory_->deallocate(buf_, cap_, MAXIMUM_ALIGNOF);
        buf_ = fresh;
        cap_ = uint32(want);
    } else if (row && row != buf_) {
        memmove(buf_, row, partial);
    }
}

void RowWriter::put()
{
    if (!own_layout_) {
        Datum values[kMaxColumns];
        bool nulls[kMaxColumns];
        for (int i = 0; i < natts_; i++) {
            nulls[i] = !(set_ >> i & 1);
            values[i] = nulls[i] ? (Datum)0 : values_[i];
        }
        set_ = 0;
        put_row(fcinfo_, values, nulls);
        return;
    }
    if (used_ + kRoom > cap_)
        make_room(0);  // a row of NULLs only, or the first
    const uint32 all = (1u << natts_) - 1;
    const bool has_nulls = set_ != all;
    const uint32 header = core::row_header_bytes(uint32(natts_), has_nulls);
    char *t = buf_ + used_ + (kRoom - header);
    memset(t, 0, header);
    auto *h = reinterpret_cast<HeapTupleHeader>(t);
    HeapTupleHeaderSetNatts(h, natts_);
    h->t_infomask = uint16((has_nulls ? HEAP_HASNULL : 0) | (varwidth_ ? HEAP_HASVARWIDTH : 0));
    h->t_hoff = uint8(header);
    if (has_nulls) {
        h->t_bits[0] = bits8(set_);
        if (natts_ > 8)
            h->t_bits[1] = bits8(set_ >> 8);
    }
    off_[rows_] = uint32(t - buf_);
    len_[rows_] = header + cursor_.off;
    rows_++;
    used_ += kRoom + core::row_align(cursor_.off, MAXIMUM_ALIGNOF);
    set_ = 0;
    varwidth_ = false;
    cursor_.off = 0;
    if (rows_ == kBatchRows)
        finish();
}

void RowWriter::finish()
{
    if (rows_ > 0) {
        pg_call([&] {
            for (int k = 0; k < rows_; k++) {
                HeapTupleData tuple;
                tuple.t_len = len_[k];
                ItemPointerSetInvalid(&tuple.t_self);
                tuple.t_tableOid = InvalidOid;
                tuple.t_data = reinterpret_cast<HeapTupleHeader>(buf_ + off_[k]);
                tuplestore_puttuple(store_, &tuple);
            }
        });
    }
    rows_ = 0;
    used_ = 0;
}

}  // namespace ducache::pg
