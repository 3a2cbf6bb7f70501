// A JsonbValue tree as the jsonb datum JsonbValueToJsonb makes of it, written by ducache's own
// encoder (pg/jsonb_encoder.cpp: one growing buffer instead of a StringInfo append per piece),
// or by JsonbValueToJsonb itself where the encoder declines.
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

// root: an object or an array; the datum is allocated in `into`. PostgreSQL's errors (a value too
// large) are raised inside pg_call.
Datum encode_tree(JsonbValue *root, MemoryContext into);

}  // namespace ducache::pg
