#include "core/dashboard_filters.hpp"

#include "core/error.hpp"
#include "core/error_text.hpp"

#include <string>

namespace ducache::core {

namespace {
[[noreturn]] void refuse(std::string detail)
{
    throw Error("22023", "invalid filters for ducache_dashboard", std::move(detail),
                "filters is an object with the optional fields userIds, modelIds, apiKeyIds and providerIds, "
                "each an array of strings.");
}
}  // namespace

FilterList &dashboard_filter_list(DashboardFilters &f, std::string_view field)
{
    if (field == "userIds")
        return f.cells.users;
    if (field == "modelIds")
        return f.cells.models;
    if (field == "apiKeyIds")
        return f.cells.keys;
    if (field == "providerIds")
        return f.providers;
    refuse("Unknown field " + quoted(field) + ".");
}

void throw_filters_not_object(ValueKind got)
{
    refuse(std::string("filters is ") + value_kind_name(got) + ", not an object.");
}

void throw_filter_not_array(std::string_view field, ValueKind got)
{
    refuse("Field " + quoted(field) + " is " + value_kind_name(got) + ", not an array of strings.");
}

void throw_filter_bad_element(std::string_view field, uint32_t index, ValueKind got)
{
    refuse("Element " + std::to_string(index + 1) + " of field " + quoted(field) + " is " + value_kind_name(got) +
           ", not a string.");
}

}  // namespace ducache::core
