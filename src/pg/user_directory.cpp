#include "pg/user_directory.hpp"

#include "pg/boundary.hpp"
#include "pg/context_resource.hpp"

#include <new>

extern "C" {
#include "access/xact.h"
#include "utils/memutils.h"
}

namespace ducache::pg {

namespace {

constexpr int kMaxRetired = 8;

struct Directory {
    ContextResource memory;
    core::UserDirectory dir;
    explicit Directory(MemoryContext cxt) : memory(cxt), dir(&memory) {}
};

MemoryContext root = nullptr;         // "ducache user directory", under TopMemoryContext
MemoryContext current_cxt = nullptr;  // the current directory's context (its Directory first)
Directory *current = nullptr;
MemoryContext retired[kMaxRetired];
int n_retired = 0;

// End of a transaction: no call holds views any more; the retired directories go.
void at_xact_end(XactEvent event, void *)
{
    if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT && event != XACT_EVENT_PARALLEL_COMMIT &&
        event != XACT_EVENT_PARALLEL_ABORT && event != XACT_EVENT_PREPARE)
        return;
    for (int i = 0; i < n_retired; i++)
        MemoryContextDelete(retired[i]);
    n_retired = 0;
}

}  // namespace

const core::UserDirectory *backend_user_directory(uint32 users, std::string_view names_block,
                                                  std::string_view idents_block)
{
    if (current == nullptr || !current->dir.same(users, names_block, idents_block))
        return nullptr;
#ifdef DUCACHE_TEST_HOOKS
    user_directory_hits_for_tests++;
#endif
    return &current->dir;
}

const core::UserDirectory *current_backend_user_directory() { return current ? &current->dir : nullptr; }

const core::UserDirectory *build_backend_user_directory(const core::UserPackView &checked)
{
    if (n_retired >= kMaxRetired - 1)  // room for the new context and the current one
        return nullptr;
    if (core::UserDirectory::bytes_for(checked.names_block().size(), checked.identities_block().size(),
                                       checked.users()) > core::UserDirectory::kMaxBytes)
        return nullptr;
    // The new context is retired from the start (an error while building leaves it to the
    // transaction's end); it becomes the current one once built.
    MemoryContext cxt = pg_call([] {
        if (root == nullptr) {
            root = AllocSetContextCreate(TopMemoryContext, "ducache user directory", ALLOCSET_DEFAULT_SIZES);
            RegisterXactCallback(at_xact_end, nullptr);
        }
        return AllocSetContextCreate(root, "ducache user directory entry", ALLOCSET_DEFAULT_SIZES);
    });
    retired[n_retired++] = cxt;
    void *room = pg_call([&] { return MemoryContextAllocExtended(cxt, sizeof(Directory), 0); });
    Directory *d = new (room) Directory(cxt);  // never destroyed: its context is deleted whole
    if (!d->dir.build(checked))
        return nullptr;
    n_retired--;  // cxt, the last retired, is the current one now; the old one is retired
    if (current_cxt != nullptr)
        retired[n_retired++] = current_cxt;
    current_cxt = cxt;
    current = d;
#ifdef DUCACHE_TEST_HOOKS
    user_directory_builds_for_tests++;
#endif
    return &d->dir;
}

}  // namespace ducache::pg
