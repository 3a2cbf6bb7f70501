// The binary rows a shard returns for the reads whose rows need no merge beyond concatenation
// (rows keyed by a user: user, user x model and api-key breakdowns; the daily trend's rows,
// added per date by the coordinator): typed columns, written on the shard and read on the
// coordinator without JSON.
//
// Wire layout (little-endian, version 1):
//   "DUSR" | uint8 version | uint8 column count | the column kinds (uint8 each) |
//   uint32 row count | per row, per column: uint8 1 (NULL) or 0 then the value:
//   text and numeric: uint32 length + bytes (numeric as JSON number text); int4 and date:
//   int32; int8: int64.
// Decoding checks every length against what is left and throws Error 22P03 naming the partial,
// the byte offset and what is wrong.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ducache::core {

constexpr uint8_t kShardRowsVersion = 1;

enum class ColumnKind : uint8_t { text = 1, int4 = 2, int8 = 3, numeric = 4, date = 5 };

class RowsWriter {
public:
    explicit RowsWriter(const std::vector<ColumnKind> &columns);
    // One row's values, in column order (the kind of each call must be the column's).
    void null();
    void text(std::string_view s);
    void numeric(std::string_view s);
    void int4(int32_t v);  // int4 and date
    void int8(int64_t v);
    void end_row() { rows_++; }
    std::string finish();

private:
    std::string out_;
    uint32_t rows_ = 0;
    size_t count_at_;
};

class RowsReader {
public:
    // Checks the header; `part` names the partial in messages.
    RowsReader(const char *data, size_t len, int part);
    const std::vector<ColumnKind> &columns() const { return columns_; }
    uint32_t rows() const { return rows_; }
    // The next value of the current row: false when it is NULL. text/numeric fill s (valid
    // while the buffer lives), int4/date and int8 fill i.
    bool next(ColumnKind kind, std::string_view &s, int64_t &i);
    // After the last row: no bytes may follow.
    void finish() const;
    [[noreturn]] void fail(const std::string &why) const;

private:
    template <typename T>
    T get(const char *what);
    void need(uint64_t n, const char *what) const;
    const char *base_, *p_;
    size_t left_;
    int part_;
    std::vector<ColumnKind> columns_;
    uint32_t rows_ = 0;
};

}  // namespace ducache::core
