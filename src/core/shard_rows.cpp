#include "core/shard_rows.hpp"

#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/number.hpp"

#include <cstring>

namespace ducache::core {

namespace {

constexpr char kRowsMagic[4] = {'D', 'U', 'S', 'R'};

template <typename T>
void put_le(std::string &out, T v)
{
    for (size_t b = 0; b < sizeof v; b++)
        out.push_back(char(uint64_t(v) >> (8 * b) & 0xff));
}

}  // namespace

RowsWriter::RowsWriter(const std::vector<ColumnKind> &columns)
{
    out_.assign(kRowsMagic, 4);
    put_le<uint8_t>(out_, kShardRowsVersion);
    put_le<uint8_t>(out_, uint8_t(columns.size()));
    for (ColumnKind k : columns)
        put_le<uint8_t>(out_, uint8_t(k));
    count_at_ = out_.size();
    put_le<uint32_t>(out_, 0);
}

void RowsWriter::null() { put_le<uint8_t>(out_, 1); }

void RowsWriter::text(std::string_view s)
{
    put_le<uint8_t>(out_, 0);
    put_le<uint32_t>(out_, uint32_t(s.size()));
    out_.append(s.data(), s.size());
}

void RowsWriter::numeric(std::string_view s) { text(s); }

void RowsWriter::int4(int32_t v)
{
    put_le<uint8_t>(out_, 0);
    put_le<int32_t>(out_, v);
}

void RowsWriter::int8(int64_t v)
{
    put_le<uint8_t>(out_, 0);
    put_le<int64_t>(out_, v);
}

std::string RowsWriter::finish()
{
    for (size_t b = 0; b < 4; b++)
        out_[count_at_ + b] = char(rows_ >> (8 * b) & 0xff);
    return std::move(out_);
}

RowsReader::RowsReader(const char *data, size_t len, int part) : base_(data), p_(data), left_(len), part_(part)
{
    need(4, "the header");
    if (std::memcmp(data, kRowsMagic, 4) != 0)
        fail("it does not start with the ducache shard rows mark");
    get<uint32_t>("the header");
    uint8_t version = get<uint8_t>("the header");
    if (version != kShardRowsVersion)
        fail("version " + std::to_string(version) + " is not the supported version " +
             std::to_string(kShardRowsVersion));
    uint8_t n = get<uint8_t>("the header");
    if (n == 0)
        fail("it has no columns");  // (else a row count alone would stand for billions of empty rows)
    for (uint8_t c = 0; c < n; c++) {
        uint8_t k = get<uint8_t>("the column kinds");
        if (k < uint8_t(ColumnKind::text) || k > uint8_t(ColumnKind::date))
            fail("column " + std::to_string(c + 1) + " has unknown kind " + std::to_string(k));
        columns_.push_back(ColumnKind(k));
    }
    rows_ = get<uint32_t>("the row count");
    // Each row has at least one byte per column.
    need(uint64_t(rows_) * n, "the rows");
}

template <typename T>
T RowsReader::get(const char *what)
{
    need(sizeof(T), what);
    uint64_t v = 0;
    for (size_t b = 0; b < sizeof(T); b++)
        v |= uint64_t(uint8_t(p_[b])) << (8 * b);
    p_ += sizeof(T);
    left_ -= sizeof(T);
    return T(v);
}

void RowsReader::need(uint64_t n, const char *what) const
{
    if (n > left_)
        fail(std::string("the buffer ends inside ") + what);
}

void RowsReader::fail(const std::string &why) const
{
    throw Error("22P03", "invalid ducache shard rows",
                "Partial " + std::to_string(part_) + ", byte " + std::to_string(p_ - base_) + ": " + why + ".",
                "Every shard must run the coordinator's ducache version.");
}

bool RowsReader::next(ColumnKind kind, std::string_view &s, int64_t &i)
{
    uint8_t is_null = get<uint8_t>("a value");
    if (is_null > 1)
        fail("a NULL flag is " + std::to_string(is_null));
    if (is_null)
        return false;
    switch (kind) {
    case ColumnKind::text:
    case ColumnKind::numeric: {
        uint32_t n = get<uint32_t>("a value");
        need(n, "a value");
        s = std::string_view(p_, n);
        p_ += n;
        left_ -= n;
        Decimal d;
        if (kind == ColumnKind::numeric && !parse_json_number(s, d))
            fail("a numeric value is not a number");
        return true;
    }
    case ColumnKind::int4:
    case ColumnKind::date:
        i = get<int32_t>("a value");
        return true;
    case ColumnKind::int8:
        i = get<int64_t>("a value");
        return true;
    }
    fail("an unknown column kind");
}

void RowsReader::finish() const
{
    if (left_ != 0)
        fail(std::to_string(left_) + " bytes follow the last row");
}

}  // namespace ducache::core
