// A small JSON text writer for documents the core builds (ducache_dashboard,
// ducache_filter_options). Numbers are written as given (exact decimal text from numeric sums);
// the adapter turns the text into jsonb. Commas are placed automatically.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace ducache::core {

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
    void integer(int64_t v) { value_prefix(); out_ += std::to_string(v); }
    // Number text already in JSON form (e.g. a numeric sum "12.3400").
    void number_text(std::string_view t) { value_prefix(); out_ += t; }
    void real(double v)
    {
        value_prefix();
        char buf[40];
        std::snprintf(buf, sizeof buf, "%.15g", v);
        out_ += buf;
    }
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
