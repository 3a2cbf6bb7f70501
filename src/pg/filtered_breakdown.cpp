#include "core/error.hpp"  // before any PostgreSQL header (pg/rollup_retry.hpp needs it)
#include "core/aggregator.hpp"
#include "core/entry_rules.hpp"
#include "core/cell_reducers.hpp"
#include "core/filters.hpp"

#include "pg/rollup_retry.hpp"
#include "pg/boundary.hpp"
#include "pg/coordinator_forward.hpp"
#include "pg/breakdown_output.hpp"
#include "pg/cache_scan.hpp"
#include "pg/cache_table.hpp"
#include "pg/cell_walker.hpp"
#include "pg/context_resource.hpp"
#include "pg/entry_reader.hpp"
#include "pg/filter_args.hpp"
#include "pg/filtered_breakdown.hpp"
#include "pg/identity.hpp"
#include "pg/range_aggregate.hpp"
#include "pg/rollup_access.hpp"
#include "pg/srf_output.hpp"

#include <algorithm>
#include <vector>

namespace ducache::pg {

namespace {

constexpr const char *kUsers = "aggregated_by_user";

// What the scans read: the range, and the rollups this call may use.
struct Range {
    const char *table;
    DateADT start, end;
    RollupAccess rollups;
};

// Scans the range once: f(row_context, users_jsonb, models_jsonb) per cached day or fresh
// month rollup (its aggregated_by_user and aggregated_by_model have the days' shape, every
// entry and cell with its "~days"). models_jsonb only when with_models.
template <typename F>
void scan_days(const Range &range, bool with_models, F &&f)
{
    const char *cols_sql = with_models ? "aggregated_by_user, aggregated_by_model" : "aggregated_by_user";
    CacheScan scan(range.table, cols_sql, cols_sql, with_models ? 2 : 1, range.start, range.end, range.rollups);
    ScanRow r;
    const Jsonb *cols[2] = {nullptr, nullptr};
    while (scan.next(r, cols)) {
        InputRow ctx{r.date, r.base, kUsers, nullptr, r.rollup};
        f(ctx, cols[0], cols[1]);
    }
    scan.finish();
}

void add_cell(core::Slot &slot, const Cell &c, const InputRow &day, std::string_view key)
{
    DayLabel row(day);
    slot.totals.add_or_throw(c.values.counts, c.values.cost_seen ? &c.values.cost : nullptr, kUsers, key, row);
    slot.totals.mark_days(day.day_index, c.values.days);
}

void users_rows(FunctionCallInfo fcinfo, const Range &range, const core::Filters &f,
                std::pmr::memory_resource *memory)
{
    core::KeyAggregator agg(memory), ids(memory);
    core::CellLevel level = f.level(false);
    scan_days(range, false, [&](const InputRow &day, const Jsonb *users, const Jsonb *) {
        EntryValues who;
        walk_cells(
            users, day, f, level,
            [&](const Cell &c) { add_cell(agg.find_or_insert(c.user.data(), c.user.size()), c, day, c.user); },
            [&](std::string_view user, const JsonbObjectView &entry) {
                // Identity of every user passing the user filter, latest day first (as 0.1).
                read_identity(entry, who);
                core::Slot &s = ids.find_or_insert(user.data(), user.size());
                auto keep = [&](std::string_view &dst, std::string_view src) {
                    if (!src.empty() && src != dst)
                        dst = ids.store(src.data(), src.size());
                };
                keep(s.totals.username, who.username);
                keep(s.totals.email, who.email);
                keep(s.totals.role, who.role);
            });
    });
    for (core::Slot &s : agg.slots()) {
        const core::Slot *id = ids.find(s.key, s.key_len);
        if (id) {
            s.totals.username = id->totals.username;
            s.totals.email = id->totals.email;
            s.totals.role = id->totals.role;
        }
    }
    apply_users_table(agg);
    bool appended = result_columns(fcinfo) > 12;
    Datum values[13];
    bool nulls[13];
    for (const core::Slot *s : agg.sorted()) {
        int col = put_breakdown_row(*s, true, values, nulls);
        if (appended)
            values[col] = offset_date_or_null(range.start, s->totals.last_day, nulls[col]);
        put_row(fcinfo, values, nulls);
    }
}

void model_rows(FunctionCallInfo fcinfo, const Range &range, const core::Filters &f,
                bool by_provider, std::pmr::memory_resource *memory)
{
    core::ModelUsage usage(memory);
    core::ProviderNames names(memory);
    core::CellLevel level = f.level(true);
    scan_days(range, true, [&](const InputRow &day, const Jsonb *users, const Jsonb *models) {
        note_providers(models, names);
        DayLabel row(day);
        walk_cells(users, day, f, level,
                   [&](const Cell &c) { usage.add(c.model, c.user, c.values, day.day_index, kUsers, row); });
    });
    int natts = result_columns(fcinfo);
    Datum values[11];
    bool nulls[11];
    if (!by_provider) {
        for (const core::Slot *s : usage.models.sorted()) {
            int col = put_breakdown_row(*s, false, values, nulls);
            if (natts > 9) {
                values[col] = text_datum(names.provider_of(s->key_view()));
                nulls[col++] = false;
                values[col] = Int32GetDatum(usage.users_of(*s));
                nulls[col++] = false;
            }
            put_row(fcinfo, values, nulls);
        }
        return;
    }
    core::KeyAggregator providers(memory);
    std::pmr::vector<int32_t> models_n(memory), users_n(memory);
    usage.group_by_provider(names, providers, models_n, users_n);
    for (const core::Slot *s : providers.sorted()) {
        int col = put_breakdown_row(*s, false, values, nulls);
        if (natts > 9) {
            size_t i = slot_index(providers, *s);
            values[col] = Int32GetDatum(models_n[i]);
            nulls[col++] = false;
            values[col] = Int32GetDatum(users_n[i]);
            nulls[col++] = false;
        }
        put_row(fcinfo, values, nulls);
    }
}

void user_model_rows(FunctionCallInfo fcinfo, const Range &range, const core::Filters &f,
                     std::pmr::memory_resource *memory)
{
    core::KeyAggregator pairs(memory);  // user\0model
    core::ProviderNames names(memory);
    std::pmr::string buf(memory);
    core::CellLevel level = f.level(true);
    scan_days(range, true, [&](const InputRow &day, const Jsonb *users, const Jsonb *models) {
        note_providers(models, names);
        walk_cells(users, day, f, level, [&](const Cell &c) {
            std::string_view k = core::pair_key(buf, c.user, c.model);
            add_cell(pairs.find_or_insert(k.data(), k.size()), c, day, c.user);
        });
    });
    // user_id, total_cost DESC, model (byte order).
    std::vector<const core::Slot *> rows;
    for (const core::Slot &s : pairs.slots())
        rows.push_back(&s);
    std::sort(rows.begin(), rows.end(), [](const core::Slot *a, const core::Slot *b) {
        auto [ua, ma] = core::split_pair(a->key_view());
        auto [ub, mb] = core::split_pair(b->key_view());
        if (ua != ub)
            return ua < ub;
        int c = a->totals.cost.compare(b->totals.cost);
        if (c != 0)
            return c > 0;
        return ma < mb;
    });
    Datum values[11];
    bool nulls[11] = {};
    for (const core::Slot *s : rows) {
        auto [user, model] = core::split_pair(s->key_view());
        values[0] = text_datum(user);
        values[1] = text_datum(model);
        values[2] = text_datum(names.provider_of(model));
        put_metric_columns(s->totals, values + 3);
        values[10] = Int32GetDatum(s->totals.active_days);
        put_row(fcinfo, values, nulls);
    }
}

void api_key_rows(FunctionCallInfo fcinfo, const Range &range, const core::Filters &f,
                  std::pmr::memory_resource *memory)
{
    core::KeyAggregator pairs(memory);  // alias\0user: byte order of the pair = (alias, user)
    std::pmr::vector<std::string_view> key_names(memory);
    std::pmr::vector<bool> has_name(memory);
    std::pmr::string buf(memory);
    scan_days(range, false, [&](const InputRow &day, const Jsonb *users, const Jsonb *) {
        walk_cells(users, day, f, core::CellLevel::key, [&](const Cell &c) {
            std::string_view k = core::pair_key(buf, c.key, c.user);
            core::Slot &s = pairs.find_or_insert(k.data(), k.size());
            add_cell(s, c, day, c.user);
            size_t i = slot_index(pairs, s);
            if (i >= key_names.size()) {
                key_names.resize(i + 1);
                has_name.resize(i + 1, false);
            }
            // key_name: the latest day's keyName (days come in date order).
            if (c.has_key_name && (!has_name[i] || key_names[i] != c.key_name)) {
                key_names[i] = pairs.store(c.key_name.data(), c.key_name.size());
                has_name[i] = true;
            }
        });
    });
    Datum values[12];
    bool nulls[12] = {};
    for (const core::Slot *s : pairs.sorted()) {
        auto [alias, user] = core::split_pair(s->key_view());
        size_t i = slot_index(pairs, *s);
        values[0] = text_datum(alias);
        nulls[1] = !(i < has_name.size() && has_name[i]);
        values[1] = nulls[1] ? (Datum)0 : text_datum(key_names[i]);
        values[2] = text_datum(user);
        put_metric_columns(s->totals, values + 3);
        values[10] = Int32GetDatum(s->totals.active_days);
        values[11] = offset_date_or_null(range.start, s->totals.last_day, nulls[11]);
        put_row(fcinfo, values, nulls);
    }
}

}  // namespace

void filtered_breakdown(FunctionCallInfo fcinfo, const char *table, DateADT start, DateADT end,
                        const core::Filters &filters, FilteredKind kind, std::pmr::memory_resource *memory)
{
    const Range range{table, start, end, rollup_access(fcinfo)};
    switch (kind) {
    case FilteredKind::user: users_rows(fcinfo, range, filters, memory); break;
    case FilteredKind::model: model_rows(fcinfo, range, filters, false, memory); break;
    case FilteredKind::provider: model_rows(fcinfo, range, filters, true, memory); break;
    case FilteredKind::user_model: user_model_rows(fcinfo, range, filters, memory); break;
    case FilteredKind::api_key: api_key_rows(fcinfo, range, filters, memory); break;
    }
}

namespace {

Datum drill_down(FunctionCallInfo fcinfo, FilteredKind kind)
{
    init_materialized_srf(fcinfo);
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
        return (Datum)0;  // a NULL date: no rows
    DateADT start = PG_GETARG_DATEADT(0), end = PG_GETARG_DATEADT(1);
    check_date_range(start, end);
    const char *table = cache_table_name(fcinfo);
    MemoryContext work = new_work_context("ducache drill-down");
    {
        ContextResource memory(work);
        core::Filters filters(&memory);
        read_filter_args(fcinfo, 2, filters);
        filtered_breakdown(fcinfo, table, start, end, filters, kind, &memory);
    }
    delete_context(work);
    return (Datum)0;
}

}  // namespace

}  // namespace ducache::pg

DUCACHE_FUNCTION(ducache_user_model_breakdown)
{
    Datum coordinated;  // on a coordinator: the shards' answer (docs/scale-out.md)
    if (ducache::pg::forward_to_coordinator(fcinfo, "ducache_coord_user_model_breakdown", 5, false, &coordinated))
        return coordinated;
    return ducache::pg::with_days_retry([&] { return ducache::pg::drill_down(fcinfo, ducache::pg::FilteredKind::user_model); });
}

DUCACHE_FUNCTION(ducache_api_key_breakdown)
{
    Datum coordinated;  // on a coordinator: the shards' answer (docs/scale-out.md)
    if (ducache::pg::forward_to_coordinator(fcinfo, "ducache_coord_api_key_breakdown", 5, false, &coordinated))
        return coordinated;
    return ducache::pg::with_days_retry([&] { return ducache::pg::drill_down(fcinfo, ducache::pg::FilteredKind::api_key); });
}
