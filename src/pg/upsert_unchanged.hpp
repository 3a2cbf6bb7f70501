// Which days of a batch the cache table already holds exactly, so the upsert can leave them
// alone: one locked read of the stored rows for the batch's dates, compared in binary form.
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

// The batch as deconstructed arrays. A whole array that was NULL has values == nullptr (its
// elements all count as NULL; for is_complete, NULL means true).
struct UpsertBatch {
    int n = 0;
    const Datum *dates = nullptr;
    const int *order = nullptr;        // input indexes sorted by date (dates are distinct)
    const Datum *json[5] = {};         // raw_data, aggregated_by_user/model/provider, total_metrics
    const bool *json_nulls[5] = {};
    const Datum *complete = nullptr;
    const bool *complete_nulls = nullptr;
};

// Input index of the day d, or -1.
int find_day(const UpsertBatch &batch, DateADT d);

// Sets unchanged[r] for every day r whose stored row holds exactly the given values (the five
// JSONB columns byte for byte, NULL = NULL, and is_complete). Reads the stored rows with
// SELECT .. FOR UPDATE in date order, so an unchanged day stays so until the transaction ends
// (as the ON CONFLICT row lock would). Returns how many days are unchanged. Runs inside SPI and
// inside pg_call (raises PostgreSQL ERRORs).
int mark_unchanged_days(const char *table_name, Datum dates_array, const UpsertBatch &batch, bool *unchanged);

// Sets the timestamp column to now() on the given days (an array of dates), nothing else.
// Inside SPI and pg_call.
void touch_days(const char *table_name, const char *timestamp_column, Datum dates_array);

}  // namespace ducache::pg
