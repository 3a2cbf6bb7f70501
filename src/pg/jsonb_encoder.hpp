// A JsonbValue tree as the jsonb datum JsonbValueToJsonb makes of it, written by ducache's own
// encoder (pg/jsonb_encoder.cpp: one growing buffer instead of a StringInfo append per piece),
// or by JsonbValueToJsonb itself where the encoder declines.
#pragma once

#include "pg/postgres.hpp"

#include <cstddef>

namespace ducache::core {
struct SumMember;
struct FlatMember;
}

namespace ducache::pg {

// An object of exact sums (core::JsonSink::sum_object), its members in JSONB's key order with
// distinct keys (core::jsonb_member_order), laid out as the JSONB container encode_tree and
// JsonbValueToJsonb write for that object when it starts on a 4-byte boundary (header, the
// keys' and then the values' JEntries, the keys, each numeric after its padding), without a
// JsonbValue per member. `out`: sum_object_bound() bytes, 4-byte aligned. Returns the length,
// or 0 when a sum has no NumericDigits (past 128 bits: its numeric comes from its text) or the
// object is too long for a JEntry: the caller then hands the members over one by one. The
// bytes go into a tree as a jbvBinary value, which encode_tree copies.
size_t sum_object_bound(const core::SumMember *members, size_t n);
size_t encode_sum_object(const core::SumMember *members, size_t n, char *out);

// A small object of scalars (core::JsonSink::flat_object), its members in JSONB's key order with
// distinct keys, laid out as encode_sum_object lays out an object of sums (strings' bytes, nulls
// as JEntries alone, numerics after their padding). `out`: flat_object_bound() bytes, 4-byte
// aligned. Returns the length, or 0 (a sum past 128 bits, too long for a JEntry): the caller
// then hands the members over one by one.
size_t flat_object_bound(const core::FlatMember *members, size_t n);
size_t encode_flat_object(const core::FlatMember *members, size_t n, char *out);

// root: an object or an array; the datum is allocated in `into`. PostgreSQL's errors (a value too
// large) are raised inside pg_call. A jbvBinary value in the tree is encode_sum_object's bytes;
// binary_bytes (their total, or 0) sizes the first buffer, so the dashboard's ~600 kB byUser is
// not copied again by each doubling.
Datum encode_tree(JsonbValue *root, MemoryContext into, size_t binary_bytes = 0);

}  // namespace ducache::pg
