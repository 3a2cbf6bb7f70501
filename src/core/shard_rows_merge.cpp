#include "core/shard_rows_merge.hpp"

#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/number.hpp"

#include <algorithm>
#include <climits>

namespace ducache::core {

namespace {

// One key of the one-node read's ORDER BY: a column, descending or not. Text compares
// bytewise (COLLATE "C"), numeric by value; NULLs sort as PostgreSQL's default (last when
// ascending, first when descending).
struct OrderKey {
    int column;
    bool descending;
};

// The column positions are the result columns of CONTRACT §3-§4 (sql/20_breakdowns.sql,
// 30_analytics.sql); the orders are the one-node functions' (and 62_coordinator_reads.sql's
// before round 6).
std::vector<OrderKey> order_of(RowsRead read)
{
    switch (read) {
    case RowsRead::user: return {{8, true}, {0, false}};                // total_cost DESC, user_id
    case RowsRead::user_model: return {{0, false}, {7, true}, {1, false}};  // user_id, total_cost DESC, model
    case RowsRead::api_key: return {{7, true}, {0, false}, {2, false}};  // total_cost DESC, key_alias, user_id
    case RowsRead::trend: return {{0, false}};                          // date
    }
    return {};
}

Decimal numeric_of(std::string_view s)
{
    Decimal d;
    if (!parse_json_number(s, d))
        throw Error("22P03", "ducache shard rows: a numeric value is not a number", "The value is \"" + std::string(s) + "\".");
    return d;
}

}  // namespace

bool rows_read_named(std::string_view name, RowsRead &out)
{
    if (name == "user")
        out = RowsRead::user;
    else if (name == "user_model")
        out = RowsRead::user_model;
    else if (name == "api_key")
        out = RowsRead::api_key;
    else if (name == "trend")
        out = RowsRead::trend;
    else
        return false;
    return true;
}

MergedRows::MergedRows(RowsRead read, std::vector<ColumnKind> columns) : read_(read), columns_(std::move(columns))
{
    for (const OrderKey &k : order_of(read_))
        if (k.column >= int(columns_.size()))
            throw Error("XX000", "ducache shard rows: the result has fewer columns than its order needs");
}

void MergedRows::add_part(const char *data, size_t len, int part)
{
    RowsReader r(data, len, part);
    if (r.columns() != columns_)
        r.fail("its columns are not the " + std::to_string(columns_.size()) + " columns asked for");
    size_t first = values_.size() / columns_.size();
    values_.resize(values_.size() + size_t(r.rows()) * columns_.size());
    for (uint32_t row = 0; row < r.rows(); row++) {
        RowValue *v = &values_[(first + row) * columns_.size()];
        for (size_t c = 0; c < columns_.size(); c++)
            v[c].null = !r.next(columns_[c], v[c].s, v[c].i);
        order_.push_back(first + row);
    }
    r.finish();
}

void MergedRows::finish()
{
    const size_t n = columns_.size();
    std::vector<OrderKey> keys = order_of(read_);
    // Numeric keys decoded once per row.
    std::vector<std::vector<DecimalSum>> numeric_keys(keys.size());
    for (size_t k = 0; k < keys.size(); k++) {
        if (columns_[keys[k].column] != ColumnKind::numeric)
            continue;
        numeric_keys[k].resize(values_.size() / n);
        for (size_t row = 0; row < values_.size() / n; row++) {
            const RowValue &v = values_[row * n + keys[k].column];
            if (!v.null)
                numeric_keys[k][row].add(numeric_of(v.s));
        }
    }
    auto before = [&](size_t a, size_t b) {
        for (size_t k = 0; k < keys.size(); k++) {
            const RowValue &x = values_[a * n + keys[k].column], &y = values_[b * n + keys[k].column];
            int c;
            if (x.null || y.null)
                c = x.null == y.null ? 0 : (x.null ? 1 : -1);  // NULL is the largest value
            else if (columns_[keys[k].column] == ColumnKind::numeric)
                c = numeric_keys[k][a].compare(numeric_keys[k][b]);
            else if (columns_[keys[k].column] == ColumnKind::text)
                c = x.s.compare(y.s);
            else
                c = x.i < y.i ? -1 : x.i > y.i;
            if (c != 0)
                return keys[k].descending ? c > 0 : c < 0;
        }
        return false;
    };
    std::stable_sort(order_.begin(), order_.end(), before);
    if (read_ == RowsRead::trend)
        sum_trend_dates();
}

// The rows of one date (adjacent after the sort) into the first of them: every other column
// summed as sum(...)::its type did (NULLs skipped; all NULL stays NULL).
void MergedRows::sum_trend_dates()
{
    const size_t n = columns_.size();
    std::vector<size_t> kept;
    for (size_t at = 0; at < order_.size();) {
        size_t end = at + 1;
        const RowValue &date = values_[order_[at] * n];
        while (end < order_.size()) {
            const RowValue &d = values_[order_[end] * n];
            if (d.null != date.null || (!d.null && d.i != date.i))
                break;
            end++;
        }
        RowValue *out = &values_[order_[at] * n];
        for (size_t c = 1; c < n && end - at > 1; c++) {
            bool any = false;
            __int128 total = 0;
            DecimalSum cost;
            for (size_t r = at; r < end; r++) {
                const RowValue &v = values_[order_[r] * n + c];
                if (v.null)
                    continue;
                any = true;
                if (columns_[c] == ColumnKind::numeric)
                    cost.add(numeric_of(v.s));
                else if (columns_[c] == ColumnKind::text)
                    throw Error("XX000", "ducache shard rows: the trend has a text column to add");
                else
                    total += v.i;
            }
            out[c].null = !any;
            if (!any)
                continue;
            if (columns_[c] == ColumnKind::numeric) {
                owned_.push_back(cost.to_string());
                out[c].s = owned_.back();
            } else if (columns_[c] == ColumnKind::int8 ? total > INT64_MAX || total < INT64_MIN
                                                       : total > INT32_MAX || total < INT32_MIN) {
                throw Error("22003", columns_[c] == ColumnKind::int8 ? "bigint out of range" : "integer out of range");
            } else {
                out[c].i = int64_t(total);
            }
        }
        kept.push_back(order_[at]);
        at = end;
    }
    order_ = std::move(kept);
}

}  // namespace ducache::core
