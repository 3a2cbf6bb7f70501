// read_dashboard(): the reading half of ducache_dashboard(start, end, filters) -> jsonb,
// LiteMaaS's /analytics document (the call itself: pg/dashboard_call.cpp). One scan per period
// (the comparison period, then the range: both in the statement's snapshot; an unfiltered
// range's rollup key_totals are read by a second scan of the range in the same snapshot,
// pg/dashboard_top_key.hpp); per row the usage cells are walked by pg/cell_walker.hpp and
// handed to core::DashboardBuilder, which writes the document.
//
// Rollups (CONTRACT §7): each whole month inside a period is read from its fresh rollup (user
// entries with their "~identity", aggregated_by_model, the stored providers, models_unprovided
// and the "daily" series) — except the range of a filtered call, read from the days: its daily
// series need each day's passing cells, which a rollup does not keep per day. (A filtered
// call's comparison period needs only the passing totals and users: rollups serve it.)
//
// The days no fresh month or block covers are read from their fresh day projections (one-day
// rollups' small columns, docs/rollups.md "Day projections") when the scan asks only for their
// columns: the unfiltered range, and the comparison period at the user level.
//
// A model's provider is one for the whole document: its latest own "provider" string in the
// range, else the name rule (core/dashboard.hpp). A provider filter needs it before the first
// cell is read, so with providerIds the range's aggregated_by_model is read first for it.
#include "core/error.hpp"  // before any PostgreSQL header (pg/rollup_retry.hpp needs it)
#include "core/aggregator.hpp"
#include "core/dashboard.hpp"
#include "core/dashboard_filters.hpp"
#include "core/entry_rules.hpp"
#include "core/filters.hpp"
#include "core/filter_options.hpp"
#include "core/key_bounds.hpp"  // pg/dashboard_top_key.hpp
#include "core/user_pack.hpp"
#include "core/user_directory.hpp"

#include "pg/rollup_retry.hpp"
#include "pg/boundary.hpp"
#include "pg/coordinator_forward.hpp"
#include "pg/cache_scan.hpp"
#include "pg/cache_table.hpp"
#include "pg/cell_walker.hpp"
#include "pg/context_resource.hpp"
#include "pg/dashboard_filters.hpp"
#include "pg/dashboard_read.hpp"
#include "pg/dashboard_rollup_columns.hpp"
#include "pg/dashboard_top_key.hpp"
#include "pg/dashboard_user_pack.hpp"
#include "pg/date_text.hpp"
#include "pg/entry_reader.hpp"
#include "pg/jsonb_document.hpp"
#include "pg/rollup_access.hpp"
#include "pg/settings.hpp"

#include <optional>
#include <vector>

namespace {

using namespace ducache;
using namespace ducache::pg;

// f(model, provider, day) for every aggregated_by_model entry with an own string "provider" (a
// day's or, in a rollup, the month's latest), day: latest_day(row).
template <typename F>
void own_providers(const Jsonb *models, const InputRow &row, DateADT day, F &&f)
{
    if (models == nullptr)
        return;
    if (!JsonContainerIsObject(&models->root) || JsonContainerIsScalar(&models->root))
        throw_bad_shape(row, "it is not a JSON object");
    ObjectWalker walk(&models->root);
    JsonbItem k, v;
    while (walk.next(k, v)) {
        if (!item_is_object(v))
            continue;
        JsonbObjectView entry(reinterpret_cast<const JsonbContainer *>(v.data));
        int32 at = find_member(entry, "provider");
        if (at >= 0 && entry.kind(uint32(at)) == core::ValueKind::string)
            f(std::string_view(k.data, k.len), entry.text(uint32(at)), day);
    }
}

// The day a row's own providers are "latest" as of: a day row's date; a rollup's (month, block or
// day projection: their date is the month's first day) last cached day. Rows come in date order
// and never overlap, so the latest row that names a provider wins, as over the days.
DateADT latest_day(const ScanRow &r)
{
    return r.rollup && r.days != 0 ? r.date + (31 - __builtin_clz(r.days)) : r.date;
}

// f(model, provider) for every member of the coordinator's {"model": "provider"} object.
template <typename F>
void for_each_string_member(const Jsonb *doc, const InputRow &ctx, F &&f)
{
    if (!JsonContainerIsObject(&doc->root) || JsonContainerIsScalar(&doc->root))
        throw_bad_shape(ctx, "it is not a JSON object");
    JsonbObjectView view(&doc->root);
    for (uint32 i = 0; i < view.size(); i++) {
        if (view.kind(i) != core::ValueKind::string)
            throw_bad_shape(ctx, "a provider is not a string");
        f(view.key(i), view.text(i));
    }
}

bool nonempty_object(const Jsonb *j)
{
    return j != nullptr && JsonContainerIsObject(&j->root) && !JsonContainerIsScalar(&j->root) &&
           JsonContainerSize(&j->root) > 0;
}

}  // namespace

namespace ducache::pg {

void read_dashboard(FunctionCallInfo fcinfo, DateADT start, DateADT end, const core::DashboardFilters &flt,
                    core::DashboardBuilder &b, const DashboardReadMode &mode)
{
    const char *table = cache_table_name(fcinfo);
    // The comparison period: as many days as the range, ending the day before it.
    DateADT prev_start = start - (end - start + 1);
    const core::Filters &cells = flt.cells;
    const bool filtered = flt.any();
    const core::CellLevel level = flt.level();
    const RollupAccess access = rollup_access(fcinfo);
    auto note_provider = [&](std::string_view m, std::string_view p, DateADT day) { b.own_provider(m, p, day); };
    // The models' providers first when a provider filter needs them (see above), or when
    // they are all that is asked (a shard, for its coordinator); or given by the coordinator.
    const bool providers_first = flt.providers.active() || mode.providers_only;
    if (mode.providers != nullptr) {
        InputRow ctx{start, 0, "providers", "the coordinator's request", false};
        for_each_string_member(mode.providers, ctx, [&](std::string_view m, std::string_view p) {
            b.own_provider(m, p);
        });
    } else if (providers_first) {
        CacheScan scan(table, "aggregated_by_model", "model_totals", 1, start, end, access);
        ScanRow r;
        const Jsonb *models = nullptr;
        while (scan.next(r, &models))
            own_providers(models, InputRow{r.date, r.base, "aggregated_by_model", nullptr, r.rollup}, latest_day(r),
                          note_provider);
        scan.finish();
    }
    if (mode.providers_only)
        return;
    auto provider_passes = [&](const Cell &c) {
        return !flt.providers.active() || flt.providers.contains(b.provider_of(c.model));
    };

    // The days no fresh month or block covers: their day projections where fresh (the scans
    // below ask only for columns ducache_rollup_days has: the range unfiltered, the comparison
    // period at the user level).
    RollupAccess range_access = filtered ? RollupAccess() : access;
    range_access.day_projections = true;
    RollupAccess previous_access = access;
    previous_access.day_projections = level == core::CellLevel::user;
    EntryValues ident;
    // The rollup rows' users from their packs (mode.user_packs: the one-node unfiltered call).
    const bool packs = mode.user_packs && !filtered && mode.top_key != nullptr;
    PackRow pack(CurrentMemoryContext);
    const bool directory = packs && use_user_directory_setting();
    for (const bool current : {false, true}) {
        // Days: the three documents. Rollups (unfiltered): the derived columns of
        // pg/rollup_derived.cpp in their place (user_totals: the users without their cells,
        // model_totals: the models without their user sets), aggregated_by_provider,
        // models_unprovided, daily, and key_totals for the top API key: a fraction of the bytes
        // to detoast and of the entries to walk.
        // The comparison period: only the users (and a day's models, checked as in the range);
        // at the user level a rollup's user_totals.
        // With the top key from bounds (top: pg/dashboard_top_key.hpp) the range's key_totals
        // is read after this scan, by top->finish(), so this scan does not detoast it.
        TopKeyRead *const top = current && !filtered ? mode.top_key : nullptr;
        const Jsonb *cols[7] = {};
        CacheScan scan = packs
            ? (current ? CacheScan(table,
                                   "aggregated_by_user, aggregated_by_model, aggregated_by_provider, "
                                   "NULL::pg_catalog.jsonb, NULL::pg_catalog.jsonb, NULL::pg_catalog.jsonb, "
                                   "NULL::pg_catalog.bytea",
                                   "NULL::pg_catalog.jsonb, model_totals, aggregated_by_provider, models_unprovided, "
                                   "daily, NULL::pg_catalog.jsonb, user_pack",
                                   7, start, end, range_access, 1)
                       : CacheScan(table, "aggregated_by_user, aggregated_by_model, NULL::pg_catalog.bytea",
                                   "NULL::pg_catalog.jsonb, NULL::pg_catalog.jsonb, user_pack", 3, prev_start,
                                   start - 1, previous_access, 1))
            : current
            ? CacheScan(table,
                        "aggregated_by_user, aggregated_by_model, aggregated_by_provider, NULL::pg_catalog.jsonb, "
                        "NULL::pg_catalog.jsonb, NULL::pg_catalog.jsonb",
                        top ? "user_totals, model_totals, aggregated_by_provider, models_unprovided, daily, "
                              "NULL::pg_catalog.jsonb"
                            : "user_totals, model_totals, aggregated_by_provider, models_unprovided, daily, key_totals",
                        6, start, end, range_access)
            : CacheScan(table, "aggregated_by_user, aggregated_by_model",
                        level == core::CellLevel::user ? "user_totals, NULL::pg_catalog.jsonb"
                                                       : "aggregated_by_user, NULL::pg_catalog.jsonb",
                        2, prev_start, start - 1, previous_access);
        if (packs)  // a pack row's blocks compared with the previous row's in place (PackRow::parse)
            scan.keep_previous_row();
        ScanRow r;
        while (scan.next(r, cols)) {
            InputRow users_ctx{r.date, r.base, "aggregated_by_user", nullptr, r.rollup};
            InputRow models_ctx{r.date, r.base, "aggregated_by_model", nullptr, r.rollup};
            InputRow providers_ctx{r.date, r.base, "aggregated_by_provider", nullptr, r.rollup};
            if (r.rollup)
                b.begin_rollup(date_text(r.date), current);
            else
                b.begin_day(r.base, date_text(r.date), current);
            // A rollup row's users from its pack: every rollup row of the call has one, or the
            // call is run again without packs (NoPack, before anything of the row is summed).
            // A pack without the top key's bounds (user_totals without "~keycost"/"~keymag": a
            // row derived before them, or whose key cells the readers refuse) is refused on its
            // header, before it is decoded, in either period: its user_totals lacks them too, so
            // the call takes the full walk (Redo) at once, not after decoding this period's packs
            // and then a second run without packs that would meet the same row.
            const bool pack_row = packs && r.rollup;
            if (pack_row) {
                // The backend's user directory: used by any pack row, built by a month or
                // block (a day projection lists one day's subset of the users).
                if (!pack.parse(scan.bytea_value(0), current, directory, r.day_count() > 1))
                    throw NoPack{};
                if (!pack.pack_has_bounds())
                    throw TopKeyRead::Redo{};
                if (!pack.decode())
                    throw NoPack{};
            } else {
                pack.forget();
            }
            if (!current) {  // the comparison period needs only the totals and the user count
                if (!r.rollup)  // its models are not read, but refused as in the range
                    own_providers(cols[1], models_ctx, r.date, [](std::string_view, std::string_view, DateADT) {});
                if (!filtered) {  // every user entry, in object order (core/period_users.hpp)
                    if (pack_row) {  // previous_user_usage() of each user, by column
                        if (!pack.repeats())  // (index(): room for the ids)
                            pack.walk_names();
                        uint32 *ids = pack.index();
                        // each user's id, once (the period's first users from a directory: at once)
                        // else by their index in the directory, as the range's slots below
                        const core::UserDirectory *const d = directory ? current_backend_user_directory() : nullptr;
                        if (!pack.repeats() && !(pack.dir() && b.first_users(pack.dir()->run(), ids)) &&
                            !(pack.run_indexes(d) && b.run_slots(d->run(), pack.run_at(), pack.users(), ids))) {
                            const std::string_view *names = pack.names();
                            for (uint32 i = 0; i < pack.users(); i++)
                                ids[i] = b.previous_user_id(names[i]);
                        }
                        // a month or block: the next rows likely list the same users (a run)
                        b.previous_usage_columns(ids, pack.columns(), r.day_count() > 1);
                    } else
                        for_each_entry(cols[0], users_ctx, false,
                                       [&](std::string_view user, const EntryValues &v, uint32) {
                                           b.previous_user_usage(user, v);
                                       });
                    continue;
                }
                uint32 at = 0;  // users come in the same order row after row: a lookup hint
                walk_cells(cols[0], users_ctx, cells, level, [&](const Cell &c) {
                    if (provider_passes(c))
                        b.user_usage(c.user, c.values, level == core::CellLevel::user ? at++ : b.kNoPosition);
                });
                continue;
            }
            if (!providers_first && mode.providers == nullptr)
                own_providers(cols[1], models_ctx, latest_day(r), note_provider);
            if (!filtered && (pack_row || (cols[0] != nullptr && JsonContainerIsObject(&cols[0]->root)))) {
                // the first row's users: room made once
                const size_t n = pack_row ? pack.users() : JsonContainerSize(&cols[0]->root);
                b.expect_users(n);
                if (top)
                    top->expect_users(n);
            }
            // The passing usage (and, at model or key level, the model figures and key cells).
            uint32 user_at = 0, ident_at = 0;
            if (top && r.rollup)
                top->begin_row(r, pack_row || cols[0] != nullptr);
            if (pack_row) {  // what the walk below does with each entry, column by column
                const bool repeats = pack.repeats();
                if (!repeats)
                    pack.walk_names();
                const std::string_view *names = repeats ? nullptr : pack.names();
                uint32 *slots = pack.index();
                const uint32 n = pack.users();
                // The range's first users from a directory: slots, identities and bounds' users
                // set up at once (core/user_directory.hpp), not user by user.
                const core::UserRun run = pack.dir() ? pack.dir()->run() : core::UserRun{};
                const bool first = !repeats && pack.dir() && b.first_users(run, slots);
                // Other rows whose users are the directory's or a subset of them (a day
                // projection): each user's slot by its index there (core::run_subset_indexes,
                // DashboardBuilder::run_slots), else looked up once.
                const core::UserDirectory *const d = directory ? current_backend_user_directory() : nullptr;
                if (!repeats && !first &&
                    !(pack.run_indexes(d) && b.run_slots(d->run(), pack.run_at(), n, slots)))
                    for (uint32 i = 0; i < n; i++)  // each user's slot, once
                        slots[i] = b.user_slot_index(names[i]);
                b.user_usage_columns(slots, pack.columns(), r.day_count() > 1);
                if (!first || !top->first_bound_columns(run, pack.has_bounds(), pack.keycost(), pack.keycost_dscales(),
                                                        pack.keycost_scale(), pack.keymag()))
                    top->user_bound_columns(slots, names, n, pack.has_bounds(), pack.keycost(),
                                            pack.keycost_dscales(), pack.keycost_scale(), pack.keymag());
                // The identity record's bytes determine the identity, as a "~identity"
                // object's do: read only when they differ from the user's last ones (a
                // repeated row: each user's last ones are this row's records).
                if (!repeats && !first)
                    b.identity_columns(slots, pack.records(), n);
            }
            else if (!filtered)  // every user entry with its identity, in object order
                for_each_entry_item(
                    cols[0], users_ctx, false,
                    [&](std::string_view user, const EntryValues &v, uint32 at, const JsonbItem &item) {
                        // One lookup for the user and its identity; a rollup entry's identity
                        // is read only when its bytes differ from the user's last ones.
                        const core::Slot &slot = b.user_usage_slot(user, v, at);
                        JsonbObjectView entry(reinterpret_cast<const JsonbContainer *>(item.data));
                        // The entry's members as its layout's plan found them (not searched).
                        const core::EntryPlan &plan = last_entry_plan();
                        if (top && r.rollup)
                            top->user_entry(user, entry, plan, b.user_index(slot));
                        if (r.rollup) {
                            int32 id_at = identity_member_at(entry, plan.identity);
                            std::string_view key = identity_key(entry, id_at);
                            if (b.identity_read_before(slot, key))
                                return;
                            rollup_identity_at(entry, id_at, ident);
                            b.identity_of(slot, ident, &key);
                        } else {
                            read_identity(entry, ident);
                            b.identity_of(slot, ident, nullptr);
                        }
                    });
            else
                walk_cells(
                    cols[0], users_ctx, cells, level,
                    [&](const Cell &c) {
                        if (!provider_passes(c))
                            return;
                        b.user_usage(c.user, c.values, level == core::CellLevel::user ? user_at++ : b.kNoPosition);
                        if (filtered && level != core::CellLevel::user)
                            b.model_usage(c.model, c.values);
                        if (level == core::CellLevel::key)
                            b.key_usage(c.key, c.user, c.values);
                    },
                    [&](std::string_view user, const JsonbObjectView &entry) {
                        if (r.rollup)
                            rollup_identity(entry, ident);
                        else
                            read_identity(entry, ident);
                        b.identity(user, ident, ident_at++);
                    });
            if (top && r.rollup)
                top->end_row();
            // Only a user filter: the model figures come from the passing users' models (L7).
            if (filtered && level == core::CellLevel::user)
                walk_cells(cols[0], users_ctx, cells, core::CellLevel::model,
                           [&](const Cell &c) { b.model_usage(c.model, c.values); });
            // The top API key (L5): key cells passing every filter (a rollup: its key_totals).
            // With bounds (top), a rollup's key_totals is read by top->finish() after the scan.
            if (r.rollup && current && !filtered) {
                if (!top)
                    rollup_key_totals(cols[5], cols[0] != nullptr, users_ctx, b);
            } else if (level != core::CellLevel::key) {
                uint32 key_at = 0;
                walk_cells(cols[0], users_ctx, cells, core::CellLevel::key, [&](const Cell &c) {
                    if (!provider_passes(c))
                        return;
                    b.key_usage(c.key, c.user, c.values, key_at++);
                    if (top)
                        top->day_cell(c.values);
                });
            }
            if (filtered)
                continue;
            // Unfiltered model figures: aggregated_by_model as stored; providers from
            // aggregated_by_provider when it is a non-empty object, else from the models (L3).
            const bool stored_providers = r.rollup ? false : nonempty_object(cols[2]);
            for_each_entry(cols[1], models_ctx, false, [&](std::string_view model, const EntryValues &v, uint32) {
                b.model_usage(model, v);
                if (!r.rollup && !stored_providers)
                    b.unprovided_model_usage(model, v);
            });
            if (stored_providers || r.rollup)  // a rollup: the stored days' sums (or NULL)
                for_each_entry(cols[2], providers_ctx, false,
                               [&](std::string_view p, const EntryValues &v, uint32) { b.provider_usage(p, v); });
            if (r.rollup) {  // the other days' models, and the daily series
                InputRow unprovided_ctx{r.date, r.base, "models_unprovided", nullptr, true};
                for_each_entry(cols[3], unprovided_ctx, false, [&](std::string_view model, const EntryValues &v,
                                                                   uint32) { b.unprovided_model_usage(model, v); });
                rollup_daily(cols[4], r, b);
            }
        }
        scan.finish();
        if (top)
            top->finish(b, table, start, end, range_access);
    }
}

}  // namespace ducache::pg
