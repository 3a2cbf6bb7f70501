#include "core/parallel_rule.hpp"

#include "pg/settings.hpp"

#include "pg/postgres.hpp"

extern "C" {
#include "access/parallel.h"
#include "utils/builtins.h"
#include "utils/guc.h"
}

namespace ducache::pg {

namespace {
char *users_table = nullptr;
char *api_keys_table = nullptr;
bool use_rollups = true;
bool use_user_packs = true;
bool use_user_directory = true;
constexpr int kParallelMinDaysDefault = 60;
int parallel_min_days = kParallelMinDaysDefault;
int parallel_min_kb = core::kParallelMinKbDefault;
#ifdef DUCACHE_TEST_HOOKS
bool test_json_text = false;
int test_top_key_pause = 0, test_top_key_first = -1, test_top_key_max = -1;
int test_alloc_limit = 0, test_jsonb_limit = 0;
bool test_trace_parallel = false;
bool test_gather_via_query = false;
bool test_partial_bytes = false;
int test_worker_leaves_ms = -1;
char *test_shard_pause = nullptr;
#endif

// A parallel worker defines no settings. PostgreSQL 15 re-sorts its whole array of settings for
// each setting (or placeholder) added: ~0.67 M instructions each, most of a worker's start
// (docs/benchmarks.md, round 13 of issue 13: loading the library). RestoreGUCState, which runs
// after the libraries are loaded (access/transam/parallel.c), then makes each of the leader's
// ducache.* values not at its default (only those are sent) a placeholder, and the accessors
// read it (absent, or no value: the default). Defining them later in the worker would not do:
// define_custom_variable applies a placeholder's value with set_config_option, which in parallel
// mode refuses with a WARNING and leaves the default. Read on each call, not kept: a function's
// own SET clause (GUC_ACTION_SAVE) may still change one inside a worker; a few calls a query
// (each a bsearch of the array), except test_alloc_limit below. With shared_preload_libraries
// the worker finds the library loaded and inherits the defined settings: this stays false.
bool from_leader = false;

bool leader_bool(const char *name, bool dflt)
{
    const char *v = GetConfigOption(name, true, false);  // no ERROR: missing_ok
    bool b;
    return v != nullptr && parse_bool(v, &b) ? b : dflt;
}

// The leader sends an int in its base unit ("%d"); parse_int also takes units, as SET would.
int leader_int(const char *name, int dflt, int min, int max, int flags = 0)
{
    const char *v = GetConfigOption(name, true, false);
    int i;
    return v != nullptr && parse_int(v, &i, flags, nullptr) && i >= min && i <= max ? i : dflt;
}

// The placeholder's own string (valid while its value is; as a defined setting's is).
const char *leader_string(const char *name, const char *dflt)
{
    const char *v = GetConfigOption(name, true, false);
    return v != nullptr ? v : dflt;
}
}  // namespace

void define_settings()
{
    if (IsParallelWorker()) {  // the library loaded in a parallel worker: see from_leader
        from_leader = true;
        return;
    }
    DefineCustomStringVariable(
        "ducache.users_table",
        "Table that maps user ids to username, email and role for the user breakdown.",
        "Unqualified: a table in ducache's own schema (never looked up on the search_path); "
        "or schema-qualified. Empty string: no identity lookup. The default 'users' is used "
        "only when such a table exists.",
        &users_table, "users", PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable(
        "ducache.api_keys_table",
        "Table that maps API key hashes to users for ducache_rebuild.",
        "Unqualified: a table in ducache's own schema (never looked up on the search_path); "
        "or schema-qualified. Needs columns key_hash, user_id, name.",
        &api_keys_table, "api_keys", PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable(
        "ducache.use_rollups",
        "Lets the read functions answer whole calendar months from fresh month rollups.",
        "A rollup is used only while no change to its month is logged, and only for callers "
        "who may read every row of daily_usage_cache; results are the same either way. "
        "Off: every function reads the days.",
        &use_rollups, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable(
        "ducache.use_user_packs",
        "Lets the unfiltered dashboard read its rollup rows' users from their packed column (user_pack).",
        "Used only when every rollup row a call reads has one (rows written before 0.4.0's "
        "packs, or whose values do not fit, have none: the call then reads user_totals); "
        "results are the same either way.",
        &use_user_packs, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable(
        "ducache.use_user_directory",
        "Lets the dashboard keep its rollup rows' user lists between calls (a backend's user directory).",
        "A rollup row whose packed user list is byte-identical to the kept one takes its users "
        "from it instead of reading them again; results are the same either way.",
        &use_user_directory, true, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "ducache.parallel_min_days",
        "Ranges of at least this many days are summed by parallel workers (unfiltered user breakdown).",
        "The user breakdown then runs a parallel partial aggregation over its days, when the "
        "planner gives workers (max_parallel_workers_per_gather > 0) and no rollup is built for "
        "the range; results are the same either way. -1: never.",
        &parallel_min_days, kParallelMinDaysDefault, -1, 100000, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable(
        "ducache.parallel_min_kb",
        "The least stored size of a range's aggregated_by_user the user breakdown hands to parallel workers.",
        "Below it the workers' fixed costs (their start, a partial state of every key in each "
        "process) outweigh what they save, so the range is read in one process "
        "(core/parallel_rule.hpp); results are the same either way. 0: no minimum.",
        &parallel_min_kb, core::kParallelMinKbDefault, 0, INT_MAX, PGC_USERSET, GUC_UNIT_KB, nullptr, nullptr, nullptr);
#ifdef DUCACHE_TEST_HOOKS
    DefineCustomBoolVariable("ducache.test_json_text",
                             "Test only: the documents the core writes into a sink (the dashboard, the filter options, "
                             "the rollups' key_totals) become jsonb by jsonb_in of their JSON text (the path before "
                             "round 8), not built directly.",
                             nullptr, &test_json_text, false, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("ducache.test_top_key_pause",
                            "Test only: the dashboard's top key waits on this advisory lock between its passes "
                            "(pg/dashboard_top_key.cpp; 0: never).",
                            nullptr, &test_top_key_pause, 0, 0, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("ducache.test_top_key_first",
                            "Test only: the users of highest bound the dashboard's top key sums in its second pass "
                            "(-1: the built-in number).",
                            nullptr, &test_top_key_first, -1, -1, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("ducache.test_top_key_max",
                            "Test only: the most users the dashboard's top key probes before it sums every other "
                            "user's pairs (-1: users / 4 + 16).",
                            nullptr, &test_top_key_max, -1, -1, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("ducache.test_alloc_limit",
                            "Test only: the largest allocation palloc_or_throw lets through, in bytes (pg/boundary.hpp; "
                            "0: MaxAllocSize, 1 GB), so the 54000 of a request past it is reached without 1 GB of data.",
                            nullptr, &test_alloc_limit, 0, 0, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("ducache.test_jsonb_limit",
                            "Test only: the largest jsonb body ducache_merge's final function lays out, in bytes "
                            "(0: JENTRY_OFFLENMASK, 256 MB), so its 54000 is reached without 256 MB of data.",
                            nullptr, &test_jsonb_limit, 0, 0, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("ducache.test_trace_parallel",
                             "Test only: the parallel user breakdown logs its timeline (each process's steps with "
                             "its wall and CPU clocks, pg/parallel_trace.hpp) at LOG.",
                             nullptr, &test_trace_parallel, false, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("ducache.test_partial_bytes",
                             "Test only: the user breakdown's workers send their partial's bytes through the "
                             "Gather's queue, not through the query's shared memory (the fallback, pg/partial_dsa.hpp).",
                             nullptr, &test_partial_bytes, false, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomIntVariable("ducache.test_worker_leaves_ms",
                            "Test only: a parallel user breakdown's worker leaves the days still unclaimed to the "
                            "leader once they would take it this long (pg/day_claims.hpp; -1: the rule's estimate).",
                            nullptr, &test_worker_leaves_ms, -1, -1, INT_MAX, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomBoolVariable("ducache.test_gather_via_query",
                             "Test only: a coordinator read asks its shards with the gather query through postgres_fdw's "
                             "executor (round 4's path), not directly on its connections.",
                             nullptr, &test_gather_via_query, false, PGC_USERSET, 0, nullptr, nullptr, nullptr);
    DefineCustomStringVariable("ducache.test_shard_pause", "Test only: pause at a point of the shard commit.",
                               nullptr, &test_shard_pause, "", PGC_SUSET, 0, nullptr, nullptr, nullptr);
#endif
    MarkGUCPrefixReserved("ducache");
}

// In a worker: the leader's values, each default and bounds as in define_settings.
const char *users_table_setting()
{
    return from_leader ? leader_string("ducache.users_table", "users") : users_table ? users_table : "";
}
const char *api_keys_table_setting()
{
    return from_leader ? leader_string("ducache.api_keys_table", "api_keys") : api_keys_table ? api_keys_table : "";
}
bool use_rollups_setting() { return from_leader ? leader_bool("ducache.use_rollups", true) : use_rollups; }
bool use_user_packs_setting() { return from_leader ? leader_bool("ducache.use_user_packs", true) : use_user_packs; }
bool use_user_directory_setting()
{
    return from_leader ? leader_bool("ducache.use_user_directory", true) : use_user_directory;
}
int parallel_min_days_setting()
{
    return from_leader ? leader_int("ducache.parallel_min_days", kParallelMinDaysDefault, -1, 100000) : parallel_min_days;
}
int parallel_min_kb_setting()
{
    return from_leader ? leader_int("ducache.parallel_min_kb", core::kParallelMinKbDefault, 0, INT_MAX, GUC_UNIT_KB)
                       : parallel_min_kb;
}
#ifdef DUCACHE_TEST_HOOKS
bool test_json_text_setting() { return from_leader ? leader_bool("ducache.test_json_text", false) : test_json_text; }
int test_top_key_pause_setting()
{
    return from_leader ? leader_int("ducache.test_top_key_pause", 0, 0, INT_MAX) : test_top_key_pause;
}
int test_top_key_first_setting()
{
    return from_leader ? leader_int("ducache.test_top_key_first", -1, -1, INT_MAX) : test_top_key_first;
}
int test_top_key_max_setting()
{
    return from_leader ? leader_int("ducache.test_top_key_max", -1, -1, INT_MAX) : test_top_key_max;
}
int test_alloc_limit_setting()
{
    if (unlikely(from_leader)) {  // read at every allocation: kept from the first (a SET clause is not seen)
        static const int leader = leader_int("ducache.test_alloc_limit", 0, 0, INT_MAX);
        return leader;
    }
    return test_alloc_limit;
}
int test_jsonb_limit_setting()
{
    return from_leader ? leader_int("ducache.test_jsonb_limit", 0, 0, INT_MAX) : test_jsonb_limit;
}
bool test_trace_parallel_setting()
{
    return from_leader ? leader_bool("ducache.test_trace_parallel", false) : test_trace_parallel;
}
bool test_partial_bytes_setting()
{
    return from_leader ? leader_bool("ducache.test_partial_bytes", false) : test_partial_bytes;
}
int test_worker_leaves_ms_setting()
{
    return from_leader ? leader_int("ducache.test_worker_leaves_ms", -1, -1, INT_MAX) : test_worker_leaves_ms;
}
bool test_gather_via_query_setting()
{
    return from_leader ? leader_bool("ducache.test_gather_via_query", false) : test_gather_via_query;
}
const char *test_shard_pause_setting()
{
    return from_leader ? leader_string("ducache.test_shard_pause", "") : test_shard_pause ? test_shard_pause : "";
}
#else
bool test_json_text_setting() { return false; }
int test_top_key_pause_setting() { return 0; }
int test_top_key_first_setting() { return -1; }
int test_top_key_max_setting() { return -1; }
int test_alloc_limit_setting() { return 0; }
int test_jsonb_limit_setting() { return 0; }
bool test_trace_parallel_setting() { return false; }
bool test_partial_bytes_setting() { return false; }
int test_worker_leaves_ms_setting() { return -1; }
bool test_gather_via_query_setting() { return false; }
const char *test_shard_pause_setting() { return ""; }
#endif

}  // namespace ducache::pg
