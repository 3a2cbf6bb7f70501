#include "core/entry_rules.hpp"

#include "core/error.hpp"

namespace ducache::core {

void throw_bad_value(const EntrySite &site, std::string_view field, const char *sqlstate, const std::string &problem)
{
    std::string row = site.row.text();
    throw Error(sqlstate,
                "invalid usage value on " + row + " for key " + quoted(site.key) + ", field " + quoted(field),
                std::string(site.column) + " on " + row + ", key " + quoted(site.key) + ", field " + quoted(field) +
                    ": " + problem + ".");
}

void throw_entry_not_object(const EntrySite &site, ValueKind kind)
{
    std::string row = site.row.text();
    throw Error("22023", "invalid usage entry on " + row + " for key " + quoted(site.key),
                std::string(site.column) + " on " + row + ", key " + quoted(site.key) + ": the entry is " +
                    value_kind_name(kind) + ", not an object.");
}

}  // namespace ducache::core
