#include "core/error.hpp"  // before any PostgreSQL header
#include "core/dashboard.hpp"
#include "core/key_bounds.hpp"

#include "pg/cell_walker.hpp"
#include "pg/dashboard_top_key.hpp"
#include "pg/jsonb_view.hpp"
#include "pg/settings.hpp"

#include <algorithm>
#include <cstring>
#include <string>

extern "C" {
#include "utils/fmgrprotos.h"
}

namespace ducache::pg {

namespace {

// Index of `name` among an object's n keys (JSONB sorts them by length, then bytes), or -1.
// vals is made once per object, without a pass over its keys (ObjectValues(container)).
int32 find_sorted_key(const ObjectValues &vals, uint32 n, std::string_view name)
{
    uint32 lo = 0, hi = n;
    while (lo < hi) {
        uint32 mid = lo + (hi - lo) / 2;
        std::string_view k = vals.key(mid);
        int cmp = k.size() != name.size() ? (k.size() < name.size() ? -1 : 1)
                                          : std::memcmp(k.data(), name.data(), name.size());
        if (cmp == 0)
            return int32(mid);
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

// The user's alias entries {A: {"metrics"}} of one key_totals value, each summed into b as
// pg/dashboard.cpp's rollup_key_totals does.
template <typename F>
void each_alias(const JsonbItem &v, std::string_view user, const InputRow &keys_ctx, core::DashboardBuilder &b,
                F &&on_alias)
{
    if (!item_is_object(v))
        throw_bad_shape(keys_ctx, "a user's key totals are not an object");
    ObjectWalker kwalk(reinterpret_cast<const JsonbContainer *>(v.data));
    JsonbItem ak, av;
    EntryValues values;
    DayLabel row(keys_ctx);
    std::string_view column(keys_ctx.column);
    while (kwalk.next(ak, av)) {
        std::string_view alias(ak.data, ak.len);
        read_entry_at(av, column, row, alias, false, false, values);
        b.key_usage(alias, user, values);
        on_alias(alias);
    }
}

}  // namespace

TopKeyRead::TopKeyRead(std::pmr::memory_resource *mr) : mr_(mr), bounds_(mr) {}

void TopKeyRead::begin_row(const ScanRow &r, bool has_users)
{
    row_missing_ = false;
    rows_.push_back(RollupRow{r.date, r.base, r.days, has_users});
}

void TopKeyRead::read_members(std::string_view user, const JsonbObjectView &entry, const core::EntryPlan &plan,
                              uint32 index)
{
    int32 cost_at = plan.key_cost, mag_at = plan.key_mag;  // found once per layout
    core::Decimal cost;
    int64_t mag;
    if (cost_at < 0 || mag_at < 0 || entry.kind(uint32(cost_at)) != core::ValueKind::number ||
        entry.kind(uint32(mag_at)) != core::ValueKind::number || !entry.number(uint32(cost_at), cost)) {
        row_missing_ = true;
        return;
    }
    bounds_.add_bound_at(index, user, cost);
    if (entry.count(uint32(mag_at), mag) == core::CountFast::ok && mag >= 0)
        magnitude_.add((unsigned __int128)(mag));
    else
        magnitude_.add_unknown();  // past 10^16 or odd: the call takes the full walk (Redo)
}

void TopKeyRead::end_row()
{
    if (row_missing_)
        throw Redo{};  // pairs without their users' bounds: the full walk, in row order
}

template <typename F>
void TopKeyRead::each_key_totals(const char *table, DateADT start, DateADT end, const RollupAccess &access, F &&f)
{
    // The statement of pass 1 with only key_totals asked for: the same rows in the same
    // snapshot (read-only cursor: the call's active snapshot). Day rows come with NULL.
    CacheScan scan(table, "NULL::pg_catalog.jsonb", "key_totals", 1, start, end, access);
    ScanRow r;
    const Jsonb *keys = nullptr;
    size_t i = 0;
    while (scan.next(r, &keys)) {
        if (!r.rollup)
            continue;
        if (i == rows_.size() || rows_[i].date != r.date || rows_[i].days != r.days)
            throw Redo{};  // not pass 1's rows (never in one snapshot): the full walk
        const RollupRow &row = rows_[i++];
        if (keys == nullptr) {
            if (row.has_users)
                throw Redo{};  // the full walk raises its "no key totals" (then the days)
            continue;
        }
        if (!row.has_users)
            throw Redo{};  // pairs without users: the full walk sums them
        InputRow keys_ctx{row.date, row.base, "key_totals", nullptr, false};
        if (!JsonContainerIsObject(&keys->root) || JsonContainerIsScalar(&keys->root))
            throw_bad_shape(keys_ctx, "it is not a JSON object");
        f(keys, keys_ctx);
    }
    scan.finish();
    if (i != rows_.size())
        throw Redo{};
}

void TopKeyRead::finish(core::DashboardBuilder &b, const char *table, DateADT start, DateADT end,
                        const RollupAccess &access)
{
    if (rows_.empty())
        return;  // no rollup row: every pair was summed from the days
    if (!magnitude_.fits())
        throw Redo{};
    // S^F: every pair summed so far (the day rows').
    const core::KeyAggregator &keys = b.api_keys();
    for (size_t i = 0; i < keys.slots().size(); i++) {
        std::string_view both = keys.slots()[i].key_view();
        size_t nul = both.find('\0');
        bounds_.add_walked_pair(both.substr(nul + 1), keys.slots()[i].totals.cost, uint32(i));
    }
#ifdef DUCACHE_TEST_HOOKS
    // specs/top_key_snapshot.spec: wait here on an advisory lock another session holds while it
    // changes the rows, to show that pass 2 reads pass 1's snapshot.
    if (int64 lock = test_top_key_pause_setting(); lock != 0)
        pg_call([&] {
            DirectFunctionCall1(pg_advisory_lock_int8, Int64GetDatum(lock));
            DirectFunctionCall1(pg_advisory_unlock_int8, Int64GetDatum(lock));
        });
#endif
    size_t first = kFirstCandidates, max_probes = bounds_.users() / 4 + 16;
    if (int n = test_top_key_first_setting(); n > 0)
        first = size_t(n);
    if (int n = test_top_key_max_setting(); n >= 0)
        max_probes = size_t(n);
    // The aliases met per candidate, copied (each row's key_totals is gone at the next row).
    std::vector<std::vector<std::string>> touched;
    std::string pair;
    int reads = 0;
    bool decided = bounds_.select(first, max_probes, [&](const auto &candidates, core::DecimalSum &best) {
        reads++;
        touched.assign(candidates.size(), {});
        each_key_totals(table, start, end, access, [&](const Jsonb *kt, const InputRow &keys_ctx) {
            const ObjectValues entries(&kt->root);  // no pass over the users' JEntries
            for (size_t c = 0; c < candidates.size(); c++) {
                std::string_view user = candidates[c].user;
                int32 at = find_sorted_key(entries, entries.size(), user);
                if (at < 0)
                    continue;
                each_alias(entries.value(uint32(at)), user, keys_ctx, b,
                           [&](std::string_view alias) {
                               std::vector<std::string> &seen = touched[c];
                               if (std::find(seen.begin(), seen.end(), alias) == seen.end())
                                   seen.emplace_back(alias);
                           });
            }
            check_for_interrupts();
        });
        const core::KeyAggregator &all = b.api_keys();
        bool any = false;
        auto consider = [&](const core::Slot &s) {
            if (!any || s.totals.cost.compare(best) > 0)
                best = s.totals.cost;
            any = true;
        };
        for (size_t c = 0; c < candidates.size(); c++) {
            for (size_t i = 0; i < candidates[c].n_walked; i++)
                consider(all.slots()[candidates[c].walked[i].second]);
            for (const std::string &alias : touched[c]) {
                pair.assign(alias).push_back('\0');
                pair.append(candidates[c].user);
                if (const core::Slot *s = all.find(pair.data(), pair.size()))
                    consider(*s);
            }
        }
        return any;
    });
    if (!decided) {  // many candidates: every other user's pairs, row by row
        reads++;
        each_key_totals(table, start, end, access, [&](const Jsonb *kt, const InputRow &keys_ctx) {
            ObjectWalker walk(&kt->root);
            JsonbItem k, v;
            while (walk.next(k, v)) {
                std::string_view user(k.data, k.len);
                if (bounds_.probed(user))
                    continue;
                each_alias(v, user, keys_ctx, b, [](std::string_view) {});
                check_for_interrupts();
            }
        });
    }
    const size_t nrows = rows_.size(), probes = bounds_.probes(), users = bounds_.users();
    pg_call([&] {
        elog(DEBUG2, "ducache_dashboard: top API key from bounds: %zu rollup rows read %d more time(s), %zu of %zu users probed%s",
             nrows, reads, probes, users, decided ? "" : ", the others summed in full");
    });
}

}  // namespace ducache::pg
