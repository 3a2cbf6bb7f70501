// The unfiltered dashboard's top API key from per-user bounds (core/key_bounds.hpp; docs/rollups.md
// "Round 11"). pg/dashboard.cpp's range scan hands in, per rollup row, its user entries'
// "~keycost"/"~keymag" and its key_totals, which are kept aside (detoasted into a context of
// their own, up to kKeepCap bytes) instead of walked; day rows' key cells are summed as before.
// After the scan finish() sums exactly only the pairs of the users whose bound can reach the best
// exact cost found, so DashboardBuilder's first pair by cost is the full walk's.
//
// Same answer, errors included: a row without the members (a library before them) before any
// row was kept turns this off for the call (every row then walked in place, as before); after
// one, or when the magnitudes of the values summed could pass bigint (the order of the sums
// could then matter), finish() or row() throws Redo, and so does any core::Error raised while
// rows were kept aside: the caller then runs the call again without bounds (pg/dashboard.cpp).
#pragma once

#include "core/dashboard.hpp"
#include "core/key_bounds.hpp"

#include "pg/cache_scan.hpp"
#include "pg/context_resource.hpp"
#include "pg/entry_reader.hpp"
#include "pg/jsonb_object_view.hpp"
#include "pg/postgres.hpp"

#include <string_view>
#include <vector>

namespace ducache::pg {

class TopKeyRead {
public:
    struct Redo {};  // run the call again without bounds
    static constexpr size_t kKeepCap = size_t(256) << 20;

    // parent: the call's work context (the kept values live in a child of it).
    TopKeyRead(MemoryContext parent, std::pmr::memory_resource *mr);
    TopKeyRead(const TopKeyRead &) = delete;
    TopKeyRead &operator=(const TopKeyRead &) = delete;

    // The range's scan: its key_totals column (index) is detoasted into the kept context.
    void attach(CacheScan &scan, int column);
    // A rollup row of the range begins; then each of its user entries (object order).
    void begin_row();
    void user_entry(std::string_view user, const JsonbObjectView &entry, uint32 position)
    {
        if (active_)
            read_members(user, entry, position);
    }
    // The row's key_totals, after its user entries: true when kept aside (the caller must not
    // walk it); false: the caller walks it in place, then calls walked().
    // has_users: the row's user_totals is not NULL (its entries carry the users' bounds).
    bool keep(const Jsonb *keys, bool has_users, const InputRow &ctx);
    void walked(const Jsonb *keys);
    // A key cell of a day row, summed in place.
    void day_cell(const core::EntryValues &v)
    {
        if (active_)
            magnitude_.add_values(v.counts);
    }
    // After the range's scan: the candidates' pairs into b.
    void finish(core::DashboardBuilder &b);
    // Rows were kept aside (a core::Error raised since then asks for a Redo).
    bool kept_any() const { return !rows_.empty(); }

private:
    struct KeptRow {
        const Jsonb *keys;
        DateADT date;
        int32 base;
    };
    void read_members(std::string_view user, const JsonbObjectView &entry, uint32 position);
    // The user's pairs of every kept row into b; touched: their aliases.
    void sum_user(std::string_view user, core::DashboardBuilder &b, std::vector<std::string_view> &touched);
    void sum_all_but_probed(core::DashboardBuilder &b);
    void release();

    std::pmr::memory_resource *mr_;
    MemoryContext kept_cxt_ = nullptr;
    bool active_ = true;
    bool row_missing_ = false;  // the current row has a user entry without the members
    size_t kept_bytes_ = 0;
    std::vector<KeptRow> rows_;
    core::KeyBounds bounds_;
    core::KeyMagnitude magnitude_;
};

}  // namespace ducache::pg
