// Test-only entry points (built with make DUCACHE_TEST_HOOKS=1) that fail on purpose, to prove
// the boundary in both directions: C++ exceptions become clean ERRORs, and PostgreSQL ERRORs
// raised under C++ frames unwind them (destructors run, nothing leaks).
#ifdef DUCACHE_TEST_HOOKS

#include "core/error.hpp"

#include "core/decimal.hpp"
#include "core/metrics.hpp"
#include "core/object_view.hpp"
#include "core/user_pack.hpp"
#include "core/user_directory.hpp"

#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/dashboard_user_pack.hpp"
#include "pg/user_directory.hpp"
#include "pg/numeric_decode.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "access/parallel.h"
}

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// Counts live instances, so a test can see that every destructor ran.
long live_objects = 0;

struct Tracked {
    std::vector<char> payload;  // 1 MB of heap that would leak if the destructor were skipped
    Tracked() : payload(1 << 20, 'x') { ++live_objects; }
    ~Tracked() { --live_objects; }
};

void fail_inside_cpp(const std::string &kind)
{
    Tracked alive;  // must be destroyed whatever happens below
    if (kind == "runtime_error")
        throw std::runtime_error("deliberate std::runtime_error");
    if (kind == "core_error")
        throw ducache::core::Error("22023", "deliberate core error", "element 7");
    if (kind == "bad_alloc")
        throw std::bad_alloc();
    if (kind == "unknown")
        throw 42;
    if (kind == "pg_error")
        ducache::pg::pg_call([] {
            ereport(ERROR, (errcode(ERRCODE_DIVISION_BY_ZERO), errmsg("deliberate PostgreSQL error"),
                            errdetail("raised by ereport inside pg_call")));
        });
    if (kind == "spi_error")
        ducache::pg::pg_call([] {
            SPI_connect();
            SPI_execute("SELECT 1 / 0", true, 0);
            SPI_finish();
        });
    if (kind == "alloc_over_limit")  // one byte past MaxAllocSize through palloc_or_throw: 54000
        ducache::pg::palloc_or_throw(CurrentMemoryContext, size_t(MaxAllocSize) + 1, "a test hook's bytes");
    if (kind == "palloc_huge")
        ducache::pg::pg_call([] { return palloc(MaxAllocSize + 1); });
    if (kind == "valgrind_canary") {
        // A deliberate read of uninitialised heap memory, so the valgrind check can prove it
        // sees errors in ducache.so (a check that cannot fail proves nothing).
        int *p = static_cast<int *>(std::malloc(64 * sizeof(int)));
        if (p[7] > 0)  // a real conditional jump on the undefined value (a call follows)
            live_objects += std::rand() % 2;
        std::free(p);
    }
    if (kind == "nested_pg_error")  // an ERROR in a pg_call inside another: its PgError crosses the outer one
        ducache::pg::pg_call([] {
            ducache::pg::pg_call([] {
                ereport(ERROR, (errcode(ERRCODE_DIVISION_BY_ZERO), errmsg("deliberate nested PostgreSQL error")));
            });
        });
    if (kind == "interrupt")
        ducache::pg::pg_call([] {
            ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED), errmsg("canceling statement due to user request")));
        });
}

}  // namespace

DUCACHE_FUNCTION(ducache_test_fail)
{
    text *kind = PG_GETARG_TEXT_PP(0);
    fail_inside_cpp(std::string(VARDATA_ANY(kind), VARSIZE_ANY_EXHDR(kind)));
    PG_RETURN_BOOL(true);
}

DUCACHE_FUNCTION(ducache_test_live_objects)
{
    PG_RETURN_INT64(live_objects);
}

namespace {

// The exact sum of a numeric[] (core::DecimalSum, as the documents sum costs).
ducache::core::DecimalSum sum_of(FunctionCallInfo fcinfo)
{
    ArrayType *array = PG_GETARG_ARRAYTYPE_P(0);
    Datum *values = nullptr;
    bool *nulls = nullptr;
    int n = 0;
    ducache::pg::pg_call([&] { deconstruct_array(array, NUMERICOID, -1, false, TYPALIGN_INT, &values, &nulls, &n); });
    ducache::core::DecimalSum sum;
    for (int i = 0; i < n; i++) {
        if (nulls[i])
            continue;
        ducache::core::Decimal d;
        const char *p = ducache::pg::pg_call([&] { return reinterpret_cast<const char *>(PG_DETOAST_DATUM_PACKED(values[i])); });
        if (!ducache::pg::decode_numeric(p, d))
            throw ducache::core::Error("22023", "not a finite number");
        sum.add(d);
    }
    return sum;
}

}  // namespace

// The sum's numeric made from its digits as the JSONB documents make it (NULL when the sum
// takes the text path), for sql/79_numeric_direct to compare with numeric_in of its text.
DUCACHE_FUNCTION(ducache_test_sum_direct)
{
    ducache::core::DecimalSum sum = sum_of(fcinfo);
    ducache::core::NumericDigits d;
    if (!sum.numeric_digits(d))
        PG_RETURN_NULL();
    size_t len = ducache::pg::numeric_encoded_size(d);
    char *bytes = static_cast<char *>(ducache::pg::palloc_or_throw(CurrentMemoryContext, len, "a numeric"));
    ducache::pg::encode_numeric(d, bytes, len);
    PG_RETURN_POINTER(bytes);
}

// The sum's text (DecimalSum::to_string: what the documents' text path prints).
DUCACHE_FUNCTION(ducache_test_sum_text)
{
    std::string t = sum_of(fcinfo).to_string();
    PG_RETURN_TEXT_P(ducache::pg::pg_call([&] { return cstring_to_text_with_len(t.data(), int(t.size())); }));
}

// The scans' text for ducache_month_of(d) (block false) or ducache_block_of(d) (block true),
// evaluated on d, for sql/79_scan_month_of to compare with the SQL functions.
DUCACHE_FUNCTION(ducache_test_scan_month_of)
{
    DateADT d = PG_GETARG_DATEADT(0);
    bool block = PG_GETARG_BOOL(1);
    bool isnull = true;
    Datum out = ducache::pg::pg_call([&] {
        const char *expr = block ? ducache::pg::block_of_sql("$1") : ducache::pg::month_of_sql("$1");
        Oid types[1] = {DATEOID};
        Datum args[1] = {DateADTGetDatum(d)};
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        if (SPI_execute_with_args(psprintf("SELECT %s", expr), 1, types, args, nullptr, true, 1) != SPI_OK_SELECT)
            elog(ERROR, "SPI_execute_with_args failed");
        Datum v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
        SPI_finish();
        return v;  // a date: passed by value
    });
    if (isnull)
        PG_RETURN_NULL();
    PG_RETURN_DATUM(out);
}

// The rollup rows' packs the dashboard decoded in this backend (pg/dashboard_user_pack.hpp), for
// sql/79_user_pack_dashboard to show that packs without bounds are refused before decoding.
DUCACHE_FUNCTION(ducache_test_pack_decodes)
{
    PG_RETURN_INT64(int64(ducache::pg::pack_decodes_for_tests));
}

// The backend's user directories built, and pack rows that matched one (pg/user_directory.hpp):
// sql/79_user_directory shows a later call uses the directory and a changed user list does not.
DUCACHE_FUNCTION(ducache_test_user_directory_builds)
{
    PG_RETURN_INT64(int64(ducache::pg::user_directory_builds_for_tests));
}

DUCACHE_FUNCTION(ducache_test_user_directory_hits)
{
    PG_RETURN_INT64(int64(ducache::pg::user_directory_hits_for_tests));
}

// Every setting as this process's accessors return it, and whether it is a parallel worker: run
// in a worker (force_parallel_mode), sql/78_parallel_breakdown shows a worker, which defines no
// settings, sees the leader's values (pg/settings.cpp: read_from_leader).
DUCACHE_FUNCTION(ducache_test_settings_seen)
{
    using namespace ducache::pg;
    return pg_call([] {
        char *t = psprintf("worker=%s users_table=%s api_keys_table=%s use_rollups=%d use_user_packs=%d "
                           "use_user_directory=%d parallel_min_days=%d parallel_min_kb=%d test_json_text=%d "
                           "test_top_key_pause=%d test_top_key_first=%d test_top_key_max=%d test_alloc_limit=%d "
                           "test_jsonb_limit=%d test_trace_parallel=%d test_partial_bytes=%d test_gather_via_query=%d "
                           "test_shard_pause=%s",
                           IsParallelWorker() ? "yes" : "no", users_table_setting(), api_keys_table_setting(),
                           use_rollups_setting(), use_user_packs_setting(), use_user_directory_setting(),
                           parallel_min_days_setting(), parallel_min_kb_setting(), test_json_text_setting(),
                           test_top_key_pause_setting(), test_top_key_first_setting(), test_top_key_max_setting(),
                           test_alloc_limit_setting(), test_jsonb_limit_setting(), test_trace_parallel_setting(),
                           test_partial_bytes_setting(), test_gather_via_query_setting(), test_shard_pause_setting());
        return PointerGetDatum(cstring_to_text(t));
    });
}

#endif  // DUCACHE_TEST_HOOKS
