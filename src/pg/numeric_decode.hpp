// Reads a numeric stored inside JSONB straight from its on-disk layout (stable across
// releases: pg_upgrade keeps it) into the core's exact Decimal, without a palloc per value.
#pragma once

#include "core/decimal.hpp"
#include "core/object_view.hpp"

#include "pg/postgres.hpp"

namespace ducache::pg {

// Returns false for NaN / ±Infinity (JSON cannot hold them; a corrupt value could).
bool decode_numeric(const char *varlena_numeric, core::Decimal &out);

// Fast path for token and request counts: a whole number below 10^16 straight to int64.
// `slow` means "use decode_numeric and the exact conversion" (large or special values).
// Inline: it runs for six counts of every entry.
using CountDecode = core::CountFast;

// numeric.c's header bits (private there, but part of the stable on-disk format).
namespace numeric_bits {
constexpr uint16 kSignMask = 0xC000;
constexpr uint16 kNeg = 0x4000;
constexpr uint16 kShort = 0x8000;
constexpr uint16 kSpecial = 0xC000;
constexpr uint16 kShortSignMask = 0x2000;
constexpr uint16 kShortDscaleMask = 0x1F80;
constexpr int kShortDscaleShift = 7;
constexpr uint16 kShortWeightSignMask = 0x0040;
constexpr uint16 kShortWeightMask = 0x003F;
constexpr uint16 kDscaleMask = 0x3FFF;
}  // namespace numeric_bits

// NumericDigits' on-disk bytes, as make_result (numeric.c) lays out that value: the short
// format when dscale and weight fit it, else the long one. `len` bytes (numeric_encoded_size)
// at `out`, 4-byte aligned.
inline size_t numeric_encoded_size(const core::NumericDigits &d)
{
    bool can_short = d.dscale <= (numeric_bits::kShortDscaleMask >> numeric_bits::kShortDscaleShift) &&
                     d.weight <= int(numeric_bits::kShortWeightMask) && d.weight >= -int(numeric_bits::kShortWeightMask) - 1;
    return VARHDRSZ + (can_short ? sizeof(uint16) : sizeof(uint16) + sizeof(int16)) + size_t(d.ndigits) * sizeof(int16);
}

inline void encode_numeric(const core::NumericDigits &d, char *out, size_t len)
{
    using namespace numeric_bits;
    SET_VARSIZE(out, len);
    char *p = out + VARHDRSZ;
    size_t digits = size_t(d.ndigits) * sizeof(int16);
    if (len == VARHDRSZ + sizeof(uint16) + digits) {
        uint16 h = uint16((d.negative ? (kShort | kShortSignMask) : kShort) | (d.dscale << kShortDscaleShift) |
                          (d.weight < 0 ? kShortWeightSignMask : 0) | (d.weight & kShortWeightMask));
        memcpy(p, &h, sizeof h);
        p += sizeof h;
    } else {
        uint16 sign_dscale = uint16((d.negative ? kNeg : 0) | (d.dscale & kDscaleMask));
        int16 weight = int16(d.weight);
        memcpy(p, &sign_dscale, sizeof sign_dscale);
        memcpy(p + sizeof sign_dscale, &weight, sizeof weight);
        p += sizeof sign_dscale + sizeof weight;
    }
    if (digits)
        memcpy(p, d.digits, digits);
}

inline CountDecode decode_numeric_count(const char *p, int64_t &out)
{
    const char *body = VARDATA_ANY(p);
    size_t size = VARSIZE_ANY_EXHDR(p);
    uint16 header;
    memcpy(&header, body, sizeof header);
    uint16 flags = header & numeric_bits::kSignMask;
    if (flags != numeric_bits::kShort)  // every small number is stored in the short format
        return CountDecode::slow;
    bool negative = (header & numeric_bits::kShortSignMask) != 0;
    int weight = (header & numeric_bits::kShortWeightSignMask)
                     ? -1 - int((~header) & numeric_bits::kShortWeightMask)
                     : int(header & numeric_bits::kShortWeightMask);
    const char *digits = body + sizeof(uint16);
    int ndigits = int((size - sizeof(uint16)) / sizeof(int16));
    if (ndigits == 0) {
        out = 0;
        return CountDecode::ok;
    }
    if (weight < 0 || ndigits > weight + 1)
        return CountDecode::fractional;
    if (weight > 3)
        return CountDecode::slow;
    int64_t v = 0;
    for (int i = 0; i <= weight; i++) {
        int16 d = 0;
        if (i < ndigits)
            memcpy(&d, digits + i * sizeof(int16), sizeof d);
        v = v * 10000 + d;
    }
    out = negative ? -v : v;
    return CountDecode::ok;
}

}  // namespace ducache::pg
