// Core headers come before PostgreSQL ones: they refuse to compile once postgres.h is in.
#include "core/error.hpp"

#include "pg/boundary.hpp"
#include "pg/settings.hpp"

#include <exception>

namespace ducache::pg {

const char *PgError::what() const noexcept
{
    return data_ && data_->message ? data_->message : "PostgreSQL error";
}

void run_catching_pg_errors(void (*fn)(void *), void *arg)
{
    MemoryContext caller_cxt = CurrentMemoryContext;
    ErrorData *volatile caught = nullptr;
    // A C++ exception out of fn (a nested pg_call's PgError, a core::Error) must not leave
    // through PG_TRY: PG_END_TRY would be skipped and PG_exception_stack (and
    // error_context_stack) left pointing into this dead frame, so the next ERROR longjmps there
    // (a crash seen in round 14 of issue 13: a statement timeout caught by a trace line's
    // errfinish inside the parallel breakdown's pg_call). It is rethrown after PG_END_TRY.
    std::exception_ptr thrown;

    PG_TRY();
    {
        try {
            fn(arg);
        } catch (...) {
            thrown = std::current_exception();
        }
    }
    PG_CATCH();
    {
        // CopyErrorData must not allocate in ErrorContext; the copy lives in the caller's context.
        MemoryContextSwitchTo(caller_cxt);
        caught = CopyErrorData();
        FlushErrorState();
    }
    PG_END_TRY();

    if (thrown)
        std::rethrow_exception(thrown);
    if (caught)
        throw PgError(caught);
}

size_t alloc_limit()
{
    const size_t test = size_t(test_alloc_limit_setting());
    return test > 0 && test < MaxAllocSize ? test : size_t(MaxAllocSize);
}

void check_alloc_size(size_t size, const char *what)
{
    const size_t limit = alloc_limit();
    if (size > limit)
        throw core::Error("54000", "ducache cannot allocate " + std::to_string(size) + " bytes at once",
                          std::string("The request was for ") + what + "; one allocation may be at most " +
                              std::to_string(limit) + " bytes.",
                          "Ask for a shorter range of dates or fewer keys.");
}

void *palloc_or_throw(MemoryContext cxt, size_t size, const char *what)
{
    check_alloc_size(size, what);
    void *p = MemoryContextAllocExtended(cxt, size, MCXT_ALLOC_NO_OOM);
    if (!p)
        throw std::bad_alloc();
    return p;
}

namespace {

// What an escaping exception becomes. Plain char buffers: this outlives the catch block
// (and therefore the exception object) without owning anything that needs a destructor.
struct PendingError {
    enum Kind { NONE, PG, SQL } kind = NONE;
    ErrorData *pg_data = nullptr;
    int sqlerrcode = 0;
    char message[1024];
    char detail[2048];
    char hint[512];
};

void copy_text(char *dst, size_t cap, const char *src)
{
    strlcpy(dst, src ? src : "", cap);
}

void set_sql(PendingError &e, int code, const char *msg, const char *detail, const char *hint)
{
    e.kind = PendingError::SQL;
    e.sqlerrcode = code;
    copy_text(e.message, sizeof e.message, msg);
    copy_text(e.detail, sizeof e.detail, detail);
    copy_text(e.hint, sizeof e.hint, hint);
}

int sqlstate_code(const char *s)
{
    return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

}  // namespace

Datum guarded_call(Datum (*impl)(FunctionCallInfo), FunctionCallInfo fcinfo)
{
    PendingError pending;
    Datum result = (Datum)0;

    try {
        result = impl(fcinfo);
    } catch (const PgError &e) {
        pending.kind = PendingError::PG;
        pending.pg_data = e.data();
    } catch (const core::Error &e) {
        set_sql(pending, sqlstate_code(e.sqlstate), e.message.c_str(), e.detail.c_str(),
                e.hint.c_str());
    } catch (const std::bad_alloc &) {
        set_sql(pending, ERRCODE_OUT_OF_MEMORY, "out of memory", "ducache could not allocate memory.",
                nullptr);
    } catch (const std::exception &e) {
        set_sql(pending, ERRCODE_INTERNAL_ERROR, "internal error in ducache", e.what(), nullptr);
    } catch (...) {
        set_sql(pending, ERRCODE_INTERNAL_ERROR, "internal error in ducache",
                "An unknown C++ exception was caught.", nullptr);
    }

    // Every C++ scope is closed now; raising the ERROR cannot skip a destructor.
    switch (pending.kind) {
    case PendingError::NONE:
        return result;
    case PendingError::PG:
        ReThrowError(pending.pg_data);
        break;
    case PendingError::SQL:
        ereport(ERROR, (errcode(pending.sqlerrcode), errmsg_internal("%s", pending.message),
                        pending.detail[0] ? errdetail_internal("%s", pending.detail) : 0,
                        pending.hint[0] ? errhint("%s", pending.hint) : 0));
    }
    pg_unreachable();
}

}  // namespace ducache::pg
