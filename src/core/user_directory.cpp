#include "core/user_directory.hpp"

#include "core/aggregator.hpp"
#include "core/ordered_lookup.hpp"
#include "core/same_bytes.hpp"

#include <cstring>

namespace ducache::core {

size_t UserDirectory::bytes_for(size_t names_len, size_t idents_len, uint32_t users)
{
    return names_len + idents_len +
           size_t(users) * (2 * sizeof(std::string_view) + sizeof(uint64_t) + sizeof(PackIdentity));
}

UserDirectory::UserDirectory(std::pmr::memory_resource *mr)
    : mr_(mr), names_(mr), records_(mr), hashes_(mr), identities_(mr)
{
}

// PostgreSQL's directories are never destroyed (their context is deleted whole); the unit tests'
// are, on an ordinary heap.
UserDirectory::~UserDirectory() { release_blocks(); }

void UserDirectory::release_blocks()
{
    if (blocks_ != nullptr)
        mr_->deallocate(blocks_, blocks_size_, 8);
    blocks_ = nullptr;
    blocks_size_ = 0;
}

bool UserDirectory::build(const UserPackView &checked)
{
    built_ = false;
    const std::string_view names = checked.names_block(), idents = checked.identities_block();
    const uint32_t n = checked.users();
    if (bytes_for(names.size(), idents.size(), n) > kMaxBytes)
        return false;
    release_blocks();
    blocks_size_ = names.size() + idents.size() + 1;
    blocks_ = static_cast<char *>(mr_->allocate(blocks_size_, 8));
    if (!names.empty())
        std::memcpy(blocks_, names.data(), names.size());
    if (!idents.empty())
        std::memcpy(blocks_ + names.size(), idents.data(), idents.size());
    names_len_ = names.size();
    idents_len_ = idents.size();
    users_ = n;
    names_.resize(n);
    records_.resize(n);
    hashes_.resize(n);
    identities_.resize(n);
    UserPackView::Cursor c(blocks_, blocks_ + names_len_);
    bool ordered = true;
    for (uint32_t i = 0; i < n; i++) {
        c.next(names_[i], records_[i]);
        hashes_[i] = KeyAggregator::hash_bytes(names_[i].data(), names_[i].size());
        identities_[i] = UserPackView::identity(records_[i]);
        if (i > 0 && ordered && jsonb_key_compare(names_[i - 1], names_[i]) >= 0)
            ordered = false;
    }
    ordered_ = ordered;
    bytes_ = bytes_for(names_len_, idents_len_, n);
    built_ = true;
    return true;
}

bool UserDirectory::same(uint32_t users, std::string_view names_block, std::string_view idents_block) const
{
    return built_ && users == users_ && names_block.size() == names_len_ && idents_block.size() == idents_len_ &&
           (names_len_ == 0 || std::memcmp(names_block.data(), blocks_, names_len_) == 0) &&
           (idents_len_ == 0 || std::memcmp(idents_block.data(), blocks_ + names_len_, idents_len_) == 0);
}

namespace {
// 8 bytes at p in the order of their bytes (memcmp's order as an unsigned compare).
inline uint64_t be_word(const char *p)
{
    uint64_t v;
    std::memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}

// jsonb_key_compare(a, b) < 0, == 0 or > 0 as -1, 0, 1, for names of the same size n >= 8:
// word by word from the front, the last word overlapping the one before (its bytes before
// the overlap are equal by then, so it orders as the tail does).
inline int same_size_compare(const char *a, const char *b, size_t n)
{
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        const uint64_t x = be_word(a + k), y = be_word(b + k);
        if (x != y)
            return x < y ? -1 : 1;
    }
    if (k < n) {
        const uint64_t x = be_word(a + n - 8), y = be_word(b + n - 8);
        if (x != y)
            return x < y ? -1 : 1;
    }
    return 0;
}
}  // namespace

bool run_subset_indexes(const UserRun &run, const std::string_view *names, uint32_t m, uint32_t *out)
{
    if (!run.ordered)
        return false;
    uint32_t j = 0;
    for (uint32_t i = 0; i < m; i++) {
        const std::string_view name = names[i];
        // Step past the run's names before this one in JSONB key order (shorter first, then
        // bytewise); stop at the first that is not before it: found when byte-identical.
        for (;; j++) {
            if (j == run.n)
                return false;
            const std::string_view at = run.names[j];
            if (at.size() == name.size() && name.size() >= 16 && name.size() <= 128 &&
                same_bytes_likely(at.data(), name.data(), name.size()))
                break;  // the common case first: the run's next name is this one
            const int c = at.size() != name.size() ? (at.size() < name.size() ? -1 : 1)
                          : name.size() >= 8     ? same_size_compare(at.data(), name.data(), name.size())
                                                 : jsonb_key_compare(at, name);
            if (c < 0)
                continue;
            if (c > 0)
                return false;
            break;
        }
        out[i] = j++;
    }
    return true;
}

UserRun UserDirectory::run() const
{
    UserRun r;
    r.n = users_;
    r.names = names_.data();
    r.hashes = hashes_.data();
    r.records = records_.data();
    r.identities = identities_.data();
    r.ordered = ordered_;
    return r;
}

}  // namespace ducache::core
