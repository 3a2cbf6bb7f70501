// libFuzzer target: JSON number literals. Whatever the bytes, parse_json_number either refuses,
// throws core::Error, or yields a value whose sum prints back to a literal it accepts again
// with the same value.
#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/number.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace ducache::core;
    std::string_view text(reinterpret_cast<const char *>(data), size);
    Decimal d;
    try {
        if (!parse_json_number(text, d))
            return 0;
        DecimalSum s;
        s.add(d);
        s.add(d);
        std::string printed = s.to_string();
        Decimal again;
        if (!parse_json_number(printed, again))
            abort();  // a sum must always print as a valid number literal
        DecimalSum t;
        t.add(again);
        if (t.compare(s) != 0)
            abort();
        int64_t n;
        (void)d.to_int64(n);
    } catch (const Error &) {
    }
    return 0;
}
