// What the entry rules need to see of one JSON object, and nothing more: its members by index,
// each member's key bytes, what kind of value it holds, and the value itself (a number as
// decoded parts, a string as bytes, an object as another view). The PostgreSQL adapter
// implements it over JSONB binary in place (pg/jsonb_view.hpp); the unit tests and the fuzzer
// implement it over a std::map-like tree. The rules are templates over the view, so the
// adapter's calls inline (no virtual call per value on the hot path).
//
// A view type V provides:
//   uint32_t size() const;                           members, indexed 0..size()-1
//   std::string_view key(uint32_t i) const;          key bytes of member i
//   bool is_null(uint32_t i) const;                  value is JSON null (cheap: alias choice)
//   ValueKind kind(uint32_t i) const;                what value i is
//   bool number(uint32_t i, Decimal &out) const;     kind number: exact value; false if not
//                                                    finite (NaN/Infinity: a corrupt value)
//   CountFast count(uint32_t i, int64_t &out) const; kind number: a whole number that fits,
//                                                    cheaply, or `fractional`, or `slow` (then
//                                                    the rules use number() and convert)
//   std::string_view text(uint32_t i) const;         kind string: its bytes
//   V object(uint32_t i) const;                      kind object: a view of it
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include <cstdint>

namespace ducache::core {

enum class ValueKind : int8_t { null, boolean, number, string, object, array };

// A count read without building a Decimal: most counts are small whole numbers.
enum class CountFast : int8_t { ok, fractional, slow };

// "null", "a boolean", "a number", "a string", "an object", "an array" (for messages).
inline const char *value_kind_name(ValueKind k)
{
    switch (k) {
    case ValueKind::null: return "null";
    case ValueKind::boolean: return "a boolean";
    case ValueKind::number: return "a number";
    case ValueKind::string: return "a string";
    case ValueKind::object: return "an object";
    case ValueKind::array: return "an array";
    }
    return "a value";
}

}  // namespace ducache::core
