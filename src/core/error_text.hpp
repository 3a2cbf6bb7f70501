// Pieces of the error messages that name the bad element: a quoted key or field, and the row
// an error happened on (built only when an error is raised, never on the hot path).
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include <string>
#include <string_view>

namespace ducache::core {

// "text" in double quotes, cut after 200 bytes with "..." (keys can be long).
std::string quoted(std::string_view s);

// Names the row being read ("2025-10-14", "input row 2", ...). A virtual call, but only on
// the way to an error.
class RowLabel {
public:
    virtual std::string text() const = 0;

protected:
    ~RowLabel() = default;
};

// A label that is already text.
class FixedLabel final : public RowLabel {
public:
    explicit FixedLabel(std::string text) : text_(std::move(text)) {}
    std::string text() const override { return text_; }

private:
    std::string text_;
};

}  // namespace ducache::core
