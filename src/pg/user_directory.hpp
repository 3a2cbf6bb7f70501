// The backend's user directory (core/user_directory.hpp): kept between dashboard calls in a
// memory context of its own under TopMemoryContext. This file owns that memory; the rule of
// when a directory may be used (byte-identical blocks) is core's UserDirectory::same().
//
// Lifetime: a directory is never freed while a call may hold views into it. One built in a
// call replaces the current one, which is retired and freed at the end of the transaction
// (commit or abort: an error in the middle of a call, or of a build, leaves nothing but retired
// contexts, freed then). At most kMaxRetired replacements a transaction (then no new directory
// is built until it ends); none past UserDirectory::kMaxBytes. The memory stays with the
// backend otherwise (one directory, ~1.7 MB at L); it is freed when the backend exits.
#pragma once

#include "core/user_directory.hpp"

#include "pg/postgres.hpp"

#include <string_view>

namespace ducache::pg {

// The current directory when it was built from these blocks (UserDirectory::same), else nullptr.
const core::UserDirectory *backend_user_directory(uint32 users, std::string_view names_block,
                                                  std::string_view idents_block);
// The current directory, whatever blocks it was built from (nullptr: none yet); a call may use
// it until its transaction ends (a replaced directory is retired, not freed, until then).
const core::UserDirectory *current_backend_user_directory();
// A directory of a parsed pack whose blocks passed check_blocks(), made the current one;
// nullptr when none is built (too large, or too many replaced in this transaction).
const core::UserDirectory *build_backend_user_directory(const core::UserPackView &checked);

#ifdef DUCACHE_TEST_HOOKS
// Test builds: directories built and rows matched in this backend (ducache_test_user_directory).
inline uint64_t user_directory_builds_for_tests = 0, user_directory_hits_for_tests = 0;
#endif

}  // namespace ducache::pg
