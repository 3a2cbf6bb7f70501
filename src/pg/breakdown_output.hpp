// Shared by the breakdowns: per-slot extras kept beside a KeyAggregator, and the row output.
#pragma once

#include "core/aggregator.hpp"
#include "core/cell_reducers.hpp"

#include "pg/range_aggregate.hpp"
#include "pg/srf_output.hpp"

#include <memory_resource>
#include <vector>

namespace ducache::pg {

inline size_t slot_index(const core::KeyAggregator &agg, const core::Slot &s)
{
    return size_t(&s - agg.slots().data());
}

// Columns the caller's declaration has: a 0.1.0 declaration (before ALTER EXTENSION UPDATE)
// has no appended columns.
inline int result_columns(FunctionCallInfo fcinfo)
{
    return reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo)->setDesc->natts;
}

// Row columns: key [, username, email, role], the seven metrics, active_days. Returns the
// next column index.
int put_breakdown_row(const core::Slot &s, bool identity, Datum *values, bool *nulls);

// The same columns as cells of a RowWriter's row (pg/tuple_writer.hpp; NULL identity columns
// left unset). Returns the next column index.
class RowWriter;
int put_breakdown_cells(const core::Slot &s, bool identity, RowWriter &row);

// Reads the own "provider" strings of one day's aggregated_by_model into names (later days
// win). Entries that are not objects carry none.
void note_providers(const Jsonb *models, core::ProviderNames &names);

}  // namespace ducache::pg
