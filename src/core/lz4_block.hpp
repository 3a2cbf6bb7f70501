// A resumable decoder of one LZ4 block (the raw format LZ4_compress_default writes and
// PostgreSQL stores for lz4-compressed values: no frame, no checksum). It decodes on demand,
// a step at a time, so a reader can walk the first part of a value while it is still in the
// cache and ask for more as it goes, instead of reading it after a whole decompression has
// pushed its start out of L2.
//
// Any input is safe: every length, offset and copy is checked against both buffers, and a
// malformed block ends in Status::corrupt (the output written so far stays in dst's bounds).
// It accepts what LZ4_decompress_safe accepts for a valid block and decodes it byte for byte
// the same (test/unit/lz4_block_test.cpp compares with liblz4).
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include <cstddef>
#include <cstdint>

namespace ducache::core {

class Lz4Block {
public:
    enum class Status { more, done, corrupt };

    Lz4Block() = default;
    // src: the compressed block; dst: room for the decompressed bytes (the raw size the
    // value's header gives). Nothing is decoded yet.
    void start(const char *src, size_t src_len, char *dst, size_t dst_cap);
    // Decodes whole sequences until at least `want` bytes are out (or the block ends).
    // more: produced() >= want and input is left; done: the whole block is decoded;
    // corrupt: the block is malformed (produced() bytes are valid output so far).
    Status decode_until(size_t want);
    // Bytes of dst decoded so far.
    size_t produced() const { return size_t(op_ - dst_); }
    Status status() const { return status_; }

private:
    Status fail()
    {
        status_ = Status::corrupt;
        return status_;
    }

    const uint8_t *ip_ = nullptr, *iend_ = nullptr;
    uint8_t *dst_ = nullptr, *op_ = nullptr, *oend_ = nullptr;
    Status status_ = Status::done;
};

}  // namespace ducache::core
