// The rebuild's writes: a few days per UPDATE (kDaysPerWrite), so memory stays bounded at any
// range. Every day handed in must be written: a day the UPDATE could not touch (row-level
// security that lets the caller read the row but not update it) is ERROR 42501 naming the
// first such date, and the ERROR undoes the call's earlier batches: all or nothing.
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

class RebuildWriter {
public:
    static constexpr int kDaysPerWrite = 8;

    // table: the quoted cache table; ts_column: its timestamp column (unquoted).
    RebuildWriter(const char *table, const char *ts_column);
    // Copies the day's documents into the writer's memory (total may be SQL NULL).
    void add(DateADT date, Datum users, Datum models, Datum providers, Datum total, bool total_null);
    // Writes what is pending and frees the writer's memory.
    void finish();

private:
    void flush();

    SPIPlanPtr plan_ = nullptr;
    MemoryContext batch_cxt_ = nullptr;  // the pending days' documents, reset after each write
    int n_ = 0;
    Datum dates_[kDaysPerWrite], users_[kDaysPerWrite], models_[kDaysPerWrite], providers_[kDaysPerWrite],
        totals_[kDaysPerWrite];
    bool total_nulls_[kDaysPerWrite];
};

}  // namespace ducache::pg
