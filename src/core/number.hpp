// Numbers written as JSON strings ("12", "-0.5", "1e3") count as that number; anything that is
// not exactly a JSON number literal ("lots", "", " 12", "NaN", "Infinity", "+1", "01") is not.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/decimal.hpp"

#include <string_view>

namespace ducache::core {

// Parses a JSON number literal -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? exactly, with
// numeric_in's display scale (max(0, fractional digits - exponent)). Returns false if the text
// is not such a literal; throws Error 22003 if it is one beyond numeric's range.
bool parse_json_number(std::string_view text, Decimal &out);

}  // namespace ducache::core
