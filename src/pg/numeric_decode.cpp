#include "core/decimal.hpp"

#include "pg/numeric_decode.hpp"
#include "pg/srf_output.hpp"

namespace ducache::pg {

using namespace numeric_bits;

bool decode_numeric(const char *p, core::Decimal &out)
{
    const char *body = VARDATA_ANY(p);
    size_t size = VARSIZE_ANY_EXHDR(p);
    uint16 header;
    memcpy(&header, body, sizeof header);
    uint16 flags = header & kSignMask;
    if (flags == kSpecial)
        return false;
    bool negative;
    int weight, dscale;
    const char *digits;
    if (flags == kShort) {
        negative = (header & kShortSignMask) != 0;
        dscale = (header & kShortDscaleMask) >> kShortDscaleShift;
        weight = (header & kShortWeightSignMask) ? int(int16(~kShortWeightMask | (header & kShortWeightMask)))
                                                 : int(header & kShortWeightMask);
        digits = body + sizeof(uint16);
    } else {
        negative = flags == kNeg;
        dscale = header & kDscaleMask;
        int16 w;
        memcpy(&w, body + sizeof(uint16), sizeof w);
        weight = w;
        digits = body + 2 * sizeof(uint16);
    }
    int ndigits = int((size - size_t(digits - body)) / sizeof(int16));
    // Digits are int16-aligned inside JSONB (numerics are int-aligned there).
    core::Decimal::from_base10000(out, negative, weight, dscale,
                                  reinterpret_cast<const int16_t *>(digits), ndigits);
    return true;
}

// As the JSONB documents lay out a sum (rollup_jsonb.cpp; sql/79_numeric_direct compares the
// bytes with numeric_in's), without the text and numeric_in's parse; the arbitrary-precision
// path goes through its text. (Round 7 of issue 13: ~300 instructions a row of a breakdown.)
Datum numeric_sum_datum(const core::DecimalSum &sum)
{
    core::NumericDigits d;
    if (!sum.numeric_digits(d))
        return numeric_datum(sum.to_string());
    size_t len = numeric_encoded_size(d);
    char *bytes = static_cast<char *>(palloc_or_throw(CurrentMemoryContext, len, "a numeric"));
    encode_numeric(d, bytes, len);
    return PointerGetDatum(bytes);
}

}  // namespace ducache::pg
