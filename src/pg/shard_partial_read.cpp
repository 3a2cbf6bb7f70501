// ducache_shard_read_partial(kind, start, end, user_ids, model_ids, api_key_aliases) -> bytea:
// on a shard, the binary partial (core/shard_partial.hpp) of a model, provider or period
// summary read ("summary", or "summary_top" with the top user and models), built
// in one scan by the same rules as the shard's own read (pg/breakdown.cpp unfiltered,
// pg/filtered_breakdown.cpp filtered), plus what a merge needs that the rows lose: day sets,
// the own provider field with its day, user (and model) sets. The SQL aggregate
// ducache_shard_partial_bin calls it in its final function (src/sql/61_shard_partial_bin.sql).
#include "core/error.hpp"  // before any PostgreSQL header (pg/rollup_retry.hpp needs it)
#include "core/aggregator.hpp"
#include "core/entry_rules.hpp"
#include "core/cell_reducers.hpp"
#include "core/filters.hpp"
#include "core/shard_partial.hpp"

#include "pg/rollup_retry.hpp"
#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/cache_table.hpp"
#include "pg/cell_walker.hpp"
#include "pg/context_resource.hpp"
#include "pg/date_text.hpp"
#include "pg/entry_reader.hpp"
#include "pg/filter_args.hpp"
#include "pg/jsonb_object_view.hpp"
#include "pg/range_aggregate.hpp"
#include "pg/rollup_access.hpp"

namespace ducache::pg {

namespace {

using core::ShardPartial;

// The day an own provider field counts for: a day row's day; in a rollup, the entry's latest
// day (the rollup keeps the month's latest own field).
int32 field_day(const InputRow &ctx, uint32 mask)
{
    return ctx.rollup && mask ? ctx.day_index + (31 - __builtin_clz(mask)) : ctx.day_index;
}

bool own_provider(const JsonbObjectView &entry, std::string_view &out)
{
    int32 at = find_member(entry, "provider");
    if (at < 0 || entry.kind(uint32(at)) != core::ValueKind::string)
        return false;
    out = entry.text(uint32(at));
    return true;
}

// The keys of an entry's "users" object (pg/breakdown.cpp's note_users).
void note_users(ShardPartial &p, size_t i, const JsonbObjectView &entry)
{
    int32 at = find_member(entry, "users");
    if (at < 0 || entry.kind(uint32(at)) != core::ValueKind::object)
        return;
    p.extra(i).has_users = true;
    JsonbObjectView u = entry.object(uint32(at));
    ObjectWalker walk(u.walker().container());
    JsonbItem k, v;
    p.begin_object_users(i);
    while (walk.next(k, v))
        p.add_object_user(i, std::string_view(k.data, k.len));
    p.end_object_users(i);
}

// Every entry of a breakdown object into p (accumulate_breakdown's rule).
void add_entries(ShardPartial &p, const Jsonb *obj, const InputRow &ctx)
{
    DayLabel row(ctx);
    for_each_entry(obj, ctx, false, [&](std::string_view key, const EntryValues &v, uint32) {
        p.add_usage(p.index_of(key), v, ctx.day_index, ctx.column, key, row);
    });
}

void models_unfiltered(ShardPartial &p, const char *table, DateADT start, DateADT end, const RollupAccess &ra)
{
    CacheScan scan(table, "aggregated_by_model", "aggregated_by_model", 1, start, end, ra);
    ScanRow r;
    const Jsonb *models = nullptr;
    while (scan.next(r, &models)) {
        InputRow ctx{r.date, r.base, "aggregated_by_model", nullptr, r.rollup};
        DayLabel row(ctx);
        for_each_entry_item(models, ctx, false, [&](std::string_view key, const EntryValues &v, uint32, const JsonbItem &item) {
            size_t i = p.index_of(key);
            p.add_usage(i, v, ctx.day_index, ctx.column, key, row);
            JsonbObjectView entry(reinterpret_cast<const JsonbContainer *>(item.data));
            std::string_view own;
            if (own_provider(entry, own))
                p.saw_field(i, field_day(ctx, v.days), own);
            note_users(p, i, entry);
        });
    }
    scan.finish();
}

void providers_unfiltered(ShardPartial &p, const char *table, DateADT start, DateADT end, const RollupAccess &ra)
{
    CacheScan scan(table, "aggregated_by_provider, aggregated_by_model", "aggregated_by_provider, providers_derived", 2,
                   start, end, ra);
    ScanRow r;
    const Jsonb *cols[2] = {nullptr, nullptr};
    while (scan.next(r, cols)) {
        if (r.rollup) {
            add_entries(p, cols[0], InputRow{r.date, r.base, "aggregated_by_provider", nullptr, true});
            InputRow ctx{r.date, r.base, "providers_derived", nullptr, true};
            DayLabel row(ctx);
            for_each_entry_item(cols[1], ctx, false, [&](std::string_view provider, const EntryValues &v, uint32,
                                                         const JsonbItem &item) {
                size_t i = p.index_of(provider);
                p.add_usage(i, v, ctx.day_index, ctx.column, provider, row);
                JsonbObjectView entry(reinterpret_cast<const JsonbContainer *>(item.data));
                int32 at = find_member(entry, "models");
                if (at >= 0 && entry.kind(uint32(at)) == core::ValueKind::object) {
                    JsonbObjectView models = entry.object(uint32(at));
                    for (uint32 m = 0; m < models.size(); m++)
                        p.add_model(i, models.key(m));
                }
                note_users(p, i, entry);
            });
            continue;
        }
        const Jsonb *stored = cols[0];
        // A non-empty aggregated_by_provider is read as it is; {} or NULL: derived (§5.3).
        if (stored && !(JsonContainerIsObject(&stored->root) && !JsonContainerIsScalar(&stored->root) &&
                        JsonContainerSize(&stored->root) == 0)) {
            add_entries(p, stored, InputRow{r.date, r.base, "aggregated_by_provider"});
            continue;
        }
        InputRow ctx{r.date, r.base, "aggregated_by_model"};
        DayLabel row(ctx);
        for_each_entry_item(cols[1], ctx, false, [&](std::string_view model, const EntryValues &v, uint32, const JsonbItem &item) {
            JsonbObjectView entry(reinterpret_cast<const JsonbContainer *>(item.data));
            std::string_view own;
            bool has = own_provider(entry, own);
            size_t i = p.index_of(core::provider_rule(model, has ? &own : nullptr));
            p.add_usage(i, v, ctx.day_index, ctx.column, model, row);
            p.add_model(i, model);
            note_users(p, i, entry);
        });
    }
    scan.finish();
}

// The own provider fields of a row's aggregated_by_model (pg/breakdown.cpp's note_providers).
void note_fields(ShardPartial &p, const Jsonb *models, const InputRow &ctx)
{
    if (models == nullptr || !JsonContainerIsObject(&models->root) || JsonContainerIsScalar(&models->root))
        return;
    ObjectWalker walk(&models->root);
    JsonbItem k, v;
    while (walk.next(k, v)) {
        if (!item_is_object(v))
            continue;
        JsonbObjectView view(reinterpret_cast<const JsonbContainer *>(v.data));
        std::string_view own;
        if (!own_provider(view, own))
            continue;
        std::string_view key(k.data, k.len);
        uint32 mask = 0;
        if (ctx.rollup) {
            DayLabel row(ctx);
            try {
                mask = read_days_mask(view, core::EntrySite{"aggregated_by_model", row, key});
            } catch (const core::Error &) {
                mask = 1u << 30;  // no usable mask: the month's end
            }
        }
        p.saw_field(p.index_of(key), field_day(ctx, mask), own);
    }
}

// Filtered: the passing cells by model, with their users (pg/filtered_breakdown.cpp).
void models_filtered(ShardPartial &p, const char *table, DateADT start, DateADT end, const RollupAccess &ra,
                     const core::Filters &f)
{
    const char *cols_sql = "aggregated_by_user, aggregated_by_model";
    CacheScan scan(table, cols_sql, cols_sql, 2, start, end, ra);
    core::CellLevel level = f.level(true);
    ScanRow r;
    const Jsonb *cols[2] = {nullptr, nullptr};
    while (scan.next(r, cols)) {
        InputRow ctx{r.date, r.base, "aggregated_by_user", nullptr, r.rollup};
        note_fields(p, cols[1], ctx);
        DayLabel row(ctx);
        walk_cells(cols[0], ctx, f, level, [&](const Cell &c) {
            size_t i = p.index_of(c.model);
            p.add_usage(i, c.values, ctx.day_index, ctx.column, c.model, row);
            p.add_user(i, c.user);
        });
    }
    scan.finish();
}

// ducache_period_summary's sums (pg/period_summary.cpp), with the cached days as bits and,
// with_top, the shard's top user and every model's sums (the top model is the largest sum of
// the shards' sums).
void summary(ShardPartial &p, const char *table, DateADT start, DateADT end, const RollupAccess &ra,
             const core::Filters &filters, bool with_top, std::pmr::memory_resource *memory)
{
    core::KeyAggregator users(memory), models(memory);
    ShardPartial::Summary &m = p.summary();
    CacheScan scan(table, "aggregated_by_user", "aggregated_by_user", 1, start, end, ra);
    ScanRow r;
    const Jsonb *value = nullptr;
    core::CellLevel level = filters.level(false), model_level = filters.level(true);
    while (scan.next(r, &value)) {
        m.cached.add(r.base, r.days);
        InputRow ctx{r.date, r.base, "aggregated_by_user", nullptr, r.rollup};
        if (!filters.any()) {
            accumulate_breakdown(users, value, ctx, false);
            continue;
        }
        DayLabel row(ctx);
        auto add = [&](core::KeyAggregator &agg, std::string_view key, const Cell &c) {
            core::Slot &s = agg.find_or_insert(key.data(), key.size());
            s.totals.add_or_throw(c.values.counts, c.values.cost_seen ? &c.values.cost : nullptr, ctx.column, c.user,
                                  row);
        };
        bool same_cells = level == model_level;
        walk_cells(value, ctx, filters, level, [&](const Cell &c) {
            add(users, c.user, c);
            if (with_top && same_cells)
                add(models, c.model, c);
        });
        if (with_top && !same_cells)
            walk_cells(value, ctx, filters, model_level, [&](const Cell &c) { add(models, c.model, c); });
    }
    scan.finish();
    core::FixedLabel where("the period " + date_text(start) + " to " + date_text(end));
    for (const core::Slot &s : users.slots()) {
        m.all.add_or_throw(s.totals.counts, nullptr, "the period's totals", s.key_view(), where);
        m.all.cost.add(s.totals.cost);
    }
    m.active_users = int64_t(users.size());
    if (!with_top)
        return;
    if (users.size() > 0) {
        const core::Slot *top = users.sorted()[0];
        p.offer_top(top->key_view(), top->totals.cost);
    }
    // Every model, also on a shard without users in the period: shard 0 holds home days' models.
    if (!filters.any())
        aggregate_range(table, "aggregated_by_model", start, end, ra, models, false);
    for (const core::Slot &s : models.slots())
        p.add_totals(p.index_of(s.key_view()), s.totals);
}

Datum read_partial(FunctionCallInfo fcinfo)
{
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
        throw core::Error("22004", "ducache_shard_read_partial needs a kind and both dates");
    std::string_view kind = pg_call([&] { return (const char *)text_to_cstring(PG_GETARG_TEXT_PP(0)); });
    DateADT start = PG_GETARG_DATEADT(1), end = PG_GETARG_DATEADT(2);
    check_date_range(start, end);
    const char *table = cache_table_name(fcinfo);
    bytea *out = nullptr;
    MemoryContext caller = CurrentMemoryContext;
    MemoryContext work = new_work_context("ducache shard partial");
    {
        ContextResource memory(work);
        core::Filters filters(&memory);
        read_filter_args(fcinfo, 3, filters);
        RollupAccess ra = rollup_access(fcinfo);
        bool provider = kind == "provider", with_top = kind == "summary_top";
        bool is_summary = with_top || kind == "summary";
        if (!provider && !is_summary && kind != "model")
            throw core::Error("22023", "unknown ducache binary shard partial kind \"" + std::string(kind) + "\"");
        // Filtered providers are the passing models summed by their (merged) provider: the
        // coordinator groups, so the shard sends models.
        ShardPartial p(is_summary                         ? core::PartialKind::summary
                       : provider && !filters.any()       ? core::PartialKind::provider
                                                          : core::PartialKind::model,
                       &memory);
        if (is_summary)
            summary(p, table, start, end, ra, filters, with_top, &memory);
        else if (filters.any())
            models_filtered(p, table, start, end, ra, filters);
        else if (provider)
            providers_unfiltered(p, table, start, end, ra);
        else
            models_unfiltered(p, table, start, end, ra);
        std::string bytes = p.encode();
        out = static_cast<bytea *>(palloc_or_throw(caller, VARHDRSZ + bytes.size(), "a shard's partial (bytea)"));
        SET_VARSIZE(out, VARHDRSZ + bytes.size());
        memcpy(VARDATA(out), bytes.data(), bytes.size());
    }
    delete_context(work);
    return PointerGetDatum(out);
}

}  // namespace

}  // namespace ducache::pg

DUCACHE_FUNCTION(ducache_shard_read_partial)
{
    return ducache::pg::with_days_retry([&] { return ducache::pg::read_partial(fcinfo); });
}

// The step function of ducache_shard_partial_bin (src/sql/60_scale_out.sql): the state is the
// request, kept from the first row on (the final function does the read). Called once per day.
DUCACHE_FUNCTION(ducache_shard_request_step)
{
    if (!PG_ARGISNULL(0))
        PG_RETURN_DATUM(PG_GETARG_DATUM(0));
    if (PG_ARGISNULL(2))
        PG_RETURN_NULL();
    PG_RETURN_DATUM(PG_GETARG_DATUM(2));
}
