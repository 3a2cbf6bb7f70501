// The core's ObjectView (core/object_view.hpp) over one JSONB object, read in place with
// pg/jsonb_view.hpp's walkers and pg/numeric_decode.hpp. Every call inlines into the core's
// entry rules (core/entry_rules.hpp): no virtual call per value.
// Include after the core headers (core/* refuses to be included after postgres.h).
#pragma once

#include "core/decimal.hpp"
#include "core/object_view.hpp"

#include "pg/jsonb_view.hpp"
#include "pg/numeric_decode.hpp"

#include <string_view>

namespace ducache::pg {

class JsonbObjectView {
public:
    explicit JsonbObjectView(const JsonbContainer *c) : walk_(c), vals_(walk_) {}
    const ObjectWalker &walker() const { return walk_; }  // for the per-layout plan cache

    uint32 size() const { return walk_.size(); }
    std::string_view key(uint32 i) const { return vals_.key(i); }
    bool is_null(uint32 i) const { return vals_.type(i) == JENTRY_ISNULL; }
    core::ValueKind kind(uint32 i) const
    {
        uint32 type = vals_.type(i);
        return type == JENTRY_ISCONTAINER ? kind_of(vals_.value(i)) : kind_of_scalar(type);
    }
    bool number(uint32 i, core::Decimal &out) const { return decode_numeric(vals_.value(i).data, out); }
    core::CountFast count(uint32 i, int64_t &out) const { return decode_numeric_count(vals_.value(i).data, out); }
    std::string_view text(uint32 i) const
    {
        JsonbItem v = vals_.value(i);
        return {v.data, v.len};
    }
    // Member i as stored (a container: its bytes).
    JsonbItem item(uint32 i) const { return vals_.value(i); }
    JsonbObjectView object(uint32 i) const
    {
        return JsonbObjectView(reinterpret_cast<const JsonbContainer *>(vals_.value(i).data));
    }

    // What a JSONB item is (a container is an object or an array, by its header).
    static core::ValueKind kind_of(const JsonbItem &it)
    {
        if (it.type == JENTRY_ISCONTAINER)
            return item_is_object(it) ? core::ValueKind::object : core::ValueKind::array;
        return kind_of_scalar(it.type);
    }

private:
    static core::ValueKind kind_of_scalar(uint32 type)
    {
        switch (type) {
        case JENTRY_ISNULL: return core::ValueKind::null;
        case JENTRY_ISSTRING: return core::ValueKind::string;
        case JENTRY_ISBOOL_TRUE:
        case JENTRY_ISBOOL_FALSE: return core::ValueKind::boolean;
        default: return core::ValueKind::number;
        }
    }

    ObjectWalker walk_;
    ObjectValues vals_;
};

}  // namespace ducache::pg
