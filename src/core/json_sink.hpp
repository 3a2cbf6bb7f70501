// Where the core writes a document it builds for the adapter (the month rollups, the
// dashboard, the filter options): a stream of JSON tokens. The core decides the structure and
// every value; a sink only turns the stream into a representation: JSON text (JsonTextSink,
// for tests and tools), or, in the adapter, a JSONB value built directly (pg/rollup_jsonb.cpp),
// so nothing parses text again. Keys are handed over in any order; a sink that needs an order
// (JSONB) sorts them, and a repeated key keeps its last value, as jsonb_in does with JSON text.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/decimal.hpp"
#include "core/json_writer.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ducache::core {

// One member of an object of exact sums handed over whole (JsonSink::sum_object).
struct SumMember {
    std::string_view key;
    const DecimalSum *sum;
};

// One member of a small object of scalars handed over whole (JsonSink::flat_object): the
// dashboard's summaries (dailyModelUsage's ~630 model objects a 90-day call, dailyUsage,
// topUsers, topModels).
struct FlatMember {
    enum Kind : uint8_t { kInteger, kSum, kString, kNull };
    std::string_view key;
    Kind kind = kNull;
    int64_t integer = 0;
    const DecimalSum *sum = nullptr;
    std::string_view text;
    static FlatMember of(std::string_view k, int64_t v) { return {k, kInteger, v, nullptr, {}}; }
    static FlatMember of(std::string_view k, const DecimalSum &v) { return {k, kSum, 0, &v, {}}; }
    static FlatMember of(std::string_view k, std::string_view v) { return {k, kString, 0, nullptr, v}; }
    // A string, or null when absent (JsonSink::string_or_null).
    static FlatMember of(std::string_view k, std::string_view v, bool present)
    {
        return {k, present ? kString : kNull, 0, nullptr, v};
    }
};

class JsonSink {
public:
    virtual ~JsonSink() = default;
    virtual void begin_object() = 0;
    virtual void end_object() = 0;
    virtual void begin_array() = 0;
    virtual void end_array() = 0;
    // An object member's name; the next call gives its value. Views passed to any call need
    // only live until the call returns.
    virtual void key(std::string_view k) = 0;
    virtual void string(std::string_view s) = 0;
    virtual void null() = 0;
    virtual void boolean(bool b) = 0;
    virtual void integer(int64_t v) = 0;
    // Number text in JSON number form, taken as it is: an exact decimal as DecimalSum::to_string
    // prints it ("12.3400"), a trend's "-0.50", real()'s "%.15g" text. A JSONB sink makes of it
    // the numeric jsonb_in makes of the same text.
    virtual void decimal(std::string_view text) = 0;
    // An exact sum, as decimal(v.to_string()) would hand it over (the default). A JSONB sink
    // makes the numeric from the sum's digits directly (the same bytes, without the text).
    virtual void decimal_sum(const DecimalSum &v) { decimal(v.to_string()); }
    // True for a sink that puts an object's members in an order of its own (JSONB's key order):
    // the writer may then hand them over in any order (a text sink keeps the order given).
    virtual bool orders_members() const { return false; }
    // An object whose members are all exact sums (the dashboard's byUser, ~10K of them): what
    // begin_object, then key and decimal_sum for each member, then end_object write (the
    // default, in the order given). Keys are views that live until the call returns. A sink
    // that orders members may reorder `members` in place (core/jsonb_order.hpp) and lay the
    // whole object out at once.
    virtual void sum_object(SumMember *members, size_t n)
    {
        begin_object();
        for (size_t i = 0; i < n; i++) {
            key(members[i].key);
            decimal_sum(*members[i].sum);
        }
        end_object();
    }

    // A small object of scalars: what begin_object, then key and the member's value for each
    // member, then end_object write (the default, in the order given). Views live until the
    // call returns. A sink that orders members may reorder `members` in place
    // (core/jsonb_order.hpp) and lay the object out at once (no token per member).
    virtual void flat_object(FlatMember *members, size_t n)
    {
        begin_object();
        for (size_t i = 0; i < n; i++) {
            const FlatMember &m = members[i];
            key(m.key);
            switch (m.kind) {
            case FlatMember::kInteger: integer(m.integer); break;
            case FlatMember::kSum: decimal_sum(*m.sum); break;
            case FlatMember::kString: string(m.text); break;
            default: null(); break;
            }
        }
        end_object();
    }

    // A string, or null when absent.
    void string_or_null(std::string_view s, bool present) { present ? string(s) : null(); }
    // A double as JsonWriter::real prints it (real_text: "%.15g"), handed on as number text.
    // Finite values only (core::Error 22003 otherwise: no JSON number says inf or nan).
    void real(double v)
    {
        RealText t(v);
        decimal(t.view());
    }
};

// The stream as JSON text, members in the order given.
class JsonTextSink final : public JsonSink {
public:
    void begin_object() override { w_.begin_object(); }
    void end_object() override { w_.end_object(); }
    void begin_array() override { w_.begin_array(); }
    void end_array() override { w_.end_array(); }
    void key(std::string_view k) override { w_.key(k); }
    void string(std::string_view s) override { w_.string(s); }
    void null() override { w_.null(); }
    void boolean(bool b) override { w_.boolean(b); }
    void integer(int64_t v) override { w_.integer(v); }
    void decimal(std::string_view text) override { w_.number_text(text); }
    std::string take() { return w_.take(); }

private:
    JsonWriter w_;
};

}  // namespace ducache::core
