// A small JSON text writer for documents the core builds (ducache_dashboard,
// ducache_filter_options, the rollups) as text: core::JsonTextSink's representation (the
// documents' text in unit tests and test hooks; the adapter builds their JSONB directly). Numbers
// are written as given (exact decimal text from numeric sums). Commas are placed automatically.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/error.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace ducache::core {

// A finite double as the documents print it ("%.15g": "97.5", "33.3333333333333", "1e-05"),
// in a buffer of its own. Not finite: core::Error 22003 (JSON has no number for it).
class RealText {
public:
    explicit RealText(double v)
    {
        if (!std::isfinite(v))
            throw Error("22003", "a JSON document cannot hold a number that is not finite");
        n_ = std::snprintf(buf_, sizeof buf_, "%.15g", v);
    }
    std::string_view view() const { return std::string_view(buf_, size_t(n_)); }

private:
    char buf_[40];
    int n_;
};

class JsonWriter {
public:
    void begin_object() { value_prefix(); out_ += '{'; first_.push_back(true); }
    void end_object() { out_ += '}'; first_.pop_back(); }
    void begin_array() { value_prefix(); out_ += '['; first_.push_back(true); }
    void end_array() { out_ += ']'; first_.pop_back(); }
    // Object member name; the next call writes its value.
    void key(std::string_view k)
    {
        comma();
        write_string(k);
        out_ += ':';
        after_key_ = true;
    }
    void string(std::string_view s) { value_prefix(); write_string(s); }
    // A string, or null when absent.
    void string_or_null(std::string_view s, bool present) { present ? string(s) : null(); }
    void null() { value_prefix(); out_ += "null"; }
    void boolean(bool b) { value_prefix(); out_ += b ? "true" : "false"; }
    void integer(int64_t v) { value_prefix(); out_ += std::to_string(v); }
    // Number text already in JSON form (e.g. a numeric sum "12.3400").
    void number_text(std::string_view t) { value_prefix(); out_ += t; }
    void real(double v) { number_text(RealText(v).view()); }
    const std::string &text() const { return out_; }
    std::string take() { return std::move(out_); }

private:
    void comma()
    {
        if (!first_.empty()) {
            if (!first_.back())
                out_ += ',';
            first_.back() = false;
        }
    }
    void value_prefix()
    {
        if (after_key_)
            after_key_ = false;
        else
            comma();
    }
    void write_string(std::string_view s)
    {
        out_ += '"';
        for (unsigned char c : s) {
            switch (c) {
            case '"': out_ += "\\\""; break;
            case '\\': out_ += "\\\\"; break;
            case '\n': out_ += "\\n"; break;
            case '\r': out_ += "\\r"; break;
            case '\t': out_ += "\\t"; break;
            case '\b': out_ += "\\b"; break;
            case '\f': out_ += "\\f"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out_ += buf;
                } else {
                    out_ += char(c);
                }
            }
        }
        out_ += '"';
    }

    std::string out_;
    std::vector<bool> first_;
    bool after_key_ = false;
};

}  // namespace ducache::core
