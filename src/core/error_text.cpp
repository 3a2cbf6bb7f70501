#include "core/error_text.hpp"

namespace ducache::core {

std::string quoted(std::string_view s)
{
    std::string out = "\"";
    out.append(s.substr(0, 200));
    if (s.size() > 200)
        out += "...";
    out += '"';
    return out;
}

}  // namespace ducache::core
