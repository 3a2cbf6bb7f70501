// libpq, opened when a backend first talks to a shard instead of with the library. Linked as a
// dependency it was mapped and bound (its ~290 symbols, ducache's 34 calls into it) in every
// backend and every parallel worker that loads ducache, ~0.7 M instructions, though only a
// coordinator's calls use it (docs/benchmarks.md, round 13 of issue 13).
//
// Each libpq function ducache calls is defined here under its own name (hidden: -fvisibility=
// hidden, src/pg/exports.map), forwarding to the function dlsym found. So the shard code calls
// libpq as before, and the compiler checks each signature against libpq-fe.h (a C function
// declared twice differently does not compile). The library is opened on the first call of a
// backend: a PGconn or PGresult exists only after PQconndefaults or PQconnectStartParams
// succeeded, so every other call finds it open. A second dlopen of libpq.so.5 (postgres_fdw's or
// dblink's dependency) is the same library: connections and results are the same objects.
//
// A failure to open it raises a PostgreSQL ERROR, as every libpq call site allows: they are the
// C-style shard functions, which their C++ callers run in pg_call (pg/shard_conn.hpp).
#include "pg/postgres.hpp"

#include <dlfcn.h>
#include <libpq-fe.h>

// libpq's soname: its major version has been 5 since PostgreSQL 8.0 (its ABI is kept stable).
#ifdef __APPLE__
#define DUCACHE_LIBPQ "libpq.5.dylib"
#else
#define DUCACHE_LIBPQ "libpq.so.5"
#endif

// Every libpq function ducache calls: X(result, name, parameters, arguments).
#define DUCACHE_LIBPQ_CALLS(X)                                                                            \
    X(int, PQcancel, (PGcancel * c, char *buf, int size), (c, buf, size))                                \
    X(void, PQclear, (PGresult * r), (r))                                                                \
    X(PQconninfoOption *, PQconndefaults, (void), ())                                                    \
    X(PostgresPollingStatusType, PQconnectPoll, (PGconn * c), (c))                                       \
    X(PGconn *, PQconnectStartParams, (const char *const *k, const char *const *v, int expand), (k, v, expand)) \
    X(int, PQconnectionUsedPassword, (const PGconn *c), (c))                                             \
    X(void, PQconninfoFree, (PQconninfoOption * o), (o))                                                 \
    X(int, PQconsumeInput, (PGconn * c), (c))                                                            \
    X(int, PQenterPipelineMode, (PGconn * c), (c))                                                       \
    X(char *, PQerrorMessage, (const PGconn *c), (c))                                                    \
    X(int, PQexitPipelineMode, (PGconn * c), (c))                                                        \
    X(int, PQfformat, (const PGresult *r, int f), (r, f))                                                \
    X(void, PQfinish, (PGconn * c), (c))                                                                 \
    X(int, PQflush, (PGconn * c), (c))                                                                   \
    X(void, PQfreeCancel, (PGcancel * c), (c))                                                           \
    X(PGcancel *, PQgetCancel, (PGconn * c), (c))                                                        \
    X(PGresult *, PQgetResult, (PGconn * c), (c))                                                        \
    X(int, PQgetisnull, (const PGresult *r, int t, int f), (r, t, f))                                    \
    X(int, PQgetlength, (const PGresult *r, int t, int f), (r, t, f))                                    \
    X(char *, PQgetvalue, (const PGresult *r, int t, int f), (r, t, f))                                  \
    X(int, PQisBusy, (PGconn * c), (c))                                                                  \
    X(int, PQnfields, (const PGresult *r), (r))                                                          \
    X(int, PQntuples, (const PGresult *r), (r))                                                          \
    X(PGpipelineStatus, PQpipelineStatus, (const PGconn *c), (c))                                        \
    X(int, PQpipelineSync, (PGconn * c), (c))                                                            \
    X(char *, PQresultErrorField, (const PGresult *r, int code), (r, code))                              \
    X(char *, PQresultErrorMessage, (const PGresult *r), (r))                                            \
    X(ExecStatusType, PQresultStatus, (const PGresult *r), (r))                                          \
    X(int, PQsendQuery, (PGconn * c, const char *q), (c, q))                                             \
    X(int, PQsendQueryParams,                                                                            \
      (PGconn * c, const char *q, int n, const Oid *types, const char *const *values, const int *lengths, \
       const int *formats, int result_format),                                                           \
      (c, q, n, types, values, lengths, formats, result_format))                                         \
    X(int, PQsetnonblocking, (PGconn * c, int arg), (c, arg))                                            \
    X(int, PQsocket, (const PGconn *c), (c))                                                             \
    X(ConnStatusType, PQstatus, (const PGconn *c), (c))                                                  \
    X(PGTransactionStatusType, PQtransactionStatus, (const PGconn *c), (c))

namespace {

struct Libpq {
#define DUCACHE_LIBPQ_POINTER(result, name, params, args) decltype(&::name) name;
    DUCACHE_LIBPQ_CALLS(DUCACHE_LIBPQ_POINTER)
#undef DUCACHE_LIBPQ_POINTER
};

Libpq api;
bool opened = false;

void *symbol(void *lib, const char *name)
{
    void *p = dlsym(lib, name);
    if (p == nullptr)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
                        errmsg("could not find function \"%s\" in library \"%s\"", name, DUCACHE_LIBPQ)));
    return p;
}

const Libpq &libpq()
{
    if (likely(opened))
        return api;
    void *lib = dlopen(DUCACHE_LIBPQ, RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
        const char *why = dlerror();
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FILE),
                        errmsg("could not load library \"%s\": %s", DUCACHE_LIBPQ, why ? why : "unknown error"),
                        errhint("ducache's shards and coordinators need libpq, PostgreSQL's client library.")));
    }
#define DUCACHE_LIBPQ_RESOLVE(result, name, params, args) \
    api.name = reinterpret_cast<decltype(api.name)>(symbol(lib, #name));
    DUCACHE_LIBPQ_CALLS(DUCACHE_LIBPQ_RESOLVE)
#undef DUCACHE_LIBPQ_RESOLVE
    opened = true;
    return api;
}

}  // namespace

extern "C" {
#define DUCACHE_LIBPQ_FORWARD(result, name, params, args) \
    result name params { return libpq().name args; }
DUCACHE_LIBPQ_CALLS(DUCACHE_LIBPQ_FORWARD)
#undef DUCACHE_LIBPQ_FORWARD
}
