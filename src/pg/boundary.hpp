// The boundary between PostgreSQL (C, errors by longjmp) and ducache's C++ (errors by
// exception). Two rules keep both worlds intact:
//  1. No C++ exception ever leaves a SQL-callable function: DUCACHE_FUNCTION catches it and
//     raises a PostgreSQL ERROR *after* the catch block has ended and every C++ frame is gone.
//  2. No PostgreSQL ERROR ever longjmps over a live C++ object: PostgreSQL calls that can fail
//     run through pg_call(), which catches the longjmp, keeps the whole ErrorData (SQLSTATE,
//     detail, hint, context) and rethrows it as a C++ exception, so destructors run; the guard
//     re-raises the original error unchanged when the exception reaches the boundary.
#pragma once

#include "pg/postgres.hpp"

#include <exception>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

namespace ducache::pg {

// A PostgreSQL ERROR caught inside C++, carried with all its fields.
class PgError : public std::exception {
public:
    explicit PgError(ErrorData *data) : data_(data) { ++alive_; }
    PgError(const PgError &o) : std::exception(o), data_(o.data_) { ++alive_; }
    ~PgError() override { --alive_; }
    ErrorData *data() const { return data_; }
    const char *what() const noexcept override;
    // Whether a PostgreSQL ERROR is on its way up: then PostgreSQL's state must not be touched
    // until the transaction aborts (destructors that would call PostgreSQL check this).
    static bool in_flight() { return alive_ > 0; }

private:
    ErrorData *data_;  // palloc'd in the caller's memory context; freed with it
    static inline int alive_ = 0;
};

// Runs f() with PostgreSQL's error handling armed; an ERROR becomes a PgError exception.
// f must keep no C++ objects with destructors alive across PostgreSQL calls it makes
// itself (the longjmp lands here, skipping only f's frames).
void run_catching_pg_errors(void (*fn)(void *), void *arg);

template <typename F>
auto pg_call(F &&f) -> decltype(f())
{
    using R = decltype(f());
    if constexpr (std::is_void_v<R>) {
        run_catching_pg_errors([](void *p) { (*static_cast<std::remove_reference_t<F> *>(p))(); },
                               &f);
    } else {
        static_assert(std::is_trivially_destructible_v<R>,
                      "pg_call results must not need destructors (they may be skipped)");
        struct Call {
            F *f;
            R result;
        } call{&f, R{}};
        run_catching_pg_errors([](void *p) {
            auto *c = static_cast<Call *>(p);
            c->result = (*c->f)();
        },
                               &call);
        return call.result;
    }
}

// CHECK_FOR_INTERRUPTS for C++ frames: the common no-interrupt case costs one load; a pending
// cancel is processed inside pg_call so that the resulting ERROR unwinds C++ properly.
inline void check_for_interrupts()
{
    if (unlikely(INTERRUPTS_PENDING_CONDITION()))
        pg_call([] { ProcessInterrupts(); });
}

// palloc that reports exhaustion as std::bad_alloc (53200) instead of longjmp, and a request
// past the largest one allocation may be (MaxAllocSize, 1 GB; lowered by the test builds'
// ducache.test_alloc_limit) as core::Error 54000 whose DETAIL names `what` (static text: what
// the bytes were for) and the size. Without the check palloc's own "invalid memory alloc
// request size" (XX000) would be raised by longjmp over the caller's C++ frames.
void *palloc_or_throw(MemoryContext cxt, size_t size, const char *what);

// The largest size palloc_or_throw (and the checks of sizes computed before allocating) lets
// through: MaxAllocSize, or the test builds' ducache.test_alloc_limit when that is set.
size_t alloc_limit();

// Throws the 54000 of palloc_or_throw when size > alloc_limit().
void check_alloc_size(size_t size, const char *what);

// Entry guard used by DUCACHE_FUNCTION: calls impl and converts every escaping exception
// into a PostgreSQL ERROR raised outside all C++ scopes.
Datum guarded_call(Datum (*impl)(FunctionCallInfo), FunctionCallInfo fcinfo);

}  // namespace ducache::pg

// Declares a SQL-callable function whose body is C++. PostgreSQL 15 leaves PGDLLEXPORT empty,
// and we build with -fvisibility=hidden, so the exported symbols are made visible here.
#define DUCACHE_FUNCTION(name)                                                       \
    static Datum name##_impl(FunctionCallInfo fcinfo);                               \
    extern "C" {                                                                     \
    _Pragma("GCC visibility push(default)") PG_FUNCTION_INFO_V1(name);               \
    Datum name(PG_FUNCTION_ARGS) { return ducache::pg::guarded_call(name##_impl, fcinfo); } \
    _Pragma("GCC visibility pop")                                                    \
    }                                                                                \
    static Datum name##_impl(FunctionCallInfo fcinfo)
