// ducache_dashboard's call: one read of the range (pg/dashboard.cpp's read_dashboard) into a
// document, run again without user packs or without the top key's bounds when the first read
// asks for it, or the shards' partials merged on a coordinator.
#include "core/error.hpp"  // before any PostgreSQL header (pg/rollup_retry.hpp needs it)
#include "core/dashboard.hpp"
#include "core/dashboard_filters.hpp"
#include "core/entry_rules.hpp"     // pg/dashboard_top_key.hpp
#include "core/filter_options.hpp"  // pg/dashboard_read.hpp
#include "core/key_bounds.hpp"      // pg/dashboard_top_key.hpp

#include "pg/rollup_retry.hpp"
#include "pg/boundary.hpp"
#include "pg/coordinator_forward.hpp"
#include "pg/cache_scan.hpp"
#include "pg/context_resource.hpp"
#include "pg/dashboard_filters.hpp"
#include "pg/dashboard_read.hpp"
#include "pg/dashboard_top_key.hpp"
#include "pg/date_text.hpp"
#include "pg/jsonb_document.hpp"
#include "pg/settings.hpp"

#include <optional>
#include <string>

namespace {

using namespace ducache;
using namespace ducache::pg;

// One read and its document into result. with_bounds: the unfiltered range's top API key from
// per-user bounds (pg/dashboard_top_key.hpp); packs (with bounds only): the rollup rows' users
// from their user_pack. Not done when that asks for the call to be run again without packs
// (no_pack: a rollup row has none) or without bounds (redo); then nothing is returned: the
// next run's result or error is the call's.
enum class Once { done, no_pack, redo };

Once dashboard_once(FunctionCallInfo fcinfo, bool with_bounds, bool packs, Datum &result)
{
    DateADT start = PG_GETARG_DATEADT(0), end = PG_GETARG_DATEADT(1);
    const Jsonb *filters_doc = PG_GETARG_JSONB_P(2);
    check_date_range(start, end);
    const std::string start_text = date_text(start), end_text = date_text(end);
    MemoryContext caller = CurrentMemoryContext;
    MemoryContext work = new_work_context("ducache dashboard");
    Once done = Once::done;
    {
        ContextResource memory(work);
        core::DashboardFilters flt(&memory);
        read_dashboard_filters(filters_doc, flt);
        core::DashboardBuilder b(&memory, dashboard_options(flt));
        DashboardReadMode mode;
        std::optional<TopKeyRead> top;
        if (with_bounds && !flt.any()) {
            top.emplace(&memory);
            mode.top_key = &*top;
            mode.user_packs = packs;
        }
        try {
            read_dashboard(fcinfo, start, end, flt, b, mode);
        } catch (const TopKeyRead::Redo &) {
            done = Once::redo;
        } catch (const NoPack &) {
            done = Once::no_pack;
        } catch (const core::Error &) {
            if (!top || !top->read_any())
                throw;
            done = Once::redo;  // raised in another order than the rows': the full walk's own answer
        }
        if (done == Once::done)
            result = jsonb_document(caller, [&](core::JsonSink &out) { b.document(start_text, end_text, out); });
    }
    delete_context(work);
    return done;
}

Datum dashboard(FunctionCallInfo fcinfo)
{
    if (is_coordinator(fcinfo))  // the shards' partials, merged (pg/coordinator_dashboard.cpp)
        return coordinator_dashboard(fcinfo);
    Datum result = 0;
    // With packs when every rollup row has one (else without), with bounds unless they ask for
    // the full walk (TopKeyRead::Redo, or an error after a rollup row: then no packs either).
    Once once = dashboard_once(fcinfo, true, use_user_packs_setting(), result);
    if (once == Once::no_pack)
        once = dashboard_once(fcinfo, true, false, result);
    if (once != Once::done)
        dashboard_once(fcinfo, false, false, result);
    PG_RETURN_DATUM(result);
}

}  // namespace

// Through with_days_retry: an error met while summing rollups is the days' own (pg/rollup_retry.hpp).
DUCACHE_FUNCTION(ducache_dashboard)
{
    return ducache::pg::with_days_retry([&] { return dashboard(fcinfo); });
}
