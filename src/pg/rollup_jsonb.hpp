// The core's documents as jsonb datums, built without JSON text: the core writes each document
// into a sink that assembles one JsonbValue tree (every object's members put into JSONB's key
// order as it closes, a repeated key keeping its last value, as jsonb_in does), encoded by one
// JsonbValueToJsonb, as pg/rebuild_jsonb.cpp does for a day's documents. Parsing the documents'
// text was three quarters of a refresh (the rollups), ~5% of a 90-day dashboard and about half
// of the coordinator's month dashboard (docs/scale-out-speed.md, round 8).
#pragma once

#include "core/rollup_builder.hpp"

#include "pg/jsonb_document.hpp"
#include "pg/postgres.hpp"

namespace ducache::pg {

struct RollupDatums {
    int32 days = 0;
    Datum doc[core::kRollupDocuments] = {};   // indexed by core::RollupDocument
    bool isnull[core::kRollupDocuments] = {};
};

// Ends the builder's days and encodes its documents; they are palloc'd in `into`, and so is the
// trees' scratch memory (a child context, freed before return).
RollupDatums rollup_jsonb_documents(core::RollupBuilder &b, MemoryContext into);

}  // namespace ducache::pg
