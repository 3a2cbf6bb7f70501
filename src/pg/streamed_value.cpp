#include "core/error.hpp"
#include "core/lz4_block.hpp"

#include "pg/streamed_value.hpp"

#include "pg/boundary.hpp"

#include "utils/guc.h"
#include <cstring>

#include <new>

extern "C" {
#include "access/detoast.h"
#include "access/toast_compression.h"
}

namespace ducache::pg {

namespace {

// Decoded ahead of the reader per step: a few steps fit in L2 with the compressed input and
// the aggregation's slots.
constexpr size_t kStep = 128 * 1024;

[[noreturn]] void throw_corrupt(const char *what)
{
    throw core::Error("XX001", what);
}

}  // namespace

StreamedValue::StreamedValue(MemoryContext parent)
{
    cxt_ = pg_call([&] { return AllocSetContextCreate(parent, "ducache streamed value", ALLOCSET_DEFAULT_SIZES); });
    fetch_cxt_ = pg_call([&] { return AllocSetContextCreate(cxt_, "ducache compressed value", ALLOCSET_DEFAULT_SIZES); });
    block_ = new (palloc_or_throw(cxt_, sizeof(core::Lz4Block))) core::Lz4Block();
}

const Jsonb *StreamedValue::open(Datum d)
{
    streaming_ = false;
    ready_ = end_ = reinterpret_cast<const char *>(UINTPTR_MAX);
    return pg_call([&]() -> const Jsonb * {
        MemoryContextReset(fetch_cxt_);
        MemoryContext old = MemoryContextSwitchTo(fetch_cxt_);
        auto *v = reinterpret_cast<struct varlena *>(DatumGetPointer(d));
        if (VARATT_IS_EXTERNAL_ONDISK(v))
            v = detoast_external_attr(v);  // the stored bytes, still compressed if they were
        const Jsonb *out;
        const char *ab = GetConfigOption("bench.stream", true, false);  // MEASUREMENT ONLY (A/B)
        bool off = ab && strcmp(ab, "off") == 0;
        if (!off && VARATT_IS_COMPRESSED(v) && VARDATA_COMPRESSED_GET_COMPRESS_METHOD(v) == TOAST_LZ4_COMPRESSION_ID) {
            size_t raw = VARDATA_COMPRESSED_GET_EXTSIZE(v);
            if (raw + VARHDRSZ > cap_) {
                if (buf_)
                    pfree(buf_);
                cap_ = raw + VARHDRSZ + raw / 8;
                buf_ = static_cast<char *>(MemoryContextAllocHuge(cxt_, cap_));
            }
            SET_VARSIZE(buf_, raw + VARHDRSZ);
            block_->start(reinterpret_cast<const char *>(v) + VARHDRSZ_COMPRESSED, VARSIZE(v) - VARHDRSZ_COMPRESSED,
                         VARDATA(buf_), raw);
            streaming_ = true;
            start_ = ready_ = VARDATA(buf_);
            end_ = start_ + raw;
            out = reinterpret_cast<const Jsonb *>(buf_);
        } else {
            out = reinterpret_cast<const Jsonb *>(pg_detoast_datum(v));
        }
        MemoryContextSwitchTo(old);
        return out;
    });
}

void StreamedValue::more(const char *end)
{
    if (end > end_)
        throw_corrupt("corrupt jsonb value: its entries reach past its end");
    const char *st = GetConfigOption("bench.step", true, false);  // MEASUREMENT ONLY: step in KB
    size_t want = size_t(end - start_) + (st && *st ? size_t(atoi(st)) * 1024 : kStep);
    core::Lz4Block::Status s = block_->decode_until(want);
    ready_ = start_ + block_->produced();
    if (s == core::Lz4Block::Status::corrupt)
        throw_corrupt("compressed lz4 data is corrupt");
    if (end > ready_)  // the block ended before the value did
        throw_corrupt("corrupt jsonb value: its entries reach past its end");
}

void StreamedValue::finish()
{
    if (!streaming_)
        return;
    if (block_->decode_until(SIZE_MAX) == core::Lz4Block::Status::corrupt)
        throw_corrupt("compressed lz4 data is corrupt");
    // As lz4_decompress_datum: the value is as long as what the block decoded.
    SET_VARSIZE(buf_, block_->produced() + VARHDRSZ);
    ready_ = end_ = start_ + block_->produced();
}

}  // namespace ducache::pg
