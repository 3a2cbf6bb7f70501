// The document of ducache_dashboard: LiteMaaS's POST /api/v1/admin/usage/analytics response
// (docs/litemaas.md §5; differences L1, L3, L5-L9), built from the usage the adapter hands in
// (already filtered, CONTRACT §5.2) and written into a JsonSink (the adapter's builds JSONB; JSON
// text for tests).
//
// How to use: for each row of both periods in date order, begin_day() (a cached day) or
// begin_rollup() (a month rollup, CONTRACT §7); then hand in the row's passing usage:
// user_usage() for every passing cell at the filters' level (both periods); for current rows
// also identity() of user entries, own_provider() of aggregated_by_model entries with an own
// "provider" string, model_usage() (filtered: the passing cells at model level or below;
// unfiltered: aggregated_by_model entries), unfiltered provider_usage() (stored
// aggregated_by_provider) or unprovided_model_usage() (aggregated_by_model of a day without
// stored providers), and key_usage() (key cells passing every filter). A current rollup then
// hands in its daily series: rollup_day() per cached day, rollup_day_model() per model of it.
// Then document().
//
// A model's provider is ONE for the whole document (LiteMaaS derives it from the model name,
// extractProviderFromModel): its latest own "provider" string in the requested range, else the
// CONTRACT §5.3 name rule (docs/litemaas.md, "Provider of a model"). byProvider is summed by it
// at the end.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"
#include "core/metrics.hpp"
#include "core/unknown_user.hpp"
#include "core/user_columns.hpp"
#include "core/user_directory.hpp"

#include <climits>
#include <functional>
#include <memory>
#include <memory_resource>
#include <string>
#include <string_view>

namespace ducache::core {

class JsonSink;

constexpr int kTopUsers = 5, kTopModels = 10;  // the limits getAnalytics passes

struct DashboardOptions {
    bool filtered = false;     // any filter (userIds, modelIds, apiKeyIds, providerIds)
    bool user_filter = false;  // userIds given: the Unknown User leaves topUsers
};

class DashboardBuilder {
public:
    DashboardBuilder(std::pmr::memory_resource *mr, DashboardOptions options);
    ~DashboardBuilder();

    // date: "YYYY-MM-DD"; current: the requested period (else the comparison period).
    void begin_day(int32_t day, std::string_view date, bool current);
    // month: "YYYY-MM-DD" of its first day (named in overflow messages).
    void begin_rollup(std::string_view month, bool current);
    // One cached day of the current rollup: the sum of its user entries, then its models.
    void rollup_day(std::string_view date, const EntryValues &users_total);
    void rollup_day_model(std::string_view model, const EntryValues &v);
    // position (optional): the entry's index in its row's object; given, the keys come in their
    // object's order and are found by a merge with the previous rows' keys, not by hashing
    // (core/ordered_lookup.hpp).
    static constexpr uint32_t kNoPosition = UINT32_MAX;
    void user_usage(std::string_view user, const EntryValues &v, uint32_t position = kNoPosition);
    // The entry's username/email/role: a non-empty username replaces all three (latest wins).
    void identity(std::string_view user, const EntryValues &v, uint32_t position = kNoPosition);
    // The unfiltered range's user entries, each with its identity (pg/dashboard.cpp): one lookup
    // for both. user_usage_slot() is user_usage() returning the user's slot; identity_of() is
    // identity() for that slot. identity_key: bytes that determine the entry's identity (a
    // rollup entry's "~identity" object; "" when it has none), or nullptr when there are none
    // (a day entry, whose identity is members of its own). identity_read_before(slot, key):
    // the user's last identity_of() had the same key, so reading this identity and handing it
    // in would change nothing (the adapter skips both). Not mixed with identity() in one build.
    const Slot &user_usage_slot(std::string_view user, const EntryValues &v, uint32_t position);
    // The range's index of a slot user_usage_slot() returned (the same user, the same index).
    uint32_t user_index(const Slot &user) const;
    // The comparison period's user entries unfiltered at the user level, in their object's
    // order: what user_usage() does with them (the same sums, checks and errors), kept in
    // core/period_users.hpp instead of a slot per user. Not mixed with user_usage() for the
    // comparison period in one build.
    void previous_user_usage(std::string_view user, const EntryValues &v);
    // A rollup row's users as columns (core/user_columns.hpp: pg/dashboard.cpp reads them from
    // its user_pack), each user's slot found once: user_slot_index() for each user in the row's
    // object order (user_usage_slot()'s lookup, nothing added; an index of the period's slots),
    // then user_usage_columns() with those indexes adds what user_usage_slot() adds for each
    // entry, errors included. identity_columns(): identity_read_before() and identity_of() for
    // each entry of the range, records[i] its identity record (core/user_pack.hpp's: the bytes
    // that determine it; decoded only when they differ from the user's last ones).
    // run_likely: the next rows probably list the same users (a month or block row): when
    // CountBound proves the row, its columns start a run summed entry-wise before the slots
    // (ColumnRun; a row with the same slots continues it, whatever the hint).
    uint32_t user_slot_index(std::string_view user);
    void user_usage_columns(const uint32_t *slots, const UserColumns &c, bool run_likely = false);
    void identity_columns(const uint32_t *slots, const std::string_view *records, uint32_t n);
    // A rollup row's users as one run (core/user_directory.hpp) when they are the first users
    // of the period: the range's slots (slots[i] = i) and identities, or the comparison
    // period's ids, set up at once with the run's hashes and bytes (not copied: they outlive
    // the builder), exactly as user_slot_index() + identity_columns() (range) or
    // previous_user_id() (comparison period) for each user in order would leave them. False
    // (nothing done) when the period has users already or the run is not ordered: then those.
    bool first_users(const UserRun &run, uint32_t *slots);
    // A range row's users by their index in an ordered run (a backend's directory: at[i] the
    // run index of the row's user i, core/user_directory.hpp's run_subset_indexes; at nullptr:
    // the row is the run, user i at index i): slots[i] its slot, as user_slot_index() of
    // run.names[at[i]] would give it (the same slot, and a new user's slot appended in the same
    // order), with no lookup: each run index's slot is kept, a new user's slot made from the
    // run's bytes and hash (not copied: they outlive the builder). Only while every slot of the
    // range came this way from this run (the first row's users included): false otherwise, or
    // for a run not ordered (nothing done; then user_slot_index()). The comparison period: its
    // ids (previous_user_id()) by PeriodUsers::run_ids, after first_users() took the run.
    bool run_slots(const UserRun &run, const uint32_t *at, uint32_t m, uint32_t *slots);
    // The same for the comparison period (what previous_user_usage() does for each entry):
    // previous_user_id() for each user in object order, then previous_usage_columns().
    uint32_t previous_user_id(std::string_view user);
    void previous_usage_columns(const uint32_t *ids, const UserColumns &c, bool run_likely = false);
    // The range's rows list about n users: room for them made once (before any range usage),
    // instead of the slot vectors and tables growing while the first row is read.
    void expect_users(size_t n);
    bool identity_read_before(const Slot &user, std::string_view identity_key) const;
    void identity_of(const Slot &user, const EntryValues &v, const std::string_view *identity_key);
    // day: the row's date as a day number (a rollup: its first day); calls come in date order,
    // the latest wins. A shard's partial keeps the day: the coordinator takes the latest.
    void own_provider(std::string_view model, std::string_view provider, int32_t day = INT32_MIN);
    void model_usage(std::string_view model, const EntryValues &v);
    void provider_usage(std::string_view provider, const EntryValues &v);
    void unprovided_model_usage(std::string_view model, const EntryValues &v);
    void key_usage(std::string_view alias, std::string_view user, const EntryValues &v,
                   uint32_t position = kNoPosition);
    // The API key pairs summed so far (key "alias NUL user"): pg/dashboard_top_key.cpp.
    const KeyAggregator &api_keys() const;
    // The model's provider by the rule above, over the own_provider() calls so far.
    std::string_view provider_of(std::string_view model) const;

    // The whole document into `out`; start/end are the request's dates. Once per builder.
    void document(std::string_view start, std::string_view end, JsonSink &out);
    // The same as JSON text (core::JsonTextSink).
    std::string document(std::string_view start, std::string_view end);

    // Scale-out (docs/scale-out.md): instead of document(), a shard ships what it summed as a
    // binary partial (core/dashboard_partial.hpp); the coordinator's builder, made with the
    // same options, adds every shard's partial (malformed input: 22P03) and then writes the
    // document one node writes.
    std::string partial();
    void merge_partial(const char *data, size_t len);
    // The models' own providers (the coordinator hands them to the shards under a provider filter).
    void for_each_own_provider(const std::function<void(std::string_view, std::string_view)> &f) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ducache::core
