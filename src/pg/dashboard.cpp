// ducache_dashboard(start, end, filters) -> jsonb: LiteMaaS's /analytics document. One scan
// over the comparison period and the range (each row read once); per day the usage cells are
// walked by pg/cell_walker.hpp and handed to core::DashboardBuilder, which writes the document.
#include "core/aggregator.hpp"
#include "core/entry_rules.hpp"
#include "core/number.hpp"
#include "core/dashboard.hpp"
#include "core/dashboard_filters.hpp"
#include "core/filters.hpp"
#include "core/entry_rules.hpp"

#include "pg/cache_table.hpp"
#include "pg/cell_walker.hpp"
#include "pg/boundary.hpp"
#include "pg/coordinator_forward.hpp"
#include "pg/cache_scan.hpp"
#include "pg/context_resource.hpp"
#include "pg/dashboard_filters.hpp"
#include "pg/entry_reader.hpp"
#include "pg/jsonb_text.hpp"
#include "pg/srf_output.hpp"
#include "pg/date_text.hpp"

#include <functional>
#include <map>

namespace {

using namespace ducache;
using namespace ducache::pg;

// Model -> its own "provider" string (latest day read wins), for the §5.3 rule.
class ModelProviders {
public:
    explicit ModelProviders(std::pmr::memory_resource *mr) : mr_(mr), own_(mr) {}
    // Reads the day's aggregated_by_model entries' own "provider" strings.
    void read_day(const Jsonb *models, const InputRow &day)
    {
        if (models == nullptr)
            return;
        if (!JsonContainerIsObject(&models->root) || JsonContainerIsScalar(&models->root))
            throw_bad_shape(day, "it is not a JSON object");
        ObjectWalker walk(&models->root);
        JsonbItem k, v;
        while (walk.next(k, v)) {
            if (!item_is_object(v))
                continue;
            JsonbObjectView entry(reinterpret_cast<const JsonbContainer *>(v.data));
            int32 at = find_member(entry, "provider");
            if (at < 0 || entry.kind(uint32(at)) != core::ValueKind::string)
                continue;
            std::string_view model(k.data, k.len), provider = entry.text(uint32(at));
            auto it = own_.find(model);
            if (it == own_.end())
                own_.emplace(std::pmr::string(model, mr_), std::pmr::string(provider, mr_));
            else if (it->second != provider)
                it->second.assign(provider);
        }
    }
    std::string_view of(std::string_view model) const
    {
        auto it = own_.find(model);
        return it == own_.end() ? core::provider_from_name(model) : std::string_view(it->second);
    }

private:
    std::pmr::memory_resource *mr_;
    std::pmr::map<std::pmr::string, std::pmr::string, std::less<>> own_;
};

bool nonempty_object(const Jsonb *j)
{
    return j != nullptr && JsonContainerIsObject(&j->root) && !JsonContainerIsScalar(&j->root) &&
           JsonContainerSize(&j->root) > 0;
}

}  // namespace

DUCACHE_FUNCTION(ducache_dashboard)
{
    ducache::pg::refuse_on_coordinator(fcinfo, "ducache_dashboard");  // not coordinator-aware yet
    DateADT start = PG_GETARG_DATEADT(0), end = PG_GETARG_DATEADT(1);
    const Jsonb *filters_doc = PG_GETARG_JSONB_P(2);
    check_date_range(start, end);
    const char *table = cache_table_name(fcinfo);
    // The comparison period: as many days as the range, ending the day before it.
    DateADT prev_start = start - (end - start + 1);
    const std::string start_text = date_text(start), end_text = date_text(end);
    MemoryContext caller = CurrentMemoryContext;
    MemoryContext work = new_work_context("ducache dashboard");
    Datum result;
    {
        ContextResource memory(work);
        core::DashboardFilters flt(&memory);
        read_dashboard_filters(filters_doc, flt);
        const core::Filters &cells = flt.cells;
        const bool filtered = flt.any();
        const core::CellLevel level = flt.level();
        core::DashboardOptions options;
        options.filtered = filtered;
        options.user_filter = cells.users.active();
        core::DashboardBuilder b(&memory, options);
        ModelProviders providers(&memory);
        auto provider_passes = [&](const Cell &c) {
            return !flt.providers.active() || flt.providers.contains(providers.of(c.model));
        };

        CacheScan scan(table, "aggregated_by_user, aggregated_by_model, aggregated_by_provider", 3, prev_start, end);
        DateADT date;
        const Jsonb *cols[3] = {};
        int day = 0;
        EntryValues ident;
        while (scan.next(date, cols)) {
            const bool current = date >= start;
            InputRow users_ctx{date, day, "aggregated_by_user"};
            InputRow models_ctx{date, day, "aggregated_by_model"};
            InputRow providers_ctx{date, day++, "aggregated_by_provider"};
            providers.read_day(cols[1], models_ctx);
            b.begin_day(day, date_text(date), current);
            if (!current) {  // the comparison period needs only the totals and the user count
                walk_cells(cols[0], users_ctx, cells, level, [&](const Cell &c) {
                    if (provider_passes(c))
                        b.user_usage(c.user, c.values);
                });
                continue;
            }
            // The passing usage (and, at model or key level, the model figures and key cells).
            walk_cells(
                cols[0], users_ctx, cells, level,
                [&](const Cell &c) {
                    if (!provider_passes(c))
                        return;
                    b.user_usage(c.user, c.values);
                    if (filtered && level != core::CellLevel::user)
                        b.model_usage(c.model, providers.of(c.model), c.values);
                    if (level == core::CellLevel::key)
                        b.key_usage(c.key, c.user, c.values);
                },
                [&](std::string_view user, const JsonbObjectView &entry) {
                    read_identity(entry, ident);
                    b.identity(user, ident);
                });
            // Only a user filter: the model figures come from the passing users' models (L7).
            if (filtered && level == core::CellLevel::user)
                walk_cells(cols[0], users_ctx, cells, core::CellLevel::model, [&](const Cell &c) {
                    b.model_usage(c.model, providers.of(c.model), c.values);
                });
            // The top API key (L5): key cells passing every filter.
            if (level != core::CellLevel::key)
                walk_cells(cols[0], users_ctx, cells, core::CellLevel::key, [&](const Cell &c) {
                    if (provider_passes(c))
                        b.key_usage(c.key, c.user, c.values);
                });
            if (filtered)
                continue;
            // Unfiltered model figures: aggregated_by_model as stored; providers from
            // aggregated_by_provider when it is a non-empty object, else derived (L3).
            const bool stored_providers = nonempty_object(cols[2]);
            for_each_entry(cols[1], models_ctx, false, [&](std::string_view model, const EntryValues &v, uint32) {
                std::string_view p = providers.of(model);
                b.model_usage(model, p, v);
                if (!stored_providers)
                    b.provider_usage(p, v);
            });
            if (stored_providers)
                for_each_entry(cols[2], providers_ctx, false,
                               [&](std::string_view p, const EntryValues &v, uint32) { b.provider_usage(p, v); });
        }
        scan.finish();
        result = jsonb_from_text(b.document(start_text, end_text), caller);
    }
    delete_context(work);
    PG_RETURN_DATUM(result);
}
