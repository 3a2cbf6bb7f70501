// Reads a numeric stored inside JSONB straight from its on-disk layout (stable across
// releases: pg_upgrade keeps it) into the core's exact Decimal, without a palloc per value.
#pragma once

#include "core/decimal.hpp"

#include "pg/postgres.hpp"

namespace ducache::pg {

// Returns false for NaN / ±Infinity (JSON cannot hold them; a corrupt value could).
bool decode_numeric(const char *varlena_numeric, core::Decimal &out);

// Fast path for token and request counts: a whole number below 10^16 straight to int64.
// `slow` means "use decode_numeric and the exact conversion" (large or special values).
enum class CountDecode { ok, fractional, slow };
CountDecode decode_numeric_count(const char *varlena_numeric, int64_t &out);

}  // namespace ducache::pg
