// Memory contexts for C++ code: a call's work context, and a std::pmr::memory_resource that
// allocates from a PostgreSQL memory context, so the core's
// containers are visible to PostgreSQL's memory accounting and vanish with the context even
// if an ERROR means their destructors never run.
#pragma once

#include "pg/boundary.hpp"
#include "pg/postgres.hpp"

#include <memory_resource>

namespace ducache::pg {

class ContextResource final : public std::pmr::memory_resource {
public:
    explicit ContextResource(MemoryContext cxt) : cxt_(cxt) {}
    MemoryContext context() const { return cxt_; }

private:
    void *do_allocate(size_t bytes, size_t alignment) override;
    void do_deallocate(void *p, size_t bytes, size_t alignment) override;
    bool do_is_equal(const std::pmr::memory_resource &other) const noexcept override
    {
        return this == &other;
    }

    MemoryContext cxt_;
};

inline MemoryContext new_work_context(const char *name)
{
    // name must be a string literal (PostgreSQL keeps the pointer).
    return pg_call([&] { return AllocSetContextCreateInternal(CurrentMemoryContext, name, ALLOCSET_DEFAULT_SIZES); });
}

// A work context reset once per item of a loop (a day): its first block, of keep_bytes, stays
// allocated across resets, so the loop does not hand its memory back to malloc and fault it
// in again (page faults were a fifth of a rebuild's time with the default sizes).
inline MemoryContext new_reused_context(const char *name, size_t keep_bytes)
{
    return pg_call([&] {
        return AllocSetContextCreateInternal(CurrentMemoryContext, name, keep_bytes, keep_bytes, ALLOCSET_DEFAULT_MAXSIZE);
    });
}

inline void delete_context(MemoryContext cxt)
{
    pg_call([&] { MemoryContextDelete(cxt); });
}

}  // namespace ducache::pg
