#include "core/error.hpp"  // before any PostgreSQL header
#include "core/dashboard.hpp"
#include "core/key_bounds.hpp"

#include "pg/cell_walker.hpp"
#include "pg/dashboard_top_key.hpp"
#include "pg/jsonb_view.hpp"

#include <cstring>
#include <string>

namespace ducache::pg {

namespace {

// Index of `name` in an object's keys (JSONB sorts them by length, then bytes), or -1.
int32 find_sorted_key(const JsonbContainer *c, std::string_view name)
{
    ObjectWalker w(c);
    ObjectValues vals(w);
    uint32 lo = 0, hi = w.size();
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

TopKeyRead::TopKeyRead(MemoryContext parent, std::pmr::memory_resource *mr) : mr_(mr), bounds_(mr)
{
    kept_cxt_ = pg_call([&] { return AllocSetContextCreate(parent, "ducache kept key totals", ALLOCSET_DEFAULT_SIZES); });
}

void TopKeyRead::attach(CacheScan &scan, int column)
{
    if (active_)
        scan.keep_column(column, kept_cxt_);
}

void TopKeyRead::begin_row() { row_missing_ = false; }

void TopKeyRead::read_members(std::string_view user, const JsonbObjectView &entry, uint32 position)
{
    int32 cost_at = find_member(entry, core::kKeyCostMember), mag_at = find_member(entry, core::kKeyMagMember);
    core::Decimal cost;
    int64_t mag;
    if (cost_at < 0 || mag_at < 0 || entry.kind(uint32(cost_at)) != core::ValueKind::number ||
        entry.kind(uint32(mag_at)) != core::ValueKind::number || !entry.number(uint32(cost_at), cost)) {
        row_missing_ = true;
        return;
    }
    bounds_.add_bound(user, cost, position);
    if (entry.count(uint32(mag_at), mag) == core::CountFast::ok && mag >= 0)
        magnitude_.add((unsigned __int128)(mag));
    else
        magnitude_.add_unknown();  // past 10^16 or odd: the call takes the full walk (Redo)
}

bool TopKeyRead::keep(const Jsonb *keys, bool has_users, const InputRow &ctx)
{
    if (!active_ || keys == nullptr)
        return false;
    if (row_missing_ || !has_users) {  // pairs without their users' bounds
        if (kept_any())
            throw Redo{};
        active_ = false;  // rows of a library before the members: the full walk, in row order
        return false;
    }
    size_t size = VARSIZE(keys);
    if (kept_bytes_ + size > kKeepCap)
        return false;  // walked in place: its pairs join S^F (its magnitudes are counted)
    kept_bytes_ += size;
    rows_.push_back(KeptRow{keys, ctx.date, ctx.day_index});
    return true;
}

void TopKeyRead::walked(const Jsonb *keys)
{
    if (keys != nullptr && kept_cxt_ != nullptr)
        pg_call([&] { pfree(const_cast<Jsonb *>(keys)); });
}

void TopKeyRead::sum_user(std::string_view user, core::DashboardBuilder &b, std::vector<std::string_view> &touched)
{
    for (const KeptRow &r : rows_) {
        InputRow keys_ctx{r.date, r.base, "key_totals", nullptr, false};
        if (!JsonContainerIsObject(&r.keys->root) || JsonContainerIsScalar(&r.keys->root))
            throw_bad_shape(keys_ctx, "it is not a JSON object");
        int32 at = find_sorted_key(&r.keys->root, user);
        if (at < 0)
            continue;
        JsonbObjectView root(&r.keys->root);
        each_alias(root.item(uint32(at)), user, keys_ctx, b, [&](std::string_view alias) { touched.push_back(alias); });
    }
}

void TopKeyRead::sum_all_but_probed(core::DashboardBuilder &b)
{
    for (const KeptRow &r : rows_) {
        InputRow keys_ctx{r.date, r.base, "key_totals", nullptr, false};
        if (!JsonContainerIsObject(&r.keys->root) || JsonContainerIsScalar(&r.keys->root))
            throw_bad_shape(keys_ctx, "it is not a JSON object");
        ObjectWalker walk(&r.keys->root);
        JsonbItem k, v;
        while (walk.next(k, v)) {
            std::string_view user(k.data, k.len);
            if (bounds_.probed(user))
                continue;
            each_alias(v, user, keys_ctx, b, [](std::string_view) {});
            check_for_interrupts();
        }
    }
}

void TopKeyRead::finish(core::DashboardBuilder &b)
{
    if (!active_ || rows_.empty()) {
        release();
        return;
    }
    if (!magnitude_.fits())
        throw Redo{};
    // S^F: every pair summed so far (day rows, rows walked in place).
    const core::KeyAggregator &keys = b.api_keys();
    for (size_t i = 0; i < keys.slots().size(); i++) {
        std::string_view both = keys.slots()[i].key_view();
        size_t nul = both.find('\0');
        bounds_.add_walked_pair(both.substr(nul + 1), keys.slots()[i].totals.cost, uint32(i));
    }
    std::vector<std::string_view> touched;
    std::string pair;
    const size_t max_probes = bounds_.users() / 4 + 16;
    bool decided = bounds_.select(max_probes, [&](std::string_view user, const std::pmr::vector<uint32_t> &walked,
                                                  core::DecimalSum &best) {
        touched.clear();
        sum_user(user, b, touched);
        check_for_interrupts();
        const core::KeyAggregator &all = b.api_keys();  // slots may have moved
        bool any = false;
        auto consider = [&](const core::Slot &s) {
            if (!any || s.totals.cost.compare(best) > 0)
                best = s.totals.cost;
            any = true;
        };
        for (uint32_t i : walked)
            consider(all.slots()[i]);
        for (std::string_view alias : touched) {
            pair.assign(alias).push_back('\0');
            pair.append(user);
            if (const core::Slot *s = all.find(pair.data(), pair.size()))
                consider(*s);
        }
        return any;
    });
    if (!decided)
        sum_all_but_probed(b);  // many candidates: every other user's pairs, row by row
    const size_t nrows = rows_.size(), probes = bounds_.probes(), users = bounds_.users();
    pg_call([&] {
        elog(DEBUG2, "ducache_dashboard: top API key from bounds: %zu rows kept (%zu bytes), %zu of %zu users probed%s",
             nrows, kept_bytes_, probes, users, decided ? "" : ", the others summed in full");
    });
    release();
}

void TopKeyRead::release()
{
    if (kept_cxt_ == nullptr)
        return;
    MemoryContext cxt = kept_cxt_;
    kept_cxt_ = nullptr;
    rows_.clear();
    delete_context(cxt);
}

}  // namespace ducache::pg
