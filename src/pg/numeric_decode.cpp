#include "core/decimal.hpp"

#include "pg/numeric_decode.hpp"

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

}  // namespace ducache::pg
