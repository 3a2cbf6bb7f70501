// ducache_user_breakdown, ducache_model_breakdown, ducache_provider_breakdown: the unfiltered
// path (CONTRACT §3 plus the appended columns of §5.3); filtered calls go to
// filtered_breakdown.cpp.
#include "core/error.hpp"  // before any PostgreSQL header (pg/rollup_retry.hpp needs it)
#include "core/aggregator.hpp"
#include "core/breakdown_partial.hpp"
#include "core/entry_rules.hpp"
#include "core/cell_reducers.hpp"
#include "core/filters.hpp"
#include "core/row_layout.hpp"

#include "pg/rollup_retry.hpp"
#include "pg/cache_table.hpp"
#include "pg/boundary.hpp"
#include "pg/coordinator_forward.hpp"
#include "pg/breakdown_output.hpp"
#include "pg/cache_scan.hpp"
#include "pg/cell_walker.hpp"
#include "pg/context_resource.hpp"
#include "pg/entry_reader.hpp"
#include "pg/filter_args.hpp"
#include "pg/filtered_breakdown.hpp"
#include "pg/identity.hpp"
#include "pg/parallel_breakdown.hpp"
#include "pg/parallel_trace.hpp"
#include "pg/range_aggregate.hpp"
#include "pg/rollup_access.hpp"
#include "pg/srf_output.hpp"
#include "pg/tuple_writer.hpp"

namespace ducache::pg {

int put_breakdown_row(const core::Slot &s, bool identity, Datum *values, bool *nulls)
{
    int col = 0;
    values[col] = text_datum(s.key_view());
    nulls[col++] = false;
    if (identity) {
        for (std::string_view v : {s.totals.username, s.totals.email, s.totals.role}) {
            nulls[col] = v.empty();
            values[col++] = v.empty() ? (Datum)0 : text_datum(v);
        }
    }
    put_metric_columns(s.totals, values + col);
    for (int i = 0; i < core::kMetricCount; i++)
        nulls[col++] = false;
    values[col] = Int32GetDatum(s.totals.active_days);
    nulls[col++] = false;
    return col;
}

int put_breakdown_cells(const core::Slot &s, bool identity, RowWriter &row)
{
    int col = 0;
    row.set_text(col++, s.key_view());
    if (identity) {
        for (std::string_view v : {s.totals.username, s.totals.email, s.totals.role}) {
            if (!v.empty())
                row.set_text(col, v);
            col++;
        }
    }
    // The metric columns (core::kOutputColumns): four counts, the cost, two counts.
    static_assert(core::kOutputColumns[0] == core::kRequests && core::kOutputColumns[1] == core::kTotalTokens &&
                  core::kOutputColumns[2] == core::kPromptTokens && core::kOutputColumns[3] == core::kCompletionTokens &&
                  core::kOutputColumns[4] == core::kCost && core::kOutputColumns[5] == core::kSuccessfulRequests &&
                  core::kOutputColumns[6] == core::kFailedRequests && core::kSuccessfulRequests == 4 &&
                  core::kFailedRequests == 5 && core::kMetricCount == 7);
    row.set_int8s(col, s.totals.counts, 4);
    row.set_numeric(col + 4, s.totals.cost);
    row.set_int8s(col + 5, s.totals.counts + 4, 2);
    col += core::kMetricCount;
    row.set_fixed(col++, Int32GetDatum(s.totals.active_days));
    return col;
}

void note_providers(const Jsonb *models, core::ProviderNames &names)
{
    if (models == nullptr || !JsonContainerIsObject(&models->root) || JsonContainerIsScalar(&models->root))
        return;
    ObjectWalker walk(&models->root);
    JsonbItem k, v;
    while (walk.next(k, v)) {
        if (!item_is_object(v))
            continue;
        JsonbObjectView view(reinterpret_cast<const JsonbContainer *>(v.data));
        int32 at = find_member(view, "provider");
        if (at >= 0 && view.kind(uint32(at)) == core::ValueKind::string)
            names.saw(std::string_view(k.data, k.len), view.text(uint32(at)));
    }
}

namespace {

// Per-key extras of the model and provider breakdowns: distinct users (and models), and
// whether any entry had per-user detail (else users is NULL).
struct Extras {
    explicit Extras(std::pmr::memory_resource *mr) : users(mr), models(mr), has_users(mr), pairs(mr), buf(mr) {}
    std::pmr::vector<int32> users, models;
    std::pmr::vector<bool> has_users;
    core::KeyAggregator pairs;  // key\0user and key\0\0model (models), seen once each
    std::pmr::string buf;

    void grow(size_t i)
    {
        if (i >= users.size()) {
            users.resize(i + 1, 0);
            models.resize(i + 1, 0);
            has_users.resize(i + 1, false);
        }
    }
    bool first(std::string_view a, std::string_view b)
    {
        std::string_view k = core::pair_key(buf, a, b);
        core::Slot &s = pairs.find_or_insert(k.data(), k.size());
        if (s.totals.active_days)
            return false;
        s.totals.active_days = 1;
        return true;
    }
    // The entry's "users" object: its keys count as distinct users of slot i.
    void note_users(size_t i, std::string_view key, const JsonbObjectView &entry)
    {
        int32 at = find_member(entry, "users");
        if (at < 0 || entry.kind(uint32(at)) != core::ValueKind::object)
            return;
        has_users[i] = true;
        JsonbObjectView u = entry.object(uint32(at));
        ObjectWalker walk(u.walker().container());
        JsonbItem k, v;
        while (walk.next(k, v))
            if (first(key, std::string_view(k.data, k.len)))
                users[i]++;
    }
};

std::string_view own_provider(const JsonbObjectView &entry, bool &has)
{
    int32 at = find_member(entry, "provider");
    has = at >= 0 && entry.kind(uint32(at)) == core::ValueKind::string;
    return has ? entry.text(uint32(at)) : std::string_view();
}

void emit_with_extras(FunctionCallInfo fcinfo, const core::KeyAggregator &agg, const Extras &x, bool model_kind,
                      const core::ProviderNames &names, std::pmr::memory_resource *memory)
{
    bool appended = result_columns(fcinfo) > 9;
    RowWriter row(fcinfo, memory);
    uint32 n = 0;
    for (const core::Slot *s : agg.sorted()) {
        if ((++n & 1023) == 0)
            check_for_interrupts();
        int col = put_breakdown_cells(*s, false, row);
        if (appended) {
            size_t i = slot_index(agg, *s);
            bool has = i < x.users.size();
            if (model_kind)
                row.set_text(col++, names.provider_of(s->key_view()));
            else if (has && x.models[i] != 0)
                row.set_fixed(col++, Int32GetDatum(x.models[i]));
            else
                col++;
            if (has && x.has_users[i])
                row.set_fixed(col++, Int32GetDatum(x.users[i]));
        }
        row.put();
    }
    row.finish();
}

void put_user_rows(FunctionCallInfo fcinfo, core::KeyAggregator &agg, DateADT start, bool in_parallel,
                   std::pmr::memory_resource *memory);

void user_breakdown(FunctionCallInfo fcinfo, const char *table, DateADT start, DateADT end,
                    std::pmr::memory_resource *memory)
{
    RollupAccess rollups = rollup_access(fcinfo);
    core::BreakdownPartial parallel(memory);
    core::KeyAggregator serial(memory);
    struct Output {
        FunctionCallInfo fcinfo;
        DateADT start;
        std::pmr::memory_resource *memory;
    } out{fcinfo, start, memory};
    // With workers the output runs in the partial query's final function, while the executor
    // waits for the workers to exit (pg/parallel_breakdown.hpp).
    PartialEmit emit;
    emit.ctx = &out;
    emit.fn = [](void *ctx, core::BreakdownPartial &p) {
        auto *o = static_cast<Output *>(ctx);
        put_user_rows(o->fcinfo, p.agg, o->start, true, o->memory);
    };
    bool in_parallel = parallel_user_breakdown(fcinfo, table, start, end, rollups, parallel, &emit);
    if (in_parallel && emit.emitted)
        return;
    if (!in_parallel)
        aggregate_range(table, "aggregated_by_user", start, end, rollups, serial, true);
    put_user_rows(fcinfo, in_parallel ? parallel.agg : serial, start, in_parallel, memory);
}

// The user breakdown's rows: identities from the users table, then every key by cost.
void put_user_rows(FunctionCallInfo fcinfo, core::KeyAggregator &agg, DateADT start, bool in_parallel,
                   std::pmr::memory_resource *memory)
{
    apply_users_table(agg);
    if (in_parallel)
        trace_parallel("users applied");
    bool appended = result_columns(fcinfo) > 12;
    RowWriter row(fcinfo, memory);
    const std::vector<const core::Slot *> order = agg.sorted();
    const size_t count = order.size();
    uint32 n = 0;
    for (size_t i = 0; i < count; i++) {
        // The slots come in cost order, i.e. scattered over ~2 MB for 10,000 keys: fetch the
        // lines of the slot 8 rows ahead and the key bytes of the one 4 ahead (its slot's first
        // line fetched 4 rows ago) while this row is written (round 14 of issue 13).
        if (i + 8 < count) {
            const char *ahead = reinterpret_cast<const char *>(order[i + 8]);
            for (size_t b = 0; b < sizeof(core::Slot); b += 64)
                __builtin_prefetch(ahead + b);
            __builtin_prefetch(ahead + sizeof(core::Slot) - 1);
        }
        if (i + 4 < count) {
            const core::Slot *near = order[i + 4];
            __builtin_prefetch(near->key);
            // Identity from the users table sits in the arena in the table's row order.
            __builtin_prefetch(near->totals.username.data());
            __builtin_prefetch(near->totals.email.data());
            __builtin_prefetch(near->totals.role.data());
        }
        const core::Slot *s = order[i];
        if ((++n & 1023) == 0)
            check_for_interrupts();
        int col = put_breakdown_cells(*s, true, row);
        if (appended && s->totals.last_day >= 0)
            row.set_fixed(col, DateADTGetDatum(start + s->totals.last_day));
        row.put();
    }
    row.finish();
    if (in_parallel)
        trace_parallel("output end", n);
}

void model_breakdown(FunctionCallInfo fcinfo, const char *table, DateADT start, DateADT end,
                     std::pmr::memory_resource *memory)
{
    core::KeyAggregator agg(memory);
    core::ProviderNames names(memory);
    Extras x(memory);
    // A rollup's aggregated_by_model has the days' shape: provider (the latest own one),
    // users (the union of the days' keys), "~days".
    CacheScan scan(table, "aggregated_by_model", "aggregated_by_model", 1, start, end, rollup_access(fcinfo));
    ScanRow r;
    const Jsonb *models = nullptr;
    while (scan.next(r, &models)) {
        InputRow ctx{r.date, r.base, "aggregated_by_model", nullptr, r.rollup};
        DayLabel row(ctx);
        for_each_entry_item(models, ctx, false, [&](std::string_view key, const EntryValues &v, uint32 pos, const JsonbItem &item) {
            core::Slot &slot = agg.find_or_insert_at(key.data(), key.size(), pos);
            slot.totals.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, ctx.column, key, row);
            slot.totals.mark_days(ctx.day_index, v.days);
            size_t i = slot_index(agg, slot);
            x.grow(i);
            JsonbObjectView entry(reinterpret_cast<const JsonbContainer *>(item.data));
            bool has;
            std::string_view p = own_provider(entry, has);
            if (has)
                names.saw(key, p);
            x.note_users(i, key, entry);
        });
    }
    scan.finish();
    emit_with_extras(fcinfo, agg, x, true, names, memory);
}

void provider_breakdown(FunctionCallInfo fcinfo, const char *table, DateADT start, DateADT end,
                        std::pmr::memory_resource *memory)
{
    core::KeyAggregator agg(memory);
    core::ProviderNames names(memory);
    Extras x(memory);
    // A rollup row: aggregated_by_provider summed over the days that had a non-empty one, and
    // providers_derived, what the other days derive (with their models and users).
    CacheScan scan(table, "aggregated_by_provider, aggregated_by_model", "aggregated_by_provider, providers_derived", 2,
                   start, end, rollup_access(fcinfo));
    ScanRow r;
    const Jsonb *cols[2] = {nullptr, nullptr};
    std::pmr::string model_key(memory);
    // Models as pairs provider\0\0model: no user id starts with NUL, so they never collide
    // with the provider\0user pairs of note_users.
    auto note_model = [&](size_t i, std::string_view provider, std::string_view model) {
        model_key.assign(1, '\0');
        model_key.append(model.data(), model.size());
        if (x.first(provider, model_key))
            x.models[i]++;
    };
    while (scan.next(r, cols)) {
        if (r.rollup) {
            InputRow stored_ctx{r.date, r.base, "aggregated_by_provider", nullptr, true};
            accumulate_breakdown(agg, cols[0], stored_ctx, false);
            InputRow ctx{r.date, r.base, "providers_derived", nullptr, true};
            DayLabel row(ctx);
            for_each_entry_item(cols[1], ctx, false, [&](std::string_view provider, const EntryValues &v, uint32,
                                                         const JsonbItem &item) {
                core::Slot &slot = agg.find_or_insert(provider.data(), provider.size());
                slot.totals.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, ctx.column, provider, row);
                slot.totals.mark_days(ctx.day_index, v.days);
                size_t i = slot_index(agg, slot);
                x.grow(i);
                JsonbObjectView entry(reinterpret_cast<const JsonbContainer *>(item.data));
                int32 at = find_member(entry, "models");
                if (at >= 0 && entry.kind(uint32(at)) == core::ValueKind::object) {
                    JsonbObjectView models = entry.object(uint32(at));
                    for (uint32 m = 0; m < models.size(); m++)
                        note_model(i, provider, models.key(m));
                }
                x.note_users(i, provider, entry);
            });
            continue;
        }
        const DateADT date = r.date;
        const int32 index = r.base;
        const Jsonb *stored = cols[0];
        // A non-empty aggregated_by_provider is read as it is (a non-object is an error there);
        // {} or NULL: the day's providers come from aggregated_by_model by the §5.3 rule.
        if (stored && !(JsonContainerIsObject(&stored->root) && !JsonContainerIsScalar(&stored->root) &&
                        JsonContainerSize(&stored->root) == 0)) {
            InputRow ctx{date, index, "aggregated_by_provider"};
            accumulate_breakdown(agg, stored, ctx, false);
            continue;
        }
        InputRow ctx{date, index, "aggregated_by_model"};
        DayLabel row(ctx);
        for_each_entry_item(cols[1], ctx, false, [&](std::string_view model, const EntryValues &v, uint32, const JsonbItem &item) {
            JsonbObjectView entry(reinterpret_cast<const JsonbContainer *>(item.data));
            bool has;
            std::string_view own = own_provider(entry, has);
            std::string_view provider = core::provider_rule(model, has ? &own : nullptr);
            core::Slot &slot = agg.find_or_insert(provider.data(), provider.size());
            slot.totals.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, ctx.column, model, row);
            slot.totals.mark_day(ctx.day_index);
            size_t i = slot_index(agg, slot);
            x.grow(i);
            note_model(i, provider, model);
            x.note_users(i, provider, entry);
        });
    }
    scan.finish();
    emit_with_extras(fcinfo, agg, x, false, names, memory);
}

enum class Kind { user, model, provider };

Datum breakdown(FunctionCallInfo fcinfo, Kind kind)
{
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) {
        init_materialized_srf(fcinfo);  // a NULL date: no rows (as the STRICT 0.1 function)
        return (Datum)0;
    }
    DateADT start = PG_GETARG_DATEADT(0), end = PG_GETARG_DATEADT(1);
    check_date_range(start, end);
    init_materialized_srf(fcinfo);
    const char *table = cache_table_name(fcinfo);

    MemoryContext work = new_work_context("ducache breakdown");
    {
        ContextResource memory(work);
        core::Filters filters(&memory);
        read_filter_args(fcinfo, 2, filters);
        if (filters.any()) {
            FilteredKind fk = kind == Kind::user ? FilteredKind::user
                              : kind == Kind::model ? FilteredKind::model : FilteredKind::provider;
            filtered_breakdown(fcinfo, table, start, end, filters, fk, &memory);
        } else if (kind == Kind::user) {
            user_breakdown(fcinfo, table, start, end, &memory);
        } else if (kind == Kind::model) {
            model_breakdown(fcinfo, table, start, end, &memory);
        } else {
            provider_breakdown(fcinfo, table, start, end, &memory);
        }
    }
    delete_context(work);
    return (Datum)0;
}

}  // namespace

}  // namespace ducache::pg

using ducache::pg::breakdown;
using ducache::pg::Kind;

DUCACHE_FUNCTION(ducache_user_breakdown)
{
    Datum coordinated;  // on a coordinator: the shards' answer (docs/scale-out.md)
    if (ducache::pg::forward_to_coordinator(fcinfo, "ducache_coord_user_breakdown", 5, false, &coordinated))
        return coordinated;
    return ducache::pg::with_days_retry([&] { return breakdown(fcinfo, Kind::user); });
}

DUCACHE_FUNCTION(ducache_model_breakdown)
{
    Datum coordinated;  // on a coordinator: the shards' answer (docs/scale-out.md)
    if (ducache::pg::forward_to_coordinator(fcinfo, "ducache_coord_model_breakdown", 5, false, &coordinated))
        return coordinated;
    return ducache::pg::with_days_retry([&] { return breakdown(fcinfo, Kind::model); });
}

DUCACHE_FUNCTION(ducache_provider_breakdown)
{
    Datum coordinated;  // on a coordinator: the shards' answer (docs/scale-out.md)
    if (ducache::pg::forward_to_coordinator(fcinfo, "ducache_coord_provider_breakdown", 5, false, &coordinated))
        return coordinated;
    return ducache::pg::with_days_retry([&] { return breakdown(fcinfo, Kind::provider); });
}
