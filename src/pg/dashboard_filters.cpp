// Reads ducache_dashboard's filters jsonb into core::DashboardFilters (rules and errors:
// core/dashboard_filters.*). The strings stay in the detoasted argument for the call.
#include "core/dashboard_filters.hpp"
#include "core/decimal.hpp"
#include "core/object_view.hpp"

#include "pg/dashboard_filters.hpp"
#include "pg/jsonb_object_view.hpp"

namespace ducache::pg {

namespace {

// Element i of an array container, in place.
JsonbItem array_element(const JsonbContainer *c, uint32 i)
{
    JsonbItem out;
    const char *base = reinterpret_cast<const char *>(&c->children[JsonContainerSize(c)]);
    uint32 start = getJsonbOffset(c, int(i));
    ObjectWalker::item(base, c->children[i], start, start + getJsonbLength(c, int(i)), out);
    return out;
}

}  // namespace

void read_dashboard_filters(const Jsonb *doc, core::DashboardFilters &out)
{
    const JsonbContainer *root = &doc->root;
    if (JsonContainerIsScalar(root))
        core::throw_filters_not_object(JsonbObjectView::kind_of(array_element(root, 0)));
    if (!JsonContainerIsObject(root))
        core::throw_filters_not_object(core::ValueKind::array);
    ObjectWalker walk(root);
    JsonbItem k, v;
    while (walk.next(k, v)) {
        std::string_view field(k.data, k.len);
        core::FilterList &list = core::dashboard_filter_list(out, field);
        core::ValueKind kind = JsonbObjectView::kind_of(v);
        if (kind != core::ValueKind::array)
            core::throw_filter_not_array(field, kind);
        const JsonbContainer *arr = reinterpret_cast<const JsonbContainer *>(v.data);
        uint32 n = JsonContainerSize(arr);
        for (uint32 i = 0; i < n; i++) {
            JsonbItem e = array_element(arr, i);
            if (e.type != JENTRY_ISSTRING)
                core::throw_filter_bad_element(field, i, JsonbObjectView::kind_of(e));
            list.add(std::string_view(e.data, e.len));
        }
    }
    out.seal();
}

}  // namespace ducache::pg
