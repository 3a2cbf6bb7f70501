// Refreshing the day projections of a month (see rollup_refresh_days.hpp). A projection is a
// one-day rollup built by the month's builder (core::RollupBuilder, the same rules as a month
// or a block), of which only the dashboard's small columns are kept: the derived user_totals,
// model_totals and key_totals (pg/rollup_derived.hpp), aggregated_by_provider,
// models_unprovided and daily. SQL text is schema-qualified with OPERATOR(pg_catalog.x): it
// runs as the owner of the rollup tables.
#include "core/error.hpp"
#include "core/rollup_blocks.hpp"
#include "core/rollup_builder.hpp"

#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/context_resource.hpp"
#include "pg/date_text.hpp"
#include "pg/rollup_blocks.hpp"
#include "pg/rollup_derived.hpp"
#include "pg/rollup_jsonb.hpp"
#include "pg/rollup_refresh.hpp"
#include "pg/rollup_refresh_days.hpp"
#include "pg/rollup_refresh_feed.hpp"

#include <optional>

namespace ducache::pg {

namespace {

constexpr int kMaxDays = 31;

struct Day {
    bool has_row = false;      // a projection row exists
    bool cached = false;       // a day row exists (in the month's snapshot)
    bool complete = false;
};

// The small columns of a projection, in ducache_rollup_days' order.
struct Projection {
    int32 days = 0;
    // aggregated_by_provider, models_unprovided, daily, user_totals, model_totals, key_totals, user_pack
    Datum values[7] = {};
    bool isnull[7] = {true, true, true, true, true, true, true};
};

void run(const char *sql, int nargs, Oid *types, Datum *args, const char *nulls, bool read_only, int expect)
{
    int rc = SPI_execute_with_args(sql, nargs, types, args, nulls, read_only, 0);
    if (rc != expect)
        elog(ERROR, "ducache day projection refresh: \"%s\" failed: %s", sql, SPI_result_code_string(rc));
}

// The month's projection rows and day rows (in the month's snapshot), by day of month - 1.
int read_days(const DayRefresh &r, Day *out)
{
    int n = int(next_month(r.month) - r.month);
    pg_call([&] {
        MemoryContext caller = CurrentMemoryContext;
        Oid types[2] = {DATEOID, DATEOID};
        Datum args[2] = {DateADTGetDatum(r.month), DateADTGetDatum(next_month(r.month))};
        run(psprintf("SELECT day FROM %s WHERE month OPERATOR(pg_catalog.=) $1", r.days), 1, types, args, nullptr,
            true, SPI_OK_SELECT);
        for (uint64 i = 0; i < SPI_processed; i++) {
            bool isnull;
            DateADT d = DatumGetDateADT(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
            if (d >= r.month && d - r.month < n)
                out[d - r.month].has_row = true;
        }
        SPI_freetuptable(SPI_tuptable);
        run(psprintf("SELECT date, is_complete IS NOT FALSE FROM %s "
                     "WHERE date OPERATOR(pg_catalog.>=) $1 AND date OPERATOR(pg_catalog.<) $2",
                     r.cache),
            2, types, args, nullptr, true, SPI_OK_SELECT);
        for (uint64 i = 0; i < SPI_processed; i++) {
            bool isnull;
            HeapTuple t = SPI_tuptable->vals[i];
            DateADT d = DatumGetDateADT(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
            if (d < r.month || d - r.month >= n)
                continue;
            out[d - r.month].cached = true;
            out[d - r.month].complete = DatumGetBool(SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull));
        }
        SPI_freetuptable(SPI_tuptable);
        MemoryContextSwitchTo(caller);
    });
    return n;
}

bool is_stale(const DayRefresh &r, DateADT day, const Day &d)
{
    if (r.whole_month || !d.has_row)
        return true;
    DateADT block = block_start(day);
    for (int i = 0; i < r.nchanged; i++) {
        const SeenBlockChange &c = r.changed[i];
        if (c.has_day ? c.day == day : c.block == block)
            return true;
    }
    return false;
}

// The day's projection, built in the active (the month's) snapshot, in memory's context.
Projection build_day(const DayRefresh &r, DateADT day, ContextResource *memory)
{
    if (!r.owner_sees_all)
        throw core::Error("42501", "row-level security hides rows of daily_usage_cache from the rollups' owner");
    RollupDatums docs = build_rollup_span(r.cache, r.month, day, day, date_text(day), memory);
    Projection p;
    p.days = docs.days;
    const core::RollupDocument kept[3] = {core::RollupDocument::providers, core::RollupDocument::models_unprovided,
                                          core::RollupDocument::daily};
    for (int i = 0; i < 3; i++) {
        p.values[i] = docs.doc[int(kept[i])];
        p.isnull[i] = docs.isnull[int(kept[i])];
    }
    auto doc = [&](core::RollupDocument d) -> const Jsonb * {
        return docs.isnull[int(d)] ? nullptr : DatumGetJsonbP(docs.doc[int(d)]);
    };
    Datum derived[kRollupDerived];
    bool derived_null[kRollupDerived];
    MemoryContext caller = pg_call([&] { return MemoryContextSwitchTo(memory->context()); });
    try {
        rollup_derived_columns(doc(core::RollupDocument::users), doc(core::RollupDocument::models), derived,
                               derived_null);
    } catch (...) {
        pg_call([&] { MemoryContextSwitchTo(caller); });
        throw;
    }
    pg_call([&] { MemoryContextSwitchTo(caller); });
    const int order[4] = {kUserTotals, kModelTotals, kKeyTotals, kUserPack};
    for (int i = 0; i < 4; i++) {
        p.values[3 + i] = derived[order[i]];
        p.isnull[3 + i] = derived_null[order[i]];
    }
    return p;
}

// Writes the day's row: its projection, or built = false (p null).
void write_day(const DayRefresh &r, DateADT day, const Projection *p)
{
    pg_call([&] {
        Oid types[10] = {DATEOID,  DATEOID,  INT4OID,  JSONBOID, JSONBOID,
                         JSONBOID, JSONBOID, JSONBOID, JSONBOID, BYTEAOID};
        Datum args[10] = {DateADTGetDatum(day), DateADTGetDatum(r.month), Int32GetDatum(p ? p->days : 0)};
        char nulls[10] = {' ', ' ', ' ', 'n', 'n', 'n', 'n', 'n', 'n', 'n'};
        if (p)
            for (int i = 0; i < 7; i++) {
                args[3 + i] = p->values[i];
                nulls[3 + i] = p->isnull[i] ? 'n' : ' ';
            }
        // One row per day: updated in place, else inserted (under the month's lock).
        run(psprintf("UPDATE %s SET month = $2, built = %s, days = $3, aggregated_by_provider = $4, "
                     "models_unprovided = $5, daily = $6, user_totals = $7, model_totals = $8, key_totals = $9, "
                     "user_pack = $10, refreshed_at = pg_catalog.now() WHERE day OPERATOR(pg_catalog.=) $1",
                     r.days, p ? "true" : "false"),
            10, types, args, nulls, false, SPI_OK_UPDATE);
        if (SPI_processed == 0)
            run(psprintf("INSERT INTO %s (day, month, built, days, aggregated_by_provider, models_unprovided, daily, "
                         "user_totals, model_totals, key_totals, user_pack, refreshed_at) "
                         "VALUES ($1, $2, %s, $3, $4, $5, $6, $7, $8, $9, $10, pg_catalog.now())",
                         r.days, p ? "true" : "false"),
                10, types, args, nulls, false, SPI_OK_INSERT);
    });
}

void delete_day(const DayRefresh &r, DateADT day)
{
    pg_call([&] {
        Oid types[1] = {DATEOID};
        Datum args[1] = {DateADTGetDatum(day)};
        run(psprintf("DELETE FROM %s WHERE day OPERATOR(pg_catalog.=) $1", r.days), 1, types, args, nullptr, false,
            SPI_OK_DELETE);
    });
}

}  // namespace

void refresh_month_days(const DayRefresh &r)
{
    Day days[kMaxDays];
    int n = read_days(r, days);
    for (int i = 0; i < n && i < kMaxDays; i++) {
        const DateADT day = r.month + i;
        const Day &d = days[i];
        check_for_interrupts();
        if (!d.cached) {
            if (d.has_row)
                delete_day(r, day);
            continue;
        }
        if (!is_stale(r, day, d))
            continue;
        if (!d.complete) {
            write_day(r, day, nullptr);
            continue;
        }
        MemoryContext work = new_work_context("ducache day projection refresh");
        {
            ContextResource memory(work);
            std::optional<Projection> p;
            try {
                p = build_day(r, day, &memory);
            } catch (const core::Error &) {
                p.reset();  // no projection for this day; the readers read its row
            }
            write_day(r, day, p ? &*p : nullptr);
        }
        delete_context(work);
    }
}

}  // namespace ducache::pg
