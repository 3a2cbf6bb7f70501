// A backend's directory of the users a pack's names and identities blocks list
// (core/user_pack.hpp), kept between dashboard calls (docs/rollups.md "Round 16: the users'
// slots"): every month and block row of a period at L lists the same 10,001 users in
// byte-identical blocks, call after call, and each call paid for reading them again (the
// blocks checked, copied and walked; each user's name, hash and identity found anew).
//
// What a directory may be reused for (the rule, same()): a row whose user count and both blocks
// are byte-identical (compared in full, never by a hash) to the blocks it was built from. It is
// derived from those bytes alone (names, identity records and identities are views into its
// own copy; hashes are KeyAggregator::hash_bytes of the names), so for such a row it holds
// exactly what walking the row's blocks would give: whatever snapshot the row comes from, the
// row itself carries the user set, and the directory cannot make a call see another one.
//
// ordered(): the names are strictly ascending in JSONB key order (so also distinct): the
// builder may then take the users as one run (DashboardBuilder::first_users) instead of one
// lookup each.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/user_pack.hpp"

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <string_view>
#include <vector>

namespace ducache::core {

// A row's users as one run: names in the row's order, their hashes, identity records and
// identities (views that outlive the builder that takes them: a directory's).
struct UserRun {
    uint32_t n = 0;
    const std::string_view *names = nullptr;
    const uint64_t *hashes = nullptr;
    const std::string_view *records = nullptr;
    const PackIdentity *identities = nullptr;
    bool ordered = false;  // names strictly ascending in JSONB key order
};

// A row listing a subset of an ordered run's users (a day projection: the users of one day of
// the month whose rows built the directory, in the same JSONB key order) as indexes into the
// run, by one merge walk: out[i] = the j with run.names[j] byte-identical to names[i] (j
// strictly increasing). False when some name is not found that way (not in the run, a row not
// strictly ascending, a run not ordered): the caller then maps the row's users one by one.
// out[0..m) is written up to the first name not found.
bool run_subset_indexes(const UserRun &run, const std::string_view *names, uint32_t m, uint32_t *out);

class UserDirectory {
public:
    // Directories past this many bytes (blocks and per-user arrays) are not built.
    static constexpr size_t kMaxBytes = size_t(64) << 20;
    // The memory a directory of these blocks takes (about).
    static size_t bytes_for(size_t names_len, size_t idents_len, uint32_t users);

    explicit UserDirectory(std::pmr::memory_resource *mr);
    ~UserDirectory();
    UserDirectory(const UserDirectory &) = delete;
    UserDirectory &operator=(const UserDirectory &) = delete;
    // From a parsed pack whose blocks passed UserPackView::check_blocks(): the blocks copied,
    // walked once. False (and nothing usable) when past kMaxBytes.
    bool build(const UserPackView &checked);
    // The rule above: the row's blocks are the ones this directory was built from.
    bool same(uint32_t users, std::string_view names_block, std::string_view idents_block) const;

    uint32_t users() const { return users_; }
    const std::string_view *names() const { return names_.data(); }
    const std::string_view *records() const { return records_.data(); }
    UserRun run() const;
    size_t bytes() const { return bytes_; }

private:
    std::pmr::memory_resource *mr_;
    void release_blocks();

    char *blocks_ = nullptr;  // the names block, then the identities block
    size_t blocks_size_ = 0;
    size_t names_len_ = 0, idents_len_ = 0, bytes_ = 0;
    uint32_t users_ = 0;
    bool ordered_ = false, built_ = false;
    std::pmr::vector<std::string_view> names_, records_;
    std::pmr::vector<uint64_t> hashes_;
    std::pmr::vector<PackIdentity> identities_;
};

}  // namespace ducache::core
