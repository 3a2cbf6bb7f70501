// The refresh protocol of month rollups (see rollup_refresh.hpp for the steps). SQL text is
// schema-qualified and writes its operators as OPERATOR(pg_catalog.x): it runs as the owner of
// ducache_rollups, who may be a superuser.
#include "core/error.hpp"
#include "core/rollup_builder.hpp"

#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/context_resource.hpp"
#include "pg/date_text.hpp"
#include "pg/heap_retention.hpp"
#include "pg/rollup_jsonb.hpp"
#include "pg/rollup_refresh.hpp"
#include "pg/rollup_refresh_blocks.hpp"
#include "pg/rollup_refresh_days.hpp"
#include "pg/rollup_refresh_feed.hpp"
#include "pg/rollup_triggers.hpp"
#include "pg/settings.hpp"

#include <algorithm>
#include <optional>
#include <string>

extern "C" {
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

namespace ducache::pg {

const char *rollup_action_name(RollupAction a)
{
    switch (a) {
    case RollupAction::fresh: return "fresh";
    case RollupAction::removed: return "removed";
    case RollupAction::incomplete: return "incomplete";
    case RollupAction::skipped: return "skipped";
    case RollupAction::refreshed: return "refreshed";
    }
    return "?";
}

// As ducache_month_of(): the first month PostgreSQL has starts on its first date, 4714-11-24 BC
// (the 1st of that November is not a date; the rollups' CHECK holds the SQL function's answer).
DateADT month_start(DateADT date)
{
    int y, m, d;
    j2date(date + POSTGRES_EPOCH_JDATE, &y, &m, &d);
    return std::max<DateADT>(date2j(y, m, 1) - POSTGRES_EPOCH_JDATE, DATETIME_MIN_JULIAN - POSTGRES_EPOCH_JDATE);
}

DateADT next_month(DateADT month)
{
    int y, m, d;
    j2date(month + POSTGRES_EPOCH_JDATE, &y, &m, &d);
    return m == 12 ? date2j(y + 1, 1, 1) - POSTGRES_EPOCH_JDATE : date2j(y, m + 1, 1) - POSTGRES_EPOCH_JDATE;
}

namespace {

struct Tables {
    const char *schema, *rollups, *changes, *cache;
    const char *blocks;  // NULL: a 0.3.0 schema, no day blocks
    const char *days;    // NULL: no day projections (a schema before them)
    Oid cache_oid;
};

// What step 2 saw of a month, in one snapshot.
struct Seen {
    ItemPointerData *tids = nullptr;
    int ntids = 0;
    int64 rows = 0, incomplete = 0;
    DateADT *blocks = nullptr;  // the day blocks the change rows name (ntids entries at most)
    SeenBlockChange *block_changes = nullptr;  // the same rows, with the day they name if any
    int nblocks = 0;
    bool whole_month = false;   // a change row names no block
};

// The caller's user id and security context, restored when the refresh is done (an ERROR
// restores them by itself at transaction or subtransaction abort).
class AsOwner {
public:
    explicit AsOwner(Oid owner)
    {
        GetUserIdAndSecContext(&user_, &sec_);
        // As maintenance commands run as a table's owner: no SET ROLE, no temp tables meanwhile.
        SetUserIdAndSecContext(owner, sec_ | SECURITY_LOCAL_USERID_CHANGE | SECURITY_RESTRICTED_OPERATION);
    }
    ~AsOwner() { SetUserIdAndSecContext(user_, sec_); }

private:
    Oid user_;
    int sec_;
};

Oid relation_owner(Oid relid)
{
    return pg_call([&] {
        HeapTuple tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
        if (!HeapTupleIsValid(tup))
            elog(ERROR, "cache lookup failed for relation %u", relid);
        Oid owner = reinterpret_cast<Form_pg_class>(GETSTRUCT(tup))->relowner;
        ReleaseSysCache(tup);
        return owner;
    });
}

void exec(const char *sql, int nargs, Oid *types, Datum *args, const char *nulls, bool read_only, int expect)
{
    int rc = SPI_execute_with_args(sql, nargs, types, args, nulls, read_only, 0);
    if (rc != expect)
        elog(ERROR, "ducache rollup refresh: \"%s\" failed: %s", sql, SPI_result_code_string(rc));
}

// Step 1: the month's row exists and is locked; returns its built flag.
bool lock_month(const Tables &t, DateADT month)
{
    return pg_call([&] {
        Oid types[1] = {DATEOID};
        Datum args[1] = {DateADTGetDatum(month)};
        exec(psprintf("INSERT INTO %s (month) VALUES ($1) ON CONFLICT (month) DO NOTHING", t.rollups), 1, types,
             args, nullptr, false, SPI_OK_INSERT);
        exec(psprintf("SELECT built FROM %s WHERE month OPERATOR(pg_catalog.=) $1 FOR UPDATE", t.rollups), 1, types,
             args, nullptr, false, SPI_OK_SELECT);
        bool isnull = true, built = false;
        if (SPI_processed == 1)
            built = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
        SPI_freetuptable(SPI_tuptable);
        return built && !isnull;
    });
}

// Step 2's first reads (the active snapshot is the month's one): the change rows' ctids,
// the number of day rows and of incomplete ones. tids are palloc'd in `cxt`.
Seen read_month(const Tables &t, DateADT month, MemoryContext cxt)
{
    Seen seen;
    pg_call([&] {
        MemoryContext caller = CurrentMemoryContext;
        Oid types[2] = {DATEOID, DATEOID};
        Datum args[2] = {DateADTGetDatum(month), DateADTGetDatum(next_month(month))};
        // A 0.3.0 schema (this library refreshing it before ALTER EXTENSION ducache UPDATE) has
        // no blocks and its change rows name none.
        exec(psprintf("SELECT ctid, %s, %s FROM %s WHERE month OPERATOR(pg_catalog.=) $1",
                      t.blocks ? "block" : "NULL::pg_catalog.date", t.days ? "day" : "NULL::pg_catalog.date",
                      t.changes),
             1, types, args, nullptr, true, SPI_OK_SELECT);
        seen.ntids = int(SPI_processed);
        seen.tids = static_cast<ItemPointerData *>(
            MemoryContextAlloc(cxt, sizeof(ItemPointerData) * std::max(seen.ntids, 1)));
        seen.blocks = static_cast<DateADT *>(MemoryContextAlloc(cxt, sizeof(DateADT) * std::max(seen.ntids, 1)));
        seen.block_changes = static_cast<SeenBlockChange *>(
            MemoryContextAlloc(cxt, sizeof(SeenBlockChange) * std::max(seen.ntids, 1)));
        for (int i = 0; i < seen.ntids; i++) {
            bool isnull;
            Datum d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);
            ItemPointerCopy(reinterpret_cast<ItemPointer>(DatumGetPointer(d)), &seen.tids[i]);
            Datum block = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull);
            if (isnull) {
                seen.whole_month = true;
                continue;
            }
            Datum day = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull);
            seen.block_changes[seen.nblocks] = SeenBlockChange{DatumGetDateADT(block),
                                                               isnull ? 0 : DatumGetDateADT(day), !isnull};
            seen.blocks[seen.nblocks++] = DatumGetDateADT(block);
        }
        SPI_freetuptable(SPI_tuptable);
        exec(psprintf("SELECT pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE is_complete IS FALSE) "
                      "FROM %s WHERE date OPERATOR(pg_catalog.>=) $1 AND date OPERATOR(pg_catalog.<) $2",
                      t.cache),
             2, types, args, nullptr, true, SPI_OK_SELECT);
        bool isnull;
        seen.rows = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
        seen.incomplete = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
        SPI_freetuptable(SPI_tuptable);
        MemoryContextSwitchTo(caller);
    });
    return seen;
}

// Not inlined: GCC's -Wstringop-truncation misreads core::Error's constructor once inlined here.
[[noreturn]] __attribute__((noinline)) void throw_rls_hides(const std::string &month)
{
    throw core::Error("42501", "row-level security hides rows of daily_usage_cache from the rollups' owner",
                      "The rollup of " + month + " would not hold every day row.");
}

// Step 2's day rows, into the builder (the active snapshot is the month's one); the documents
// as jsonb in memory's context.
RollupDatums build_month(const Tables &t, DateADT month, bool owner_sees_all, ContextResource *memory)
{
    std::string label = date_text(month).substr(0, 7);
    if (!owner_sees_all)
        throw_rls_hides(label);
    return build_rollup_span(t.cache, month, month, next_month(month) - 1, label, memory);
}

// Step 3's writes, and the change rows seen in step 2 deleted.
void write_month(const Tables &t, DateADT month, RollupAction action, const RollupDatums *docs, const Seen &seen)
{
    pg_call([&] {
        Oid types[8] = {DATEOID, INT4OID, JSONBOID, JSONBOID, JSONBOID, JSONBOID, JSONBOID, JSONBOID};
        Datum args[8] = {DateADTGetDatum(month)};
        char nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
        switch (action) {
        case RollupAction::fresh:
            break;
        case RollupAction::removed:
            exec(psprintf("DELETE FROM %s WHERE month OPERATOR(pg_catalog.=) $1", t.rollups), 1, types, args, nulls,
                 false, SPI_OK_DELETE);
            break;
        case RollupAction::incomplete:
        case RollupAction::skipped:
            exec(psprintf("UPDATE %s SET built = false, days = 0, aggregated_by_user = NULL, "
                          "aggregated_by_model = NULL, aggregated_by_provider = NULL, providers_derived = NULL, "
                          "models_unprovided = NULL, daily = NULL, refreshed_at = pg_catalog.now() "
                          "WHERE month OPERATOR(pg_catalog.=) $1",
                          t.rollups),
                 1, types, args, nulls, false, SPI_OK_UPDATE);
            break;
        case RollupAction::refreshed:
            // The documents as built (jsonb datums in the month's work context): no text to parse.
            args[1] = Int32GetDatum(docs->days);
            for (int d = 0; d < core::kRollupDocuments; d++) {
                args[2 + d] = docs->doc[d];
                nulls[2 + d] = docs->isnull[d] ? 'n' : ' ';
            }
            exec(psprintf("UPDATE %s SET built = true, days = $2, aggregated_by_user = $3, aggregated_by_model = $4, "
                          "aggregated_by_provider = $5, providers_derived = $6, models_unprovided = $7, daily = $8, "
                          "refreshed_at = pg_catalog.now() WHERE month OPERATOR(pg_catalog.=) $1",
                          t.rollups),
                 8, types, args, nulls, false, SPI_OK_UPDATE);
            break;
        }
        if (seen.ntids == 0)
            return;
        Datum *tids = static_cast<Datum *>(palloc(sizeof(Datum) * seen.ntids));
        for (int i = 0; i < seen.ntids; i++)
            tids[i] = PointerGetDatum(&seen.tids[i]);
        Oid tid_type[1] = {TIDARRAYOID};
        Datum tid_arg[1] = {PointerGetDatum(construct_array(tids, seen.ntids, TIDOID, sizeof(ItemPointerData), false,
                                                            TYPALIGN_SHORT))};
        exec(psprintf("DELETE FROM %s WHERE ctid OPERATOR(pg_catalog.=) ANY ($1)", t.changes), 1, tid_type, tid_arg,
             nullptr, false, SPI_OK_DELETE);
    });
}

void warn_skipped(DateADT month, const core::Error &e)
{
    std::string message = "ducache: no rollup for the month of " + date_text(month) + ": " + e.message;
    pg_call([&] {
        ereport(WARNING, (errcode(MAKE_SQLSTATE(e.sqlstate[0], e.sqlstate[1], e.sqlstate[2], e.sqlstate[3],
                                                e.sqlstate[4])),
                          errmsg("%s", message.c_str()), e.detail.empty() ? 0 : errdetail("%s", e.detail.c_str()),
                          errhint("The month's days are read instead of a rollup until the value is fixed.")));
    });
}

RollupAction refresh_month(const Tables &t, DateADT month, bool owner_sees_all)
{
    bool built = lock_month(t, month);
    MemoryContext work = new_work_context("ducache rollup refresh");
    // Step 2: one snapshot, taken after the lock (it sees every refresh that committed before).
    pg_call([] {
        CommandCounterIncrement();
        PushCopiedSnapshot(GetTransactionSnapshot());
        UpdateActiveSnapshotCommandId();
    });
    Seen seen = read_month(t, month, work);
    RollupAction action;
    std::optional<RollupDatums> docs;
    // The month's blocks first (the same lock and snapshot; the change rows deleted below
    // invalidated them too). A fresh month has fresh blocks: every change row names its month.
    if (!(built && seen.ntids == 0) && t.blocks)
        refresh_month_blocks(BlockRefresh{t.blocks, t.cache, t.schema, month, seen.blocks, seen.nblocks,
                                          seen.whole_month, owner_sees_all});
    // The day projections (the same lock and snapshot), also of a fresh month: those not built
    // yet (a month built before they existed) are built.
    if (t.days)
        refresh_month_days(DayRefresh{t.days, t.cache, t.schema, month, seen.block_changes, seen.nblocks,
                                      seen.whole_month, owner_sees_all});
    if (built && seen.ntids == 0) {
        action = RollupAction::fresh;
    } else if (seen.rows == 0) {
        action = RollupAction::removed;
    } else if (seen.incomplete > 0) {
        action = RollupAction::incomplete;
    } else {
        ContextResource memory(work);
        try {
            docs = build_month(t, month, owner_sees_all, &memory);
            action = RollupAction::refreshed;
        } catch (const core::Error &e) {
            action = RollupAction::skipped;
            pg_call([] { PopActiveSnapshot(); });
            warn_skipped(month, e);
            write_month(t, month, action, nullptr, seen);
            delete_context(work);
            return action;
        }
    }
    pg_call([] { PopActiveSnapshot(); });
    write_month(t, month, action, docs ? &*docs : nullptr, seen);
    docs.reset();
    delete_context(work);
    return action;
}

// The months of [lo, hi] (either NULL: unbounded) that have day rows, a rollup row or change
// rows, in order. Inside SPI, as the owner. Month starts by date arithmetic (no timestamp:
// any date, BC included, and no time zone).
std::vector<DateADT> months_of_range(const Tables &t, const DateADT *lo, const DateADT *hi)
{
    std::vector<DateADT> months;
    int n = 0;
    DateADT *found = pg_call([&] {
        Oid types[2] = {DATEOID, DATEOID};
        Datum args[2] = {DateADTGetDatum(lo ? month_start(*lo) : 0), DateADTGetDatum(hi ? next_month(month_start(*hi)) : 0)};
        char nulls[2] = {lo ? ' ' : 'n', hi ? ' ' : 'n'};
        const char *in_range = "($1::pg_catalog.date IS NULL OR %s OPERATOR(pg_catalog.>=) $1) AND "
                               "($2::pg_catalog.date IS NULL OR %s OPERATOR(pg_catalog.<) $2)";
        // Day projections left without their month's row (a reader never uses them) are
        // deleted here, silently: they are no month of the result.
        if (t.days)
            exec(psprintf("DELETE FROM %s AS p WHERE %s AND NOT EXISTS (SELECT FROM %s AS r "
                          "WHERE r.month OPERATOR(pg_catalog.=) p.month)",
                          t.days, psprintf(in_range, "p.month", "p.month"), t.rollups),
                 2, types, args, nulls, false, SPI_OK_DELETE);
        char *sql = psprintf("SELECT s.m FROM (SELECT %s.ducache_month_of(c.date) AS m FROM %s AS c WHERE pg_catalog.isfinite(c.date) AND %s "
                             "UNION SELECT r.month FROM %s AS r WHERE %s "
                             "UNION SELECT ch.month FROM %s AS ch WHERE %s) AS s ORDER BY s.m",
                             t.schema, t.cache, psprintf(in_range, "c.date", "c.date"), t.rollups,
                             psprintf(in_range, "r.month", "r.month"), t.changes,
                             psprintf(in_range, "ch.month", "ch.month"));
        exec(sql, 2, types, args, nulls, true, SPI_OK_SELECT);
        n = int(SPI_processed);
        DateADT *out = static_cast<DateADT *>(palloc(sizeof(DateADT) * std::max(n, 1)));
        for (int i = 0; i < n; i++) {
            bool isnull;
            out[i] = DatumGetDateADT(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
        }
        SPI_freetuptable(SPI_tuptable);
        return out;
    });
    months.assign(found, found + n);
    return months;
}

// Runs f(tables, owner_sees_all) connected to SPI as the owner of ducache_rollups. Returns
// false (f not run) when the schema has no ducache_rollups.
template <typename F>
bool as_rollups_owner(Oid nsp, const char *cache_table, bool explicit_call, F &&f)
{
    Oid rollups = pg_call([&] { return get_relname_relid("ducache_rollups", nsp); });
    if (!OidIsValid(rollups))
        return false;
    Tables t;
    t.cache = cache_table;
    pg_call([&] {
        const char *schema = quote_identifier(get_namespace_name(nsp));
        t.schema = schema;
        t.rollups = psprintf("%s.%s", schema, quote_identifier("ducache_rollups"));
        t.changes = psprintf("%s.%s", schema, quote_identifier("ducache_rollup_changes"));
        t.blocks = OidIsValid(get_relname_relid("ducache_rollup_blocks", nsp))
                       ? psprintf("%s.%s", schema, quote_identifier("ducache_rollup_blocks"))
                       : nullptr;  // a 0.3.0 schema
        t.days = t.blocks && OidIsValid(get_relname_relid("ducache_rollup_days", nsp))
                     ? psprintf("%s.%s", schema, quote_identifier("ducache_rollup_days"))
                     : nullptr;
        t.cache_oid = get_relname_relid("daily_usage_cache", nsp);
    });
    // Without ducache's change triggers on the table (re-created or swapped in after CREATE
    // EXTENSION, or triggers disabled) a rollup could go stale unnoticed: build none. The
    // writers then simply skip their refresh; ducache_refresh_rollups says so.
    bool triggers = pg_call([&] { return rollup_triggers_in_place(t.cache_oid, nsp); });
    if (!triggers) {
        if (!explicit_call)
            return false;
        throw core::Error("55000", "ducache's change triggers are not in place on daily_usage_cache",
                          "Rollups are built only for a table whose every change is logged by the triggers "
                          "ducache_rollups_insert, _update, _delete and _truncate (AFTER, FOR EACH STATEMENT, ENABLE ALWAYS).",
                          "If they were disabled: ALTER TABLE daily_usage_cache ENABLE ALWAYS TRIGGER ...; if the table was "
                          "re-created: DROP EXTENSION ducache; CREATE EXTENSION ducache (the table and its rows are kept).");
    }
    Oid owner = relation_owner(rollups);
    AsOwner as_owner(owner);
    // Under row-level security the owner would build rollups of part of the table: none then.
    bool owner_sees_all = pg_call([&] { return check_enable_rls(t.cache_oid, owner, true) != RLS_ENABLED; });
    pg_call([] {
        MemoryContext caller = CurrentMemoryContext;
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        MemoryContextSwitchTo(caller);
    });
    f(t, owner_sees_all);
    pg_call([] { SPI_finish(); });
    return true;
}

void refresh_all(const Tables &t, bool owner_sees_all, const std::vector<DateADT> &months,
                 std::vector<RollupAction> &out)
{
    HeapRetention keep_heap;  // the builds reuse each other's freed memory (pg/heap_retention.hpp)
    for (DateADT month : months) {
        check_for_interrupts();
        out.push_back(refresh_month(t, month, owner_sees_all));
    }
}

}  // namespace

void refresh_rollup_range(Oid nsp, const char *cache_table, const DateADT *lo, const DateADT *hi,
                          std::vector<DateADT> &months, std::vector<RollupAction> &out)
{
    months.clear();
    out.clear();
    as_rollups_owner(nsp, cache_table, true, [&](const Tables &t, bool owner_sees_all) {
        months = months_of_range(t, lo, hi);
        refresh_all(t, owner_sees_all, months, out);
    });
}

void refresh_rollups_of_days(Oid nsp, const char *cache_table, const std::vector<DateADT> &dates)
{
    std::vector<DateADT> months;
    for (DateADT d : dates)
        months.push_back(month_start(d));
    std::sort(months.begin(), months.end());
    months.erase(std::unique(months.begin(), months.end()), months.end());
    if (months.empty())
        return;
    // ducache.use_rollups = off: the session neither reads nor refreshes rollups (the months it
    // wrote stay logged as changed, so nobody reads a stale rollup; a later refresh builds them).
    if (!use_rollups_setting())
        return;
    std::vector<RollupAction> actions;
    as_rollups_owner(nsp, cache_table, false,
                     [&](const Tables &t, bool owner_sees_all) { refresh_all(t, owner_sees_all, months, actions); });
}

}  // namespace ducache::pg
