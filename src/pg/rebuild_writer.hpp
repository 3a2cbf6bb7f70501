// The rebuild's writes: one prepared UPDATE per changed day, run as soon as the day is built,
// with the built documents passed as parameters (no copy, no array). Measured against the
// earlier batches of 8 days in arrays (docs/benchmarks.md, "Writes and GIN"): the copies into
// the batch and the arrays cost more than the per-statement overhead they saved, and memory
// now holds one day's documents, not eight. Every day handed in must be written: a day the
// UPDATE could not touch (row-level security that lets the caller read the row but not update
// it) is ERROR 42501 naming that date, and the ERROR undoes the call's earlier days: all or
// nothing.
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

class RebuildWriter {
public:
    // table: the quoted cache table; ts_column: its timestamp column (unquoted).
    RebuildWriter(const char *table, const char *ts_column);
    // Writes the day's documents now (total may be SQL NULL). The datums need to live only
    // for the call.
    void add(DateADT date, Datum users, Datum models, Datum providers, Datum total, bool total_null);
    // Nothing is pending after add(); kept so callers need not know.
    void finish() {}

private:
    SPIPlanPtr plan_ = nullptr;
};

}  // namespace ducache::pg
