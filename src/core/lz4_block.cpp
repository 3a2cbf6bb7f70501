#include "core/lz4_block.hpp"

#include <cstring>

namespace ducache::core {

namespace {

// The block format's constants (lz4_Block_format.md): a match is at least 4 bytes; the last 5
// bytes of a block are literals and its last match starts at least 12 bytes before its end.
constexpr size_t kMinMatch = 4, kLastLiterals = 5, kMatchFromEnd = 12;

inline void copy16(uint8_t *d, const uint8_t *s) { std::memcpy(d, s, 16); }
inline void copy8(uint8_t *d, const uint8_t *s) { std::memcpy(d, s, 8); }

}  // namespace

void Lz4Block::start(const char *src, size_t src_len, char *dst, size_t dst_cap)
{
    ip_ = reinterpret_cast<const uint8_t *>(src);
    iend_ = ip_ + src_len;
    dst_ = op_ = reinterpret_cast<uint8_t *>(dst);
    oend_ = dst_ + dst_cap;
    status_ = Status::more;
    // As LZ4_decompress_safe: no input is an error; no room only takes the empty block (one
    // zero token).
    if (src_len == 0)
        status_ = Status::corrupt;
    else if (dst_cap == 0)
        status_ = (src_len == 1 && ip_[0] == 0) ? Status::done : Status::corrupt;
}

Lz4Block::Status Lz4Block::decode_until(size_t want)
{
    if (status_ != Status::more)
        return status_;
    const uint8_t *ip = ip_;
    const uint8_t *const iend = iend_;
    uint8_t *op = op_;
    uint8_t *const oend = oend_;
    uint8_t *const stop = want < size_t(oend - dst_) ? dst_ + want : oend;
    // Invariant at each token: ip < iend (a sequence that is not the last leaves 5 or more
    // input bytes after it).
    for (;;) {
        unsigned token = *ip++;
        size_t length = token >> 4;
        // The common sequence, far from both ends: under 15 literals and a match of under 19
        // bytes at an offset of 16 or more, copied in whole 16-byte moves (the overrun lands
        // in bytes decoded later) with no other check than the offset's.
        if (length < 15 && iend - ip >= 32 && oend - op >= 64) {
            copy16(op, ip);
            ip += length;
            op += length;
            size_t offset = size_t(ip[0]) | size_t(ip[1]) << 8;
            size_t mlen = token & 15;
            if (offset >= 16 && offset <= size_t(op - dst_)) {
                if (mlen < 15) {
                    ip += 2;
                    copy16(op, op - offset);
                    copy16(op + 16, op - offset + 16);
                    op += mlen + kMinMatch;
                    if (op >= stop) {
                        ip_ = ip, op_ = op;
                        return Status::more;
                    }
                    continue;
                }
                // A long match (a third of a breakdown's): its extension, then 32 bytes a turn.
                const uint8_t *p = ip + 2;
                unsigned s;
                do {
                    s = *p++;
                    mlen += s;
                    if (iend - p < ptrdiff_t(kLastLiterals))
                        goto match;  // the general path finds what is wrong
                } while (s == 255);
                mlen += kMinMatch;
                if (mlen + 32 <= size_t(oend - op)) {
                    ip = p;
                    const uint8_t *m = op - offset;
                    for (size_t k = 0; k < mlen; k += 32) {
                        copy16(op + k, m + k);
                        copy16(op + k + 16, m + k + 16);
                    }
                    op += mlen;
                    if (op >= stop) {
                        ip_ = ip, op_ = op;
                        return Status::more;
                    }
                    continue;
                }
            }
            goto match;  // the literals are in; the match takes the general path
        }
        if (length == 15) {
            // Like liblz4: the extension must start 15 or more bytes before the input's end.
            if (size_t(iend - ip) <= 15) {
                ip_ = ip, op_ = op;
                return fail();
            }
            unsigned s;
            do {
                if (ip >= iend) {
                    ip_ = ip, op_ = op;
                    return fail();
                }
                s = *ip++;
                length += s;
            } while (s == 255);
        }
        {
            size_t in_left = size_t(iend - ip), out_left = size_t(oend - op);
            // Literals that reach into the block's last 8 input bytes or 12 output bytes end it:
            // they must then be exactly the rest of the input.
            if (length + kMatchFromEnd > out_left || length + 2 + 1 + kLastLiterals > in_left) {
                if (length != in_left || length > out_left) {
                    ip_ = ip, op_ = op;
                    return fail();
                }
                std::memcpy(op, ip, length);
                ip_ = ip + length;
                op_ = op + length;
                status_ = Status::done;
                return status_;
            }
            if (length + 16 <= in_left && length + 16 <= out_left) {
                for (size_t k = 0; k < length; k += 16)
                    copy16(op + k, ip + k);
            } else {
                std::memcpy(op, ip, length);
            }
            ip += length;
            op += length;
        }
    match:
        {
        size_t offset = size_t(ip[0]) | size_t(ip[1]) << 8;  // ip + 2 <= iend - 6: checked above
        ip += 2;
        length = token & 15;
        if (length == 15) {
            unsigned s;
            do {
                s = *ip++;
                length += s;
                if (size_t(iend - ip) < kLastLiterals) {  // liblz4: ip >= iend - LASTLITERALS + 1
                    ip_ = ip, op_ = op;
                    return fail();
                }
            } while (s == 255);
        }
        length += kMinMatch;
        size_t out_left = size_t(oend - op);
        if (offset == 0 || offset > size_t(op - dst_) || length + kLastLiterals > out_left) {
            ip_ = ip, op_ = op;
            return fail();
        }
        const uint8_t *match = op - offset;
        if (offset >= 16 && length + 16 <= out_left) {
            for (size_t k = 0; k < length; k += 16)
                copy16(op + k, match + k);
        } else if (offset >= 8 && length + 8 <= out_left) {
            for (size_t k = 0; k < length; k += 8)
                copy8(op + k, match + k);
        } else if (length + 8 <= out_left) {
            // A short period: write its first bytes one by one, then copy 8 bytes at a time from
            // a whole number of periods back (d >= 8), which holds the same bytes.
            size_t d = offset;
            while (d < 8)
                d += offset;
            size_t head = d - offset < length ? d - offset : length;
            for (size_t k = 0; k < head; k++)
                op[k] = match[k];
            for (size_t k = head; k < length; k += 8)
                copy8(op + k, op + k - d);
        } else {
            for (size_t k = 0; k < length; k++)
                op[k] = match[k];
        }
        op += length;
        if (op >= stop) {
            ip_ = ip, op_ = op;
            return Status::more;
        }
        }
    }
}

}  // namespace ducache::core
