// A document the core writes into a core::JsonSink, as a jsonb datum built directly (defined in
// pg/rollup_jsonb.cpp, beside the rollups' documents). Only declares core::JsonSink, so an
// adapter file may include it after the PostgreSQL headers.
#pragma once

#include "pg/postgres.hpp"

#include <functional>

namespace ducache::core {
class JsonSink;
}

namespace ducache::pg {

// One document the core writes into a sink (the rollup rows' derived columns, the dashboard, the
// filter options), as a jsonb datum palloc'd in `into`: the bytes jsonb_in makes of the sink's
// JSON text (core::JsonTextSink). The tree's scratch memory is freed before return, also when
// `write` throws (a core::Error goes on to the caller). Test builds with ducache.test_json_text
// on: jsonb_in of that text instead (sql/79_document_jsonb compares the two byte for byte).
Datum jsonb_document(MemoryContext into, const std::function<void(core::JsonSink &)> &write);

}  // namespace ducache::pg
