// A rollup's documents as jsonb datums, built without JSON text: the core builder writes each
// document into a sink that assembles one JsonbValue tree (every object's members put into
// JSONB's key order as it closes, a repeated key keeping its last value, as jsonb_in does),
// encoded by one JsonbValueToJsonb, as pg/rebuild_jsonb.cpp does for a day's documents.
// Parsing the documents' text was three quarters of a refresh.
#pragma once

#include "core/rollup_builder.hpp"

#include "pg/postgres.hpp"

#include <functional>

namespace ducache::pg {

struct RollupDatums {
    int32 days = 0;
    Datum doc[core::kRollupDocuments] = {};   // indexed by core::RollupDocument
    bool isnull[core::kRollupDocuments] = {};
};

// Ends the builder's days and encodes its documents; they are palloc'd in `into`, and so is the
// trees' scratch memory (a child context, freed before return).
RollupDatums rollup_jsonb_documents(core::RollupBuilder &b, MemoryContext into);

// One document the core writes into a sink (the rollup rows' derived columns), as a jsonb datum
// palloc'd in `into`; the tree's scratch memory is freed before return, also when `write` throws
// (a core::Error goes on to the caller).
Datum jsonb_document(MemoryContext into, const std::function<void(core::JsonSink &)> &write);

}  // namespace ducache::pg
