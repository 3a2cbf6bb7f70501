// ducache_rebuild: recomputes the breakdown columns of every cached day in a range from the
// gateway's raw_data, in the server. The rules are the core's rebuild model; here only the
// order of the work: pass 1 reads every day's key hashes (checking each day's structure) for
// ONE owner lookup; pass 2 feeds each day into the model, turns its documents into JSONB,
// compares them with the stored ones and hands the days that differ to the batched writer.
#include "core/rebuild_model.hpp"

#include "pg/coordinator_forward.hpp"
#include "pg/cache_table.hpp"
#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/context_resource.hpp"
#include "pg/raw_day_reader.hpp"
#include "pg/rebuild_arena.hpp"
#include "pg/rebuild_jsonb.hpp"
#include "pg/rebuild_writer.hpp"
#include "pg/rollup_refresh.hpp"
#include "pg/srf_output.hpp"
#include "pg/user_tables.hpp"
#include "pg/writer_lock.hpp"

#include <memory_resource>
#include <new>
#include <vector>

extern "C" {
#include "utils/lsyscache.h"
}

namespace {

using namespace ducache;
using namespace ducache::pg;

// Owners of the range's key hashes, from the api-keys and users tables.
void look_up_owners(const KeyHashes &hashes, core::KeyOwners &owners, std::pmr::memory_resource *mr)
{
    size_t n = hashes.size();
    if (n == 0)
        return;
    KeyOwnersLookup lookup = key_owners_lookup(n);
    if (!lookup.sql)
        return;
    std::string_view *keys = nullptr;
    if (!lookup.whole_table) {
        keys = static_cast<std::string_view *>(palloc_or_throw(CurrentMemoryContext, n * sizeof(std::string_view), "the API key hashes of one lookup"));
        size_t i = 0;
        for (const auto &h : hashes)
            keys[i++] = h;
    }
    run_lookup(lookup.sql, keys, lookup.whole_table ? 0 : n, 7, [&](char *const *v) {
        if (!v[0] || !v[1])
            return;
        // Read whole, the rows of other hashes are skipped: the owners are the filter's.
        if (lookup.whole_table && hashes.find(std::string_view(v[0])) == hashes.end())
            return;
        core::Owner who(mr);
        who.user_id = v[1];
        if (v[2]) { who.username = v[2]; who.has_username = true; }
        if (v[3]) { who.email = v[3]; who.has_email = true; }
        who.role = v[4] ? v[4] : core::kDefaultRole;  // a NULL role reads 'user' (LiteMaaS)
        who.has_role = true;
        if (v[5]) { who.key_name = v[5]; who.has_key_name = true; }
        if (v[6]) { who.key_alias = v[6]; who.has_key_alias = true; }
        owners.add(v[0], std::move(who));
    });
}

// Equal binary jsonb: equal values (jsonb's binary form is canonical up to numeric scale, so a
// difference there only costs an unneeded write). stored is detoasted once, by the scan.
bool same_jsonb(const Jsonb *stored, Datum built)
{
    if (stored == nullptr)
        return false;
    const Jsonb *b = reinterpret_cast<const Jsonb *>(DatumGetPointer(built));
    return VARSIZE(stored) == VARSIZE(b) && memcmp(VARDATA(stored), VARDATA(b), VARSIZE(b) - VARHDRSZ) == 0;
}

}  // namespace

DUCACHE_FUNCTION(ducache_rebuild)
{
    DateADT start = PG_GETARG_DATEADT(0), end = PG_GETARG_DATEADT(1);
    check_date_range(start, end);
    refuse_on_coordinator(fcinfo, "ducache_rebuild");  // the raw data is on the shards
    init_materialized_srf(fcinfo);
    Oid table = cache_table_oid(fcinfo);
    const char *table_name = cache_table_name(fcinfo);
    const char *ts = timestamp_column(table);
    lock_cache_writers(table);

    MemoryContext work = new_work_context("ducache rebuild");
    // A day's model and JSON tree live in the day arena (below); day_cxt takes what spills
    // past its buffer on a day that grows it. The encoded documents are made in json_cxt.
    MemoryContext day_cxt = new_reused_context("ducache rebuild day", 4 * 1024 * 1024);
    MemoryContext json_cxt = new_reused_context("ducache rebuild json", 4 * 1024 * 1024);
    {
        ContextResource memory(work);
        KeyHashes hashes(&memory);
        {
            CacheScan scan(table_name, "raw_data", 1, start, end, true);
            DateADT date;
            const Jsonb *raw = nullptr;
            while (scan.next(date, &raw))
                collect_key_hashes(raw, date, hashes);
            scan.finish();
        }
        core::KeyOwners owners(&memory);
        look_up_owners(hashes, owners, &memory);

        // Pass 2 also reads the stored documents: a day whose recomputed documents equal them
        // is not written (CONTRACT §9).
        CacheScan scan(table_name, "raw_data, aggregated_by_user, aggregated_by_model, aggregated_by_provider, total_metrics",
                       5, start, end, true);
        RebuildWriter writer(table_name, ts);
        DayArena arena(work, day_cxt);
        std::vector<DateADT> written;  // the months of these days get fresh rollups at the end
        DateADT date;
        const Jsonb *row[5] = {};
        while (scan.next(date, row)) {
            const Jsonb *raw = row[0];
            MemoryContext outer = MemoryContextSwitchTo(json_cxt);
            Datum users, models, total;
            CopiedMembers copied;
            int32 n_users, n_models;
            {
                // The day's model and JSON tree are bump-allocated in the day arena and never
                // destroyed: the arena's memory is reused by the next day, where destroying
                // the model's maps walked and freed every node (their destructors do nothing
                // else: everything in the tree lives in the arena).
                std::pmr::memory_resource *mr = arena.begin();
                auto &day = *new (mr->allocate(sizeof(core::RebuildDay), alignof(core::RebuildDay)))
                    core::RebuildDay(owners, mr);
                feed_raw_day(raw, date, day);
                users = users_document(day, mr);
                models = models_document(day, mr);
                total = totals_document(day, mr);
                copied = copy_raw_members(raw, date);
                n_users = int32(day.users().size());
                n_models = int32(day.models().size());
                arena.end();
            }
            MemoryContextSwitchTo(outer);
            bool unchanged = same_jsonb(row[1], users) && same_jsonb(row[2], models) &&
                             same_jsonb(row[3], copied.providers) && same_jsonb(row[4], total);
            if (!unchanged) {
                writer.add(date, users, models, copied.providers, total, false);
                written.push_back(date);
            }
            pg_call([&] {
                MemoryContextReset(json_cxt);
                MemoryContextReset(day_cxt);
            });
            Datum action = pg_call([&] { return CStringGetTextDatum(unchanged ? "unchanged" : "updated"); });
            Datum values[5] = {DateADTGetDatum(date), Int32GetDatum(n_users), Int32GetDatum(n_models),
                               Int32GetDatum(copied.n_providers), action};
            bool nulls[5] = {};
            // Under the 0.1.0 declaration (4 columns, before ALTER EXTENSION UPDATE) the row
            // descriptor has 4 attributes and the action is simply not stored.
            put_row(fcinfo, values, nulls);
        }
        writer.finish();
        scan.finish();
        refresh_rollups_of_days(pg_call([&] { return get_func_namespace(fcinfo->flinfo->fn_oid); }), table_name,
                                written);
    }
    delete_context(json_cxt);
    delete_context(day_cxt);
    delete_context(work);
    return (Datum)0;
}
