// JSON text the core wrote -> a jsonb Datum by jsonb_in: the documents' path before round 8, now
// only taken in test builds with ducache.test_json_text on (pg/jsonb_document.hpp).
#pragma once

#include "pg/boundary.hpp"
#include "pg/postgres.hpp"

#include <string>
#include <string_view>

namespace ducache::pg {

// Parses text with jsonb_in, allocating the result in `cxt` (the caller's context).
inline Datum jsonb_from_text(const std::string &text, MemoryContext cxt)
{
    const char *s = text.c_str();
    return pg_call([&] {
        MemoryContext old = MemoryContextSwitchTo(cxt);
        Datum d = DirectFunctionCall1(jsonb_in, CStringGetDatum(s));
        MemoryContextSwitchTo(old);
        return d;
    });
}

}  // namespace ducache::pg
