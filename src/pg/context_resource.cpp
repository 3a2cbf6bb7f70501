#include "pg/context_resource.hpp"

#include "pg/boundary.hpp"

namespace ducache::pg {

// palloc guarantees MAXALIGN (8); __int128 members want 16. Over-aligned requests get
// padding, with the original pointer stored just before the aligned block.
void *ContextResource::do_allocate(size_t bytes, size_t alignment)
{
    const int flags = MCXT_ALLOC_NO_OOM | MCXT_ALLOC_HUGE;
    if (alignment <= MAXIMUM_ALIGNOF) {
        void *p = MemoryContextAllocExtended(cxt_, bytes ? bytes : 1, flags);
        if (!p)
            throw std::bad_alloc();
        return p;
    }
    char *raw = static_cast<char *>(
        MemoryContextAllocExtended(cxt_, bytes + alignment + sizeof(void *), flags));
    if (!raw)
        throw std::bad_alloc();
    uintptr_t start = reinterpret_cast<uintptr_t>(raw + sizeof(void *));
    uintptr_t aligned = (start + alignment - 1) & ~(uintptr_t(alignment) - 1);
    reinterpret_cast<void **>(aligned)[-1] = raw;
    return reinterpret_cast<void *>(aligned);
}

void ContextResource::do_deallocate(void *p, size_t, size_t alignment)
{
    if (!p)
        return;
    if (alignment <= MAXIMUM_ALIGNOF)
        pfree(p);
    else
        pfree(reinterpret_cast<void **>(p)[-1]);
}

}  // namespace ducache::pg
