// ducache_dashboard and ducache_filter_options on a coordinator (docs/scale-out.md), and the
// shard functions behind them. Each shard builds the one-node state over its own rows (the
// same reads as pg/dashboard.cpp and pg/filter_options.cpp) and returns it as a binary
// partial (core/dashboard_partial.hpp, core/filter_options_partial.cpp), through one aggregate
// per shard pushed down whole by postgres_fdw and run concurrently
// (pg/coordinator_gather.hpp, ducache_coord_gather's C). The coordinator
// only moves bytes: the core adds the partials and writes the document one node writes.
//
// Under a provider filter a shard must know every model's provider over the whole range (a
// model's latest own "provider" may sit on a day where only another shard's users used it), so
// the coordinator first asks every shard for its own providers (one more round trip, also
// concurrent), and hands the merged map to the shards with the request.
#include "core/error.hpp"  // before any PostgreSQL header (pg/rollup_retry.hpp needs it)
#include "core/dashboard.hpp"
#include "core/dashboard_filters.hpp"
#include "core/filter_options.hpp"
#include "core/json_writer.hpp"

#include "pg/rollup_retry.hpp"
#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/context_resource.hpp"
#include "pg/coordinator_gather.hpp"
#include "pg/dashboard_filters.hpp"
#include "pg/dashboard_read.hpp"
#include "pg/date_text.hpp"
#include "pg/jsonb_document.hpp"

extern "C" {
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace {

using namespace ducache;
using namespace ducache::pg;

// The non-NULL partials of every shard (pg/coordinator_gather.hpp): the shards asked at once;
// a shard that fails ends the call (class 08, naming it).
using Parts = ShardParts;

Parts shard_partials(FunctionCallInfo fcinfo, const char *request, DateADT from, DateADT to)
{
    Oid nsp = pg_call([&] { return get_func_namespace(fcinfo->flinfo->fn_oid); });
    Datum doc = pg_call([&] { return DirectFunctionCall1(jsonb_in, CStringGetDatum(request)); });
    return gather_shard_parts(nsp, doc, from, to);
}

// {"kind": .., "start": .., "end": .., "filters": .., "providers": ..} (filters / providers:
// JSON text, or absent).
std::string request(const char *kind, DateADT start, DateADT end, const char *filters, const std::string *providers)
{
    core::JsonWriter w;
    w.begin_object();
    w.key("kind"), w.string(kind);
    w.key("start"), w.string(date_text(start));
    w.key("end"), w.string(date_text(end));
    if (filters)
        w.key("filters"), w.number_text(filters);
    if (providers)
        w.key("providers"), w.number_text(*providers);
    w.end_object();
    return w.take();
}

Datum bytea_result(const std::string &bytes, MemoryContext cxt)
{
    auto *out = static_cast<bytea *>(palloc_or_throw(cxt, VARHDRSZ + bytes.size(), "a shard's dashboard partial (bytea)"));
    SET_VARSIZE(out, VARHDRSZ + bytes.size());
    memcpy(VARDATA(out), bytes.data(), bytes.size());
    return PointerGetDatum(out);
}

// ducache_dashboard_partial(start, end, filters, providers, providers_only) on a shard.
Datum dashboard_partial(FunctionCallInfo fcinfo)
{
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(4))
        PG_RETURN_NULL();  // strict but for providers (NULL: the shard's own)
    DateADT start = PG_GETARG_DATEADT(0), end = PG_GETARG_DATEADT(1);
    const Jsonb *filters_doc = PG_GETARG_JSONB_P(2);
    DashboardReadMode mode;
    mode.providers = PG_ARGISNULL(3) ? nullptr : PG_GETARG_JSONB_P(3);
    mode.providers_only = PG_GETARG_BOOL(4);
    check_date_range(start, end);
    MemoryContext caller = CurrentMemoryContext;
    MemoryContext work = new_work_context("ducache dashboard partial");
    Datum result;
    {
        ContextResource memory(work);
        core::DashboardFilters flt(&memory);
        read_dashboard_filters(filters_doc, flt);
        core::DashboardBuilder b(&memory, dashboard_options(flt));
        read_dashboard(fcinfo, start, end, flt, b, mode);
        result = bytea_result(b.partial(), caller);
    }
    delete_context(work);
    PG_RETURN_DATUM(result);
}

// ducache_filter_options_partial(start, end) on a shard.
Datum filter_options_partial(FunctionCallInfo fcinfo)
{
    DateADT start = PG_GETARG_DATEADT(0), end = PG_GETARG_DATEADT(1);
    check_date_range(start, end);
    MemoryContext caller = CurrentMemoryContext;
    MemoryContext work = new_work_context("ducache filter options partial");
    Datum result;
    {
        ContextResource memory(work);
        core::FilterOptionsBuilder b(&memory);
        read_filter_options(fcinfo, start, end, b);
        result = bytea_result(b.partial(), caller);
    }
    delete_context(work);
    PG_RETURN_DATUM(result);
}

}  // namespace

namespace ducache::pg {

Datum coordinator_dashboard(FunctionCallInfo fcinfo)
{
    DateADT start = PG_GETARG_DATEADT(0), end = PG_GETARG_DATEADT(1);
    const Jsonb *filters_doc = PG_GETARG_JSONB_P(2);
    check_date_range(start, end);
    DateADT prev_start = start - (end - start + 1);
    const char *filters_text =
        pg_call([&] { return JsonbToCString(nullptr, const_cast<JsonbContainer *>(&filters_doc->root), VARSIZE(filters_doc)); });
    MemoryContext caller = CurrentMemoryContext;
    MemoryContext work = new_work_context("ducache coordinator dashboard");
    Datum result;
    {
        ContextResource memory(work);
        core::DashboardFilters flt(&memory);
        read_dashboard_filters(filters_doc, flt);  // the local refusals, before any shard is asked
        core::DashboardBuilder b(&memory, dashboard_options(flt));
        std::string providers;
        if (flt.providers.active()) {  // the whole range's own providers first (see above)
            Parts own = shard_partials(fcinfo, request("dashboard_providers", start, end, filters_text, nullptr).c_str(),
                                       start, end);
            for (int i = 0; i < own.n; i++)
                b.merge_partial(VARDATA_ANY(own.p[i]), VARSIZE_ANY_EXHDR(own.p[i]));
            core::JsonWriter w;
            w.begin_object();
            b.for_each_own_provider([&](std::string_view m, std::string_view p) { w.key(m), w.string(p); });
            w.end_object();
            providers = w.take();
        }
        // The aggregate runs over the comparison period and the range: a shard with a row in
        // either has something to say.
        Parts parts = shard_partials(
            fcinfo, request("dashboard", start, end, filters_text, flt.providers.active() ? &providers : nullptr).c_str(),
            prev_start, end);
        for (int i = 0; i < parts.n; i++) {
            check_for_interrupts();
            b.merge_partial(VARDATA_ANY(parts.p[i]), VARSIZE_ANY_EXHDR(parts.p[i]));
        }
        const std::string start_text = date_text(start), end_text = date_text(end);
        result = jsonb_document(caller, [&](core::JsonSink &out) { b.document(start_text, end_text, out); });
    }
    delete_context(work);
    PG_RETURN_DATUM(result);
}

Datum coordinator_filter_options(FunctionCallInfo fcinfo)
{
    DateADT start = PG_GETARG_DATEADT(0), end = PG_GETARG_DATEADT(1);
    check_date_range(start, end);
    MemoryContext caller = CurrentMemoryContext;
    MemoryContext work = new_work_context("ducache coordinator filter options");
    Datum result;
    {
        ContextResource memory(work);
        core::FilterOptionsBuilder b(&memory);
        Parts parts = shard_partials(fcinfo, request("filter_options", start, end, nullptr, nullptr).c_str(), start, end);
        for (int i = 0; i < parts.n; i++) {
            check_for_interrupts();
            b.merge_partial(VARDATA_ANY(parts.p[i]), VARSIZE_ANY_EXHDR(parts.p[i]));
        }
        result = jsonb_document(caller, [&](core::JsonSink &out) { b.document(out); });
    }
    delete_context(work);
    PG_RETURN_DATUM(result);
}

}  // namespace ducache::pg

// Through with_days_retry, as the one-node calls: an error met in rollups is the days' own.
DUCACHE_FUNCTION(ducache_dashboard_partial)
{
    return ducache::pg::with_days_retry([&] { return dashboard_partial(fcinfo); });
}

DUCACHE_FUNCTION(ducache_filter_options_partial)
{
    return ducache::pg::with_days_retry([&] { return filter_options_partial(fcinfo); });
}
