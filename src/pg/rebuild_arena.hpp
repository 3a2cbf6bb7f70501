// A bump arena for one day of the rebuild, reused day after day. Its buffer grows to the
// largest day seen and is kept, so after the first days a day's model and JSON tree allocate
// nothing from malloc: freeing and re-faulting those pages every day (the rebuild's memory
// context blocks above 8 kB are each malloc'd and handed back on reset) was about a fifth of
// a rebuild that changes nothing at 10,000 users a day. Nothing allocated here is destroyed:
// the arena's memory is simply reused, so only trivially-destructible data or data whose
// destructors only free arena memory may live in it (the core's pmr containers).
#pragma once

#include "pg/boundary.hpp"
#include "pg/context_resource.hpp"

#include <memory_resource>
#include <optional>

namespace ducache::pg {

class DayArena {
public:
    // keep_in: the context that holds the kept buffer; overflow: a context reset after each
    // day, for what does not fit the buffer on the day it grows.
    DayArena(MemoryContext keep_in, MemoryContext overflow) : keep_in_(keep_in), overflow_(overflow, &spilled_) {}

    // The arena of a new day (the previous one must have ended).
    std::pmr::memory_resource *begin()
    {
        spilled_ = 0;
        arena_.emplace(buffer_, size_, &overflow_);
        return &*arena_;
    }
    // Ends the day: what it spilled past the buffer makes the buffer bigger for the next.
    void end()
    {
        arena_.reset();
        if (spilled_ == 0)
            return;
        size_t want = size_ + spilled_ + (size_ + spilled_) / 4;
        pg_call([&] {
            if (buffer_)
                pfree(buffer_);
            buffer_ = nullptr;
            buffer_ = MemoryContextAllocHuge(keep_in_, want);
        });
        size_ = want;
    }

private:
    // Allocates from a context and counts the bytes (the arena asks in big blocks).
    class Counting final : public std::pmr::memory_resource {
    public:
        Counting(MemoryContext cxt, size_t *count) : cxt_(cxt), count_(count) {}

    private:
        void *do_allocate(size_t bytes, size_t alignment) override
        {
            *count_ += bytes;
            return cxt_.allocate(bytes, alignment);
        }
        void do_deallocate(void *p, size_t bytes, size_t alignment) override { cxt_.deallocate(p, bytes, alignment); }
        bool do_is_equal(const std::pmr::memory_resource &other) const noexcept override { return this == &other; }

        ContextResource cxt_;
        size_t *count_;
    };

    MemoryContext keep_in_;
    size_t spilled_ = 0;
    Counting overflow_;
    void *buffer_ = nullptr;
    size_t size_ = 0;
    std::optional<std::pmr::monotonic_buffer_resource> arena_;
};

}  // namespace ducache::pg
