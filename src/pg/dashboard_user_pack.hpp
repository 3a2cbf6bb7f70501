// The dashboard's reader of one rollup row's user_pack (core/user_pack.hpp): the pack checked,
// its arrays decoded into memory of the call's context, its users' names walked once (the
// builder then takes its columns: core/user_columns.hpp).
#pragma once

#include "core/metrics.hpp"
#include "core/user_columns.hpp"
#include "core/user_directory.hpp"
#include "core/user_pack.hpp"

#include "pg/context_resource.hpp"
#include "pg/user_directory.hpp"
#include "pg/postgres.hpp"

#include <cstring>
#include <memory_resource>
#include <string>
#include <string_view>

namespace ducache::pg {

#ifdef DUCACHE_TEST_HOOKS
// Test builds: the packs PackRow::decode decoded in this backend (ducache_test_pack_decodes).
inline uint64_t pack_decodes_for_tests = 0;
#endif

// A rollup row's user_pack (core/user_pack.hpp), checked and decoded: its users in user_totals'
// order with the values the readers decode from that user_totals. The arrays' memory is reused
// from row to row.
class PackRow {
public:
    // The arrays come from cxt (the call's context), as every container of a call's reading.
    explicit PackRow(MemoryContext cxt) : memory_(cxt), values_(&memory_) {}
    // The pack's header and lengths checked, nothing decoded: false when the row has no usable
    // pack (NULL, malformed). Then pack_has_bounds() tells whether it carries the top key's
    // bounds, and decode() reads its arrays. bounds: the range's rows (the keycost and keymag
    // arrays are decoded too).
    // A row whose user count and names and identities blocks are byte-identical to the previous
    // pack row's of the same period (repeats(): the months and blocks of a period list the same users) is not
    // walked again: those blocks passed check_blocks(), and the row's users are that row's, in
    // the same order, so its index() is still theirs.
    // directory: the row may use and build the backend's directory (pg/user_directory.hpp): a
    // row whose blocks are the directory's is not checked, copied or walked (its names, records
    // and first-sight run are the directory's, dir()); build: such a row not matching it makes
    // a new one (the months and blocks: a day projection lists a day's subset).
    bool parse(const bytea *b, bool bounds, bool directory = false, bool build = false)
    {
        if (b == nullptr || !view_.parse(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), false))
            return false;
        const std::string_view names = view_.names_block(), idents = view_.identities_block();
        const core::UserDirectory *d = directory ? backend_user_directory(view_.users(), names, idents) : nullptr;
        if (d != nullptr) {  // the blocks are the directory's: checked when it was built
            repeats_ = known_ && known_dir_ == d && known_period_ == bounds;
            known_ = true;
        } else {
            // The previous pack row's blocks, in place: it was the scan's previous row (any
            // other row between calls forget()), whose values the scan keeps until this one's
            // successor is read (CacheScan::keep_previous_row).
            repeats_ = known_ && known_dir_ == nullptr && known_period_ == bounds && view_.users() == known_users_ &&
                       same_bytes(prev_names_, names) && same_bytes(prev_idents_, idents);
            if (!repeats_) {
                known_ = false;
                // The blocks checked and walked in one pass: names() and records().
                const uint32 n = view_.users();
                names_.resize(n);
                records_.resize(n);
                if (!view_.walk_blocks(names_.data(), records_.data()))
                    return false;
                d = build ? build_backend_user_directory(view_) : nullptr;
                known_ = true;
            }
        }
        prev_names_ = names;
        prev_idents_ = idents;
        dir_ = d;
        known_dir_ = d;
        known_period_ = bounds;
        known_users_ = view_.users();
        bounds_ = bounds;
        return true;
    }
    bool pack_has_bounds() const { return view_.has_bounds(); }
    // The parsed pack's arrays: false when a value is past its header's largest.
    bool decode()
    {
#ifdef DUCACHE_TEST_HOOKS
        pack_decodes_for_tests++;
#endif
        const size_t n = view_.users();
        values_.resize(n * core::kUserPackArrays);
        for (int a = 0; a < (bounds_ ? core::kUserPackArrays : core::kPackKeyCost); a++) {
            arrays_[a] = values_.data() + size_t(a) * n;
            if (!view_.decode(a, values_.data() + size_t(a) * n))
                return false;
        }
        return true;
    }
    uint32 users() const { return view_.users(); }
    // The row repeats the previous pack row's users (parse()): index() holds their slots, and
    // each user's identity record is the one that row handed in.
    bool repeats() const { return repeats_; }
    // A row of another kind came between (a day row): the next pack row is walked.
    void forget() { known_ = false; }
    // Room for the index of a row that does not repeat the previous one: its names and
    // identity records are the directory's, or parse() walked them (names(), records()).
    void walk_names() { index_.resize(view_.users()); }
    // The row's users as indexes into the ordered run of directory d (core::run_subset_indexes):
    // run_at() nullptr when the row's blocks are d's (user i at index i). False when the row
    // is not such a subset of d's users (then each user is looked up).
    bool run_indexes(const core::UserDirectory *d)
    {
        if (d == nullptr)
            return false;
        if (dir_ == d) {
            run_at_ = nullptr;
            return true;
        }
        if (dir_ != nullptr)
            return false;
        at_.resize(view_.users());
        run_at_ = at_.data();
        return core::run_subset_indexes(d->run(), names_.data(), view_.users(), at_.data());
    }
    const uint32 *run_at() const { return run_at_; }
    // The backend's directory this row's blocks are (nullptr: none): its run() is the row's users.
    const core::UserDirectory *dir() const { return dir_; }
    const std::string_view *names() const { return dir_ ? dir_->names() : names_.data(); }
    const std::string_view *records() const { return dir_ ? dir_->records() : records_.data(); }
    // Room for the users' indexes (the builder's slots), users() of them.
    uint32 *index() { return index_.data(); }
    // The counts and cost (core/user_columns.hpp).
    core::UserColumns columns() const { return core::pack_columns(view_, arrays_); }
    // The bounds (read with bounds, and the pack has them): "~keycost" at keycost_scale() with
    // its display scales, "~keymag".
    bool has_bounds() const { return bounds_ && view_.has_bounds(); }
    const int64_t *keycost() const { return arrays_[core::kPackKeyCost]; }
    const uint8_t *keycost_dscales() const { return view_.keycost_dscales(); }
    int keycost_scale() const { return view_.keycost_scale(); }
    const int64_t *keymag() const { return arrays_[core::kPackKeyMag]; }

private:
    core::UserPackView view_;
    bool bounds_ = false;
    ContextResource memory_;
    std::pmr::vector<int64_t> values_;
    const int64_t *arrays_[core::kUserPackArrays] = {};
    std::pmr::vector<std::string_view> names_{&memory_}, records_{&memory_};
    std::pmr::vector<uint32> index_{&memory_}, at_{&memory_};
    const uint32 *run_at_ = nullptr;
    // The blocks of the last pack row (views into the scan's previous row), whether it was
    // walked or matched a directory (known_), read with bounds (known_period_: the range).
    static bool same_bytes(std::string_view a, std::string_view b)
    {
        return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
    }
    std::string_view prev_names_, prev_idents_;
    // The directory of this row's blocks, and of the last row walked (nullptr: its blocks are
    // the copies above).
    const core::UserDirectory *dir_ = nullptr, *known_dir_ = nullptr;
    bool known_ = false, known_period_ = false, repeats_ = false;
    uint32 known_users_ = 0;
};

}  // namespace ducache::pg
