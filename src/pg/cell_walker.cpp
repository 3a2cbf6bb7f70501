#include "core/entry_rules.hpp"
#include "core/error.hpp"
#include "core/error_text.hpp"

#include "pg/cell_walker.hpp"

#include <cstring>

namespace ducache::pg {

std::string CellLabel::text() const
{
    std::string s = row_text(day_);
    if (has_model) {
        s += " (model " + core::quoted(model);
        if (has_key)
            s += ", api key " + core::quoted(key);
        s += ")";
    }
    return s;
}

int32 find_member(const JsonbObjectView &v, std::string_view name)
{
    // Keys lie back to back at the start of the data area, their JEntries hold the lengths.
    const ObjectWalker &w = v.walker();
    const JEntry *je = w.key_entries();
    const char *base = w.key_bytes();
    uint32 off = 0;
    for (uint32 i = 0; i < w.size(); i++) {
        uint32 start = off;
        JBE_ADVANCE_OFFSET(off, je[i]);
        if (off - start == name.size() && std::memcmp(base + start, name.data(), name.size()) == 0)
            return int32(i);
    }
    return -1;
}

void read_identity(const JsonbObjectView &entry, EntryValues &out)
{
    out.username = out.email = out.role = {};
    auto text = [&](const char *field, std::string_view &dst) {
        int32 i = find_member(entry, field);
        if (i >= 0 && entry.kind(uint32(i)) == core::ValueKind::string)
            dst = entry.text(uint32(i));
    };
    text("username", out.username);
    text("email", out.email);
    text("role", out.role);
}

const JsonbContainer *child_object(const JsonbObjectView &entry, std::string_view field, const core::EntrySite &site)
{
    int32 i = find_member(entry, field);
    if (i < 0 || entry.is_null(uint32(i)))
        return nullptr;
    core::ValueKind kind = entry.kind(uint32(i));
    if (kind != core::ValueKind::object)
        core::throw_bad_value(site, field, "22023", std::string(core::value_kind_name(kind)) + " is not an object");
    JsonbObjectView child = entry.object(uint32(i));
    return child.walker().container();
}

void throw_cell_not_object(const core::EntrySite &site, const JsonbItem &item)
{
    core::throw_entry_not_object(site, JsonbObjectView::kind_of(item));
}

}  // namespace ducache::pg
