// The unfiltered dashboard's top API key from per-user bounds, read in two passes of one
// snapshot (core/key_bounds.hpp; docs/rollups.md "Round 12: the two-pass top key").
//
// Pass 1 is pg/dashboard.cpp's range scan, which then does not ask for the rollup rows'
// key_totals: it hands in, per rollup row, its user entries' "~keycost"/"~keymag"; day rows'
// key cells are summed into the builder as before (S^F). After it, finish() reads the range's
// rollup rows again asking for key_totals only (pass 2: a CacheScan of the same statement shape,
// the same dates and the same snapshot), one row at a time in the scan's row context (nothing
// kept: each row is detoasted, searched and dropped), and sums into the builder the pairs of the
// few users whose bound is highest (a binary search per user and row); KeyBounds::select then
// decides from the exact costs found, or names every user that can still reach them, summed in
// one more read (pass 3); past max(users / 4 + 16) probes that read sums every user not probed
// (the full walk of the rest). DashboardBuilder's first pair by cost is then the full walk's.
//
// Same answer, errors included. Pass 1 and 2 must read the same rows: both cursors are opened
// read-only inside one function call, so both run in the call's active snapshot (the
// statement's; pg/cache_scan.cpp), and finish() checks that pass 2 returns the rollup rows pass
// 1 saw, in order (anything else throws Redo). A rollup row whose user entries lack the members
// (a build before them), a row with key_totals but no user_totals or user_totals but no
// key_totals, magnitudes that could pass bigint (the order of the sums could then matter):
// Redo; so does any core::Error raised after a rollup row was read in pass 1 (the full walk
// could have met another error first, in its row order). The caller then runs the call again
// without bounds (the full walk, pg/dashboard.cpp): its result or error is the call's.
// Not read any more: the key_totals entries of users that are not probed (a derived column only
// the trigger and the projections' refresh write, from values the readers accepted; see
// docs/rollups.md).
#pragma once

#include "core/dashboard.hpp"
#include "core/entry_rules.hpp"
#include "core/key_bounds.hpp"

#include "pg/cache_scan.hpp"
#include "pg/entry_reader.hpp"
#include "pg/jsonb_object_view.hpp"
#include "pg/postgres.hpp"
#include "pg/rollup_access.hpp"

#include <string_view>
#include <vector>

namespace ducache::pg {

class TopKeyRead {
public:
    struct Redo {};  // run the call again without bounds
    // The users of highest bound summed in pass 2.
    static constexpr size_t kFirstCandidates = 16;

    explicit TopKeyRead(std::pmr::memory_resource *mr);
    TopKeyRead(const TopKeyRead &) = delete;
    TopKeyRead &operator=(const TopKeyRead &) = delete;

    // Pass 1: a rollup row of the range begins (has_users: its user_totals is not NULL); then
    // each of its user entries (object order) with its layout's plan (last_entry_plan(): where
    // its members are) and the builder's index of the user (KeyBounds::add_bound_at); then
    // end_row().
    void begin_row(const ScanRow &r, bool has_users);
    void expect_users(size_t n) { bounds_.expect_users(n); }  // DashboardBuilder::expect_users' n
    void user_entry(std::string_view user, const JsonbObjectView &entry, const core::EntryPlan &plan, uint32 index)
    {
        read_members(user, entry, plan, index);
    }
    // The same from a rollup row's user_pack (pg/dashboard.cpp): the entry's "~keycost" as
    // read_members decodes it (nullptr: the row's entries lack the members) and "~keymag"
    // (< 0: one read_members does not take).
    void user_bound(std::string_view user, const core::Decimal *keycost, int64_t keymag, uint32 index)
    {
        if (keycost == nullptr) {
            row_missing_ = true;
            return;
        }
        bounds_.add_bound_at(index, user, *keycost);
        if (keymag >= 0)
            magnitude_.add((unsigned __int128)(keymag));
        else
            magnitude_.add_unknown();
    }
    // user_bound() for each user of a rollup row's user_pack, by column (core/user_columns.hpp):
    // index[i] and names[i] its builder's index and user (names nullptr: a row repeating the
    // previous pack row's users, all met); has_bounds false: the row's entries lack the members.
    void user_bound_columns(const uint32 *index, const std::string_view *names, uint32 n, bool has_bounds,
                            const int64_t *keycost, const uint8_t *dscales, int scale, const int64_t *keymag)
    {
        if (n == 0)
            return;
        if (!has_bounds) {
            row_missing_ = true;
            return;
        }
        if (!bounds_.add_bound_columns(index, names, keycost, dscales, scale, n))
            throw Redo{};  // an index not met before without its name (not expected): the full walk
        magnitude_.add_column(keymag, n);
    }
    // user_bound_columns() of a row whose users are the pass's first, as one run (index[i] = i):
    // false (nothing done) when KeyBounds::first_bound_columns() declines.
    bool first_bound_columns(const core::UserRun &run, bool has_bounds, const int64_t *keycost,
                             const uint8_t *dscales, int scale, const int64_t *keymag)
    {
        if (run.n == 0)
            return false;
        if (!has_bounds) {
            row_missing_ = true;
            return true;
        }
        if (!bounds_.first_bound_columns(run, keycost, dscales, scale))
            return false;
        magnitude_.add_column(keymag, run.n);
        return true;
    }
    void end_row();
    // A key cell of a day row (summed into the builder by the caller).
    void day_cell(const core::EntryValues &v) { magnitude_.add_values(v.counts); }
    // After pass 1's scan: passes 2 (and 3) over the same rollup rows, the candidates' pairs into b.
    void finish(core::DashboardBuilder &b, const char *table, DateADT start, DateADT end, const RollupAccess &access);
    // A rollup row was read in pass 1 (its key_totals left for later): a core::Error raised
    // since then asks for a Redo.
    bool read_any() const { return !rows_.empty(); }

private:
    struct RollupRow {
        DateADT date;
        int32 base;
        uint32 days;
        bool has_users;
    };
    void read_members(std::string_view user, const JsonbObjectView &entry, const core::EntryPlan &plan, uint32 index);
    // One read of the rollup rows' key_totals: f(keys (an object), keys_ctx) per row.
    template <typename F>
    void each_key_totals(const char *table, DateADT start, DateADT end, const RollupAccess &access, F &&f);

    std::pmr::memory_resource *mr_;
    bool row_missing_ = false;  // the current row has a user entry without the members
    std::vector<RollupRow> rows_;
    core::KeyBounds bounds_;
    core::KeyMagnitude magnitude_;
};

}  // namespace ducache::pg
