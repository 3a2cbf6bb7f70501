// Materialized set-returning output and the datums it is made of (text, numeric from the
// core's exact decimal text): PostgreSQL calls wrapped for C++ frames.
#pragma once

#include "core/decimal.hpp"

#include "pg/boundary.hpp"

#include <string>
#include <string_view>

namespace ducache::pg {

inline void init_materialized_srf(FunctionCallInfo fcinfo)
{
    pg_call([&] { InitMaterializedSRF(fcinfo, 0); });
}

inline void put_row(FunctionCallInfo fcinfo, Datum *values, bool *nulls)
{
    pg_call([&] {
        auto *rs = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
        tuplestore_putvalues(rs->setResult, rs->setDesc, values, nulls);
    });
}

inline Datum text_datum(std::string_view s)
{
    return pg_call([&] { return PointerGetDatum(cstring_to_text_with_len(s.data(), int(s.size()))); });
}

// A numeric datum from the core's exact decimal text.
inline Datum numeric_datum(const std::string &decimal_text)
{
    const char *s = decimal_text.c_str();
    return pg_call([&] {
        return DirectFunctionCall3(numeric_in, CStringGetDatum(s), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
    });
}

// The numeric datum of an exact sum: the bytes numeric_in makes of sum.to_string(), laid out
// from its digits (pg/numeric_decode.cpp).
Datum numeric_sum_datum(const core::DecimalSum &sum);

}  // namespace ducache::pg
