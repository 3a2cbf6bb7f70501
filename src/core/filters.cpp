#include "core/filters.hpp"

#include <algorithm>

namespace ducache::core {

void FilterList::seal()
{
    std::sort(items_.begin(), items_.end());
    items_.erase(std::unique(items_.begin(), items_.end()), items_.end());
}

bool FilterList::contains(std::string_view s) const
{
    if (items_.empty())
        return true;
    if (items_.size() <= 4) {  // the usual case: a few ids, compared directly
        for (std::string_view i : items_)
            if (i == s)
                return true;
        return false;
    }
    return std::binary_search(items_.begin(), items_.end(), s);
}

std::string_view provider_from_name(std::string_view model)
{
    size_t slash = model.find('/');
    if (slash != std::string_view::npos)
        return model.substr(0, slash);
    auto starts = [&](std::string_view p) { return model.substr(0, p.size()) == p; };
    if (starts("gpt"))
        return "openai";
    if (starts("claude"))
        return "anthropic";
    if (starts("gemini"))
        return "google";
    return "unknown";
}

}  // namespace ducache::core
