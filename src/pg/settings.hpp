// ducache's GUCs, all of them. Table names are resolved as relations (never pasted into SQL).
#pragma once

namespace ducache::pg {

// Defines the settings and reserves the prefix; in a parallel worker, neither: there every
// accessor returns the leader's value, read from the placeholders the worker's RestoreGUCState
// leaves (settings.cpp: read_from_leader).
void define_settings();

// Current values (never NULL; empty string means "no table").
const char *users_table_setting();
const char *api_keys_table_setting();
// ducache.use_rollups: read functions may answer whole months from fresh rollups.
bool use_rollups_setting();
// ducache.use_user_packs: the unfiltered dashboard may read rollup rows' user_pack (pg/dashboard.cpp).
bool use_user_packs_setting();
// ducache.use_user_directory: packs' user lists kept between calls (pg/user_directory.hpp).
bool use_user_directory_setting();
// ducache.parallel_min_days: the shortest range the user breakdown hands to parallel workers
// (-1: never; pg/parallel_breakdown.hpp).
int parallel_min_days_setting();
// ducache.parallel_min_kb: the least stored size (KB) of a range handed to parallel workers (0: none).
int parallel_min_kb_setting();
// ducache.test_json_text (test builds only; always false otherwise): pg/jsonb_document.hpp's
// jsonb_document() parses the document's JSON text with jsonb_in instead of building it.
bool test_json_text_setting();
// Test builds only (0 / -1 / -1 otherwise), pg/dashboard_top_key.cpp: ducache.test_top_key_pause
// (an advisory lock waited on between the passes), ducache.test_top_key_first (the users summed
// in pass 2), ducache.test_top_key_max (the probe budget).
int test_top_key_pause_setting();
int test_top_key_first_setting();
int test_top_key_max_setting();
// Test builds only (0 otherwise): ducache.test_alloc_limit lowers the largest allocation
// palloc_or_throw lets through (pg/boundary.hpp), ducache.test_jsonb_limit the largest jsonb body
// ducache_merge's final lays out (pg/merge_agg.cpp); 0: PostgreSQL's own limits.
int test_alloc_limit_setting();
int test_jsonb_limit_setting();
// ducache.test_trace_parallel (test builds only; false otherwise): pg/parallel_trace.hpp logs.
bool test_trace_parallel_setting();
// ducache.test_partial_bytes (test builds only; false otherwise): pg/partial_dsa.hpp.
bool test_partial_bytes_setting();
// ducache.test_worker_leaves_ms (test builds only; -1 otherwise): the time a parallel worker
// leaves to the leader instead of core::worker_leaves_rest's (pg/day_claims.hpp); -1: the rule's.
int test_worker_leaves_ms_setting();
// ducache.test_gather_via_query (test builds only; false otherwise): pg/fdw_gather.hpp.
bool test_gather_via_query_setting();
// ducache.test_shard_pause (test builds only; "" otherwise): pg/shard_xact.cpp's pause point.
const char *test_shard_pause_setting();

}  // namespace ducache::pg
