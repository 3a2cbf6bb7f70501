// libFuzzer target: core/entry_rules.hpp and core/count_sum.hpp against a naive reference.
// The bytes describe a few entries (members from the contract's names and near misses, in any
// order, holding numbers, numbers as strings, junk strings, null, booleans, arrays, and nested
// "metrics" objects). Each entry is read with the core's rules over a tree view and with
// entry_model::reference (CONTRACT §2 written out naively); the values or the error (SQLSTATE,
// field, problem) must agree. The entries are then summed for one key with the one
// overflow-checked add, against 128-bit sums.
#include "core/count_sum.hpp"
#include "core/decimal.hpp"
#include "core/entry_rules.hpp"
#include "core/error.hpp"

#include "../unit/entry_model.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

using namespace ducache::core;
using entry_model::Members;
using entry_model::Value;

namespace {

const char *const kNames[] = {
    "totalRequests", "api_requests", "requests", "totalTokens", "total_tokens", "tokens",
    "promptTokens", "prompt_tokens", "completionTokens", "completion_tokens", "totalCost",
    "spend", "cost", "successfulRequests", "successful_requests", "failedRequests",
    "failed_requests", "metrics", "username", "email", "role", "Cost", "request", "userId",
};
constexpr int kNameCount = sizeof kNames / sizeof kNames[0];

const char *const kOddStrings[] = {"", " 12", "NaN", "Infinity", "+1", "01", "1.", ".5", "1e", "lots",
                                   "1e131073", "1e-16384", "0e999999", "-0", "12.0", "12.5", "9223372036854775808",
                                   "-9223372036854775808", "9223372036854775807", "1.2e1"};
constexpr int kOddCount = sizeof kOddStrings / sizeof kOddStrings[0];

struct Reader {
    const uint8_t *p;
    size_t left;
    uint8_t byte() { return left ? (left--, *p++) : 0; }
};

// A JSON number literal: sign, 0-22 digits (no leading zero), maybe a fraction, maybe an exponent.
std::string literal(Reader &r)
{
    std::string t;
    uint8_t shape = r.byte();
    if (shape & 1)
        t += '-';
    int int_len = r.byte() % 23;
    if (int_len == 0)
        t += '0';
    for (int i = 0; i < int_len; i++) {
        int d = r.byte() % 10;
        t += char('0' + (i == 0 && d == 0 ? 1 : d));
    }
    if (shape & 2) {
        t += '.';
        int frac = 1 + r.byte() % 6;
        for (int i = 0; i < frac; i++)
            t += char('0' + r.byte() % 10);
    }
    if (shape & 4) {
        t += (shape & 8) ? 'E' : 'e';
        if (shape & 16)
            t += (shape & 32) ? '-' : '+';
        t += std::to_string(r.byte() % 40);
    }
    return t;
}

Value value(Reader &r, int depth)
{
    switch (r.byte() % 9) {
    case 0: return Value::null();
    case 1:
    case 2: return Value::num(literal(r));
    case 3: return Value::str(literal(r));
    case 4: return Value::str(kOddStrings[r.byte() % kOddCount]);
    case 5: return r.byte() & 1 ? Value::boolean() : Value::array();
    case 6: return Value::num(r.byte() % 7 == 0 ? "NaN" : std::to_string(int(r.byte()) - 100));
    default: {
        if (depth > 0)
            return Value::num(std::to_string(r.byte()));
        Members m;
        int n = r.byte() % 6;
        for (int i = 0; i < n; i++) {
            std::string name = kNames[r.byte() % kNameCount];
            Value v = value(r, depth + 1);
            if (!entry_model::find(m, name))
                m.emplace_back(std::move(name), std::move(v));
        }
        return Value::object(std::move(m));
    }
    }
}

Members entry(Reader &r)
{
    Members m;
    int n = r.byte() % 9;
    for (int i = 0; i < n; i++) {
        std::string name = kNames[r.byte() % kNameCount];
        Value v = value(r, 0);
        if (!entry_model::find(m, name))  // JSON objects have unique keys
            m.emplace_back(std::move(name), std::move(v));
    }
    return m;
}

const FixedLabel kRow("2025-10-14");

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Reader r{data, size};
    __int128 sums[kCountMetrics] = {};
    int64_t acc[kCountMetrics] = {};
    for (int e = 0; e < 4 && r.left; e++) {
        Members m = entry(r);
        bool identity = r.byte() & 1;
        entry_model::Expected want = entry_model::reference(m, identity);
        EntryValues got;
        try {
            entry_model::core_read(m, EntrySite{"aggregated_by_user", kRow, "k"}, identity, got);
        } catch (const Error &err) {
            if (!want.error || want.sqlstate != err.sqlstate)
                abort();
            if (!want.numeric_overflow &&
                err.detail != "aggregated_by_user on 2025-10-14, key \"k\", field \"" + want.field + "\": " +
                                  want.problem + ".")
                abort();
            continue;
        }
        if (want.error)
            abort();
        for (int c = 0; c < kCountMetrics; c++)
            if (got.counts[c] != want.counts[c])
                abort();
        if (got.cost_seen != want.cost_seen)
            abort();
        if (got.cost_seen) {
            DecimalSum s;
            s.add(got.cost);
            if (s.to_string() != want.cost)
                abort();
        }
        if (got.username != want.username || got.email != want.email || got.role != want.role)
            abort();

        // The one overflow-checked add: all or nothing, first overflowing metric named.
        int overflow = -1;
        for (int c = 0; c < kCountMetrics && overflow < 0; c++) {
            __int128 next = sums[c] + got.counts[c];
            if (next > INT64_MAX || next < INT64_MIN)
                overflow = c;
        }
        try {
            add_counts_or_throw(acc, got.counts, "aggregated_by_user", "k", kRow);
            if (overflow >= 0)
                abort();
            for (int c = 0; c < kCountMetrics; c++)
                sums[c] += got.counts[c];
        } catch (const Error &err) {
            if (overflow < 0 || std::string(err.sqlstate) != "22003" ||
                err.message != std::string("bigint out of range summing aggregated_by_user for key \"k\", field \"") +
                                   metric_name(Metric(overflow)) + "\"")
                abort();
        }
        for (int c = 0; c < kCountMetrics; c++)
            if (acc[c] != sums[c])
                abort();
    }
    return 0;
}
