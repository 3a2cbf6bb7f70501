// ducache_rebuild: recomputes the breakdown columns of every cached day in a range from the
// gateway's raw_data, in the server. The rules are the core's rebuild model; here only the
// order of the work: pass 1 reads every day's key hashes (checking each day's structure) for
// ONE owner lookup; pass 2 feeds each day into the model, turns its documents into JSONB and
// hands them to the batched writer.
#include "core/rebuild_model.hpp"

#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/context_resource.hpp"
#include "pg/raw_day_reader.hpp"
#include "pg/rebuild_jsonb.hpp"
#include "pg/rebuild_writer.hpp"
#include "pg/srf_output.hpp"
#include "pg/user_tables.hpp"
#include "pg/writer_lock.hpp"

namespace {

using namespace ducache;
using namespace ducache::pg;

// Owners of the range's key hashes, from the api-keys and users tables.
void look_up_owners(const KeyHashes &hashes, core::KeyOwners &owners, std::pmr::memory_resource *mr)
{
    size_t n = hashes.size();
    if (n == 0)
        return;
    auto *keys = static_cast<std::string_view *>(palloc_or_throw(CurrentMemoryContext, n * sizeof(std::string_view)));
    size_t i = 0;
    for (const auto &h : hashes)
        keys[i++] = h;
    lookup_key_owners(keys, n, [&](char *const *v) {
        if (!v[0] || !v[1])
            return;
        core::Owner who(mr);
        who.user_id = v[1];
        if (v[2]) { who.username = v[2]; who.has_username = true; }
        if (v[3]) { who.email = v[3]; who.has_email = true; }
        if (v[4]) { who.role = v[4]; who.has_role = true; }
        owners.add(v[0], std::move(who));
    });
}

}  // namespace

DUCACHE_FUNCTION(ducache_rebuild)
{
    DateADT start = PG_GETARG_DATEADT(0), end = PG_GETARG_DATEADT(1);
    check_date_range(start, end);
    init_materialized_srf(fcinfo);
    Oid table = cache_table_oid(fcinfo);
    const char *table_name = cache_table_name(fcinfo);
    const char *ts = timestamp_column(table);
    lock_cache_writers(table);

    MemoryContext work = new_work_context("ducache rebuild");
    MemoryContext day_cxt = new_work_context("ducache rebuild day");
    // One day's JSON is built in json_cxt (pushJsonbValue's intermediate trees are several
    // times the size of the result); the writer copies the finished values out.
    MemoryContext json_cxt = new_work_context("ducache rebuild json");
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

        CacheScan scan(table_name, "raw_data", 1, start, end, true);
        RebuildWriter writer(table_name, ts);
        DateADT date;
        const Jsonb *raw = nullptr;
        while (scan.next(date, &raw)) {
            MemoryContext outer = MemoryContextSwitchTo(json_cxt);
            Datum users, models;
            CopiedMembers copied;
            int32 n_users, n_models;
            {
                ContextResource day_memory(day_cxt);
                core::RebuildDay day(owners, &day_memory);
                feed_raw_day(raw, date, day);
                users = users_document(day);
                models = models_document(day);
                copied = copy_raw_members(raw, date);
                n_users = int32(day.users().size());
                n_models = int32(day.models().size());
            }
            MemoryContextSwitchTo(outer);
            writer.add(date, users, models, copied.providers, copied.total, copied.total_null);
            pg_call([&] {
                MemoryContextReset(json_cxt);
                MemoryContextReset(day_cxt);
            });
            Datum values[4] = {DateADTGetDatum(date), Int32GetDatum(n_users), Int32GetDatum(n_models),
                               Int32GetDatum(copied.n_providers)};
            bool nulls[4] = {};
            put_row(fcinfo, values, nulls);
        }
        writer.finish();
        scan.finish();
    }
    delete_context(json_cxt);
    delete_context(day_cxt);
    delete_context(work);
    return (Datum)0;
}
