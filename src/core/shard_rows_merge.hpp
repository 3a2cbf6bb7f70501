// The coordinator's merge of the shards' typed rows (core/shard_rows.hpp) into one node's
// result: the rows of every part in the order of the one-node read, and for the daily trend
// the rows of a date added into one (a date repeats on every shard; users never do, so the
// user-keyed rows just interleave). One sort of decoded rows in C++: no SQL sort, tuplestore or
// numeric parse per row on the coordinator (docs/scale-out-speed.md, round 6).
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/shard_rows.hpp"

#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace ducache::core {

// The reads whose shard answers are typed rows, with their column lists (CONTRACT §3-§4):
// user breakdown, user x model breakdown, API-key breakdown, daily trend.
enum class RowsRead { user, user_model, api_key, trend };
bool rows_read_named(std::string_view name, RowsRead &out);

// One column of a row: NULL, or text/numeric text in s, or an integer (int4, date, int8) in i.
struct RowValue {
    bool null = true;
    std::string_view s;
    int64_t i = 0;
};

class MergedRows {
public:
    // columns: the result's column kinds (each part must have exactly these).
    MergedRows(RowsRead read, std::vector<ColumnKind> columns);
    // The rows of one part; the bytes must outlive this object (values point into them).
    // Throws Error 22P03 (naming the part) on a malformed part or other columns.
    void add_part(const char *data, size_t len, int part);
    // Sorts into the one-node order (and adds up the trend's dates). Throws 22003 when a
    // trend sum leaves its column's integer type, as the SQL cast of the sum did.
    void finish();
    size_t rows() const { return order_.size(); }
    int columns() const { return int(columns_.size()); }
    const RowValue &at(size_t row, int column) const { return values_[order_[row] * columns_.size() + column]; }

private:
    void sum_trend_dates();
    RowsRead read_;
    std::vector<ColumnKind> columns_;
    std::vector<RowValue> values_;     // row-major
    std::vector<size_t> order_;        // row numbers in output order
    std::deque<std::string> owned_;    // texts of the trend's sums (stable addresses)
};

}  // namespace ducache::core
