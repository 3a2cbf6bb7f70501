// Where the core writes a document it builds for the adapter to store (the month rollups):
// a stream of JSON tokens. The core decides the structure and every value; a sink only turns
// the stream into a representation: JSON text (JsonTextSink, for tests and tools), or, in the
// adapter, a JSONB value built directly (pg/rollup_jsonb.cpp), so nothing parses text again.
// Keys are handed over in any order; a sink that needs an order (JSONB) sorts them, and a
// repeated key keeps its last value, as jsonb_in does with JSON text.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/json_writer.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace ducache::core {

class JsonSink {
public:
    virtual ~JsonSink() = default;
    virtual void begin_object() = 0;
    virtual void end_object() = 0;
    // An object member's name; the next call gives its value. The view need only live
    // until the call returns.
    virtual void key(std::string_view k) = 0;
    virtual void string(std::string_view s) = 0;
    virtual void integer(int64_t v) = 0;
    // An exact decimal in JSON number form, as DecimalSum::to_string prints it ("12.3400").
    virtual void decimal(std::string_view text) = 0;
};

// The stream as JSON text, members in the order given.
class JsonTextSink final : public JsonSink {
public:
    void begin_object() override { w_.begin_object(); }
    void end_object() override { w_.end_object(); }
    void key(std::string_view k) override { w_.key(k); }
    void string(std::string_view s) override { w_.string(s); }
    void integer(int64_t v) override { w_.integer(v); }
    void decimal(std::string_view text) override { w_.number_text(text); }
    std::string take() { return w_.take(); }

private:
    JsonWriter w_;
};

}  // namespace ducache::core
