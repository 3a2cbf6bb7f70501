// ducache_filter_options(start, end) -> jsonb: LiteMaaS's GET /filter-options document. The
// adapter only walks aggregated_by_model (model names, own "provider", users[U] entries with a
// username) and aggregated_by_user (identity); the document is core/filter_options.*'s.
// Whole months come from their fresh rollups (CONTRACT §7): model names and latest own
// providers as the days give them, and the identity facts core/rollup_identity.hpp keeps
// ("~named" users of a model, a user's "~listed" identity and "~seen").
#include "core/error.hpp"  // before any PostgreSQL header (pg/rollup_retry.hpp needs it)
#include "core/aggregator.hpp"
#include "core/entry_rules.hpp"
#include "core/number.hpp"
#include "core/decimal.hpp"
#include "core/filter_options.hpp"
#include "core/dashboard.hpp"
#include "core/dashboard_filters.hpp"
#include "core/filters.hpp"
#include "core/object_view.hpp"

#include "pg/rollup_retry.hpp"
#include "pg/rollup_access.hpp"
#include "pg/cache_table.hpp"
#include "pg/entry_reader.hpp"
#include "pg/jsonb_object_view.hpp"
#include "pg/boundary.hpp"
#include "pg/coordinator_forward.hpp"
#include "pg/dashboard_read.hpp"
#include "pg/cache_scan.hpp"
#include "pg/context_resource.hpp"
#include "pg/cell_walker.hpp"
#include "pg/jsonb_document.hpp"
#include "pg/srf_output.hpp"

namespace {

using namespace ducache;
using namespace ducache::pg;

// The string member `name` of an object, or false when absent or not a string.
bool string_member(const JsonbObjectView &v, std::string_view name, std::string_view &out)
{
    int32 at = find_member(v, name);
    if (at < 0 || v.kind(uint32(at)) != core::ValueKind::string)
        return false;
    out = v.text(uint32(at));
    return true;
}

const JsonbContainer *object_root(const Jsonb *j, const InputRow &day)
{
    if (j == nullptr)
        return nullptr;
    if (!JsonContainerIsObject(&j->root) || JsonContainerIsScalar(&j->root))
        throw_bad_shape(day, "it is not a JSON object");
    return &j->root;
}

void read_models(const Jsonb *models, const InputRow &day, core::FilterOptionsBuilder &b)
{
    const JsonbContainer *root = object_root(models, day);
    if (!root)
        return;
    ObjectWalker walk(root);
    JsonbItem k, v;
    while (walk.next(k, v)) {
        std::string_view model(k.data, k.len);
        if (!item_is_object(v)) {
            b.model(model, nullptr);
            continue;
        }
        JsonbObjectView entry(reinterpret_cast<const JsonbContainer *>(v.data));
        std::string_view provider;
        bool own = string_member(entry, "provider", provider);
        b.model(model, own ? &provider : nullptr);
        if (day.rollup) {  // the users a day listed with a username
            int32 at = find_member(entry, "~named");
            if (at < 0 || entry.kind(uint32(at)) != core::ValueKind::object)
                continue;
            JsonbObjectView named = entry.object(uint32(at));
            for (uint32 i = 0; i < named.size(); i++)
                b.user_seen(named.key(i));
            continue;
        }
        int32 users_at = find_member(entry, "users");
        if (users_at < 0 || entry.kind(uint32(users_at)) != core::ValueKind::object)
            continue;
        JsonbObjectView users = entry.object(uint32(users_at));
        for (uint32 i = 0; i < users.size(); i++) {
            std::string_view name;
            if (users.kind(i) == core::ValueKind::object && string_member(users.object(i), "username", name) &&
                !name.empty())
                b.user_seen(users.key(i));
        }
        check_for_interrupts();
    }
}

void read_users(const Jsonb *users, const InputRow &day, core::FilterOptionsBuilder &b)
{
    const JsonbContainer *root = object_root(users, day);
    if (!root)
        return;
    ObjectWalker walk(root);
    JsonbItem k, v;
    uint32 n = 0;
    while (walk.next(k, v)) {
        if ((++n & 4095) == 0)
            check_for_interrupts();
        if (!item_is_object(v))
            continue;
        std::string_view user(k.data, k.len);
        JsonbObjectView entry(reinterpret_cast<const JsonbContainer *>(v.data));
        if (day.rollup) {  // the latest listed identity of the month, and whether it was seen
            if (find_member(entry, "~seen") >= 0)
                b.user_seen(user);
            int32 at = find_member(entry, "~listed");
            if (at < 0 || entry.kind(uint32(at)) != core::ValueKind::object)
                continue;
            JsonbObjectView listed = entry.object(uint32(at));
            std::string_view name, email;
            bool has_name = string_member(listed, "username", name);
            bool has_email = string_member(listed, "email", email);
            b.identity(user, has_name ? &name : nullptr, has_email ? &email : nullptr);
            continue;
        }
        if (find_member(entry, "username") < 0)
            continue;
        std::string_view name, email;
        bool has_name = string_member(entry, "username", name);
        bool has_email = string_member(entry, "email", email);
        b.identity(user, has_name ? &name : nullptr, has_email ? &email : nullptr);
        if (has_name && !name.empty())
            b.user_seen(user);
    }
}

}  // namespace

void ducache::pg::read_filter_options(FunctionCallInfo fcinfo, DateADT start, DateADT end,
                                      core::FilterOptionsBuilder &b)
{
    CacheScan scan(cache_table_name(fcinfo), "aggregated_by_model, aggregated_by_user",
                   "aggregated_by_model, aggregated_by_user", 2, start, end, rollup_access(fcinfo));
    ScanRow r;
    const Jsonb *cols[2] = {};
    while (scan.next(r, cols)) {
        InputRow models_ctx{r.date, r.base, "aggregated_by_model", nullptr, r.rollup};
        InputRow users_ctx{r.date, r.base, "aggregated_by_user", nullptr, r.rollup};
        b.begin_day(r.date);  // for the coordinator's "latest wins" across shards
        read_models(cols[0], models_ctx, b);
        read_users(cols[1], users_ctx, b);
    }
    scan.finish();
}

namespace {

Datum filter_options(FunctionCallInfo fcinfo)
{
    if (is_coordinator(fcinfo))  // the shards' partials, merged (pg/coordinator_dashboard.cpp)
        return coordinator_filter_options(fcinfo);
    DateADT start = PG_GETARG_DATEADT(0), end = PG_GETARG_DATEADT(1);
    check_date_range(start, end);
    MemoryContext caller = CurrentMemoryContext;
    MemoryContext work = new_work_context("ducache filter options");
    Datum result;
    {
        ContextResource memory(work);
        core::FilterOptionsBuilder b(&memory);
        read_filter_options(fcinfo, start, end, b);
        result = jsonb_document(caller, [&](core::JsonSink &out) { b.document(out); });
    }
    delete_context(work);
    PG_RETURN_DATUM(result);
}

}  // namespace

// Through with_days_retry: an error met while reading rollups is the days' own (pg/rollup_retry.hpp).
DUCACHE_FUNCTION(ducache_filter_options)
{
    return ducache::pg::with_days_retry([&] { return filter_options(fcinfo); });
}
