// Refreshing the day blocks of a month (see rollup_refresh_blocks.hpp). SQL text is
// schema-qualified with OPERATOR(pg_catalog.x): it runs as the owner of the rollup tables.
#include "core/error.hpp"
#include "core/rollup_blocks.hpp"
#include "core/rollup_builder.hpp"

#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/context_resource.hpp"
#include "pg/date_text.hpp"
#include "pg/rollup_blocks.hpp"
#include "pg/rollup_jsonb.hpp"
#include "pg/rollup_refresh.hpp"
#include "pg/rollup_refresh_blocks.hpp"
#include "pg/rollup_refresh_feed.hpp"

#include <optional>
#include <string>

namespace ducache::pg {

namespace {

struct Block {
    DateADT start = 0, last = 0;
    bool has_row = false, built = false;
    int64 rows = 0, incomplete = 0;
};

void run(const char *sql, int nargs, Oid *types, Datum *args, const char *nulls, bool read_only, int expect)
{
    int rc = SPI_execute_with_args(sql, nargs, types, args, nulls, read_only, 0);
    if (rc != expect)
        elog(ERROR, "ducache block refresh: \"%s\" failed: %s", sql, SPI_result_code_string(rc));
}

// The month's blocks, their rows' states and their day counts (in the month's snapshot).
int read_blocks(const BlockRefresh &r, Block *out)
{
    int n = 0;
    for (DateADT s = r.month; s < next_month(r.month) && n < 4; s = block_last_day(s) + 1) {
        out[n].start = s;
        out[n].last = block_last_day(s);
        n++;
    }
    pg_call([&] {
        MemoryContext caller = CurrentMemoryContext;
        Oid types[2] = {DATEOID, DATEOID};
        Datum args[2] = {DateADTGetDatum(r.month), DateADTGetDatum(next_month(r.month))};
        run(psprintf("SELECT block, built FROM %s WHERE month OPERATOR(pg_catalog.=) $1", r.blocks), 1, types, args,
            nullptr, true, SPI_OK_SELECT);
        for (uint64 i = 0; i < SPI_processed; i++) {
            bool isnull;
            DateADT b = DatumGetDateADT(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
            bool built = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
            for (int k = 0; k < n; k++)
                if (out[k].start == b) {
                    out[k].has_row = true;
                    out[k].built = built;
                }
        }
        SPI_freetuptable(SPI_tuptable);
        run(psprintf("SELECT %s.ducache_block_of(date), pg_catalog.count(*), "
                     "pg_catalog.count(*) FILTER (WHERE is_complete IS FALSE) FROM %s "
                     "WHERE date OPERATOR(pg_catalog.>=) $1 AND date OPERATOR(pg_catalog.<) $2 GROUP BY 1",
                     r.schema, r.cache),
            2, types, args, nullptr, true, SPI_OK_SELECT);
        for (uint64 i = 0; i < SPI_processed; i++) {
            bool isnull;
            HeapTuple t = SPI_tuptable->vals[i];
            DateADT b = DatumGetDateADT(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
            for (int k = 0; k < n; k++)
                if (out[k].start == b) {
                    out[k].rows = DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull));
                    out[k].incomplete = DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 3, &isnull));
                }
        }
        SPI_freetuptable(SPI_tuptable);
        MemoryContextSwitchTo(caller);
    });
    return n;
}

bool is_stale(const BlockRefresh &r, const Block &b)
{
    if (r.whole_month || !b.built)
        return true;
    for (int i = 0; i < r.nchanged; i++)
        if (r.changed[i] == b.start)
            return true;
    return false;
}

// The block's days into the builder, in the active (the month's) snapshot; the documents as
// jsonb in memory's context.
RollupDatums build_block(const BlockRefresh &r, const Block &b, ContextResource *memory)
{
    if (!r.owner_sees_all)
        throw core::Error("42501", "row-level security hides rows of daily_usage_cache from the rollups' owner");
    return build_rollup_span(r.cache, r.month, b.start, b.last, date_text(b.start), memory);
}

// Writes the block's row: its documents, or built = false (docs null).
void write_block(const BlockRefresh &r, const Block &b, const RollupDatums *docs)
{
    pg_call([&] {
        Oid types[10] = {DATEOID, DATEOID, DATEOID, INT4OID, JSONBOID, JSONBOID, JSONBOID, JSONBOID, JSONBOID, JSONBOID};
        Datum args[10] = {DateADTGetDatum(b.start), DateADTGetDatum(r.month), DateADTGetDatum(b.last),
                          Int32GetDatum(docs ? docs->days : 0)};
        char nulls[10] = {' ', ' ', ' ', ' ', 'n', 'n', 'n', 'n', 'n', 'n'};
        if (docs)  // jsonb datums as built: no text to parse
            for (int d = 0; d < core::kRollupDocuments; d++) {
                args[4 + d] = docs->doc[d];
                nulls[4 + d] = docs->isnull[d] ? 'n' : ' ';
            }
        // One row per block: updated in place, else inserted (under the month's lock, so no
        // other refresh writes this block meanwhile).
        run(psprintf("UPDATE %s SET month = $2, last_day = $3, built = %s, days = $4, "
                     "aggregated_by_user = $5, aggregated_by_model = $6, aggregated_by_provider = $7, "
                     "providers_derived = $8, models_unprovided = $9, daily = $10, "
                     "refreshed_at = pg_catalog.now() WHERE block OPERATOR(pg_catalog.=) $1",
                     r.blocks, docs ? "true" : "false"),
            10, types, args, nulls, false, SPI_OK_UPDATE);
        if (SPI_processed == 0)
            run(psprintf("INSERT INTO %s (block, month, last_day, built, days, aggregated_by_user, aggregated_by_model, "
                         "aggregated_by_provider, providers_derived, models_unprovided, daily, refreshed_at) "
                         "VALUES ($1, $2, $3, %s, $4, $5, $6, $7, $8, $9, $10, pg_catalog.now())",
                         r.blocks, docs ? "true" : "false"),
                10, types, args, nulls, false, SPI_OK_INSERT);
    });
}

void delete_block(const BlockRefresh &r, const Block &b)
{
    pg_call([&] {
        Oid types[1] = {DATEOID};
        Datum args[1] = {DateADTGetDatum(b.start)};
        run(psprintf("DELETE FROM %s WHERE block OPERATOR(pg_catalog.=) $1", r.blocks), 1, types, args, nullptr, false,
            SPI_OK_DELETE);
    });
}

}  // namespace

void refresh_month_blocks(const BlockRefresh &r)
{
    Block blocks[4];
    int n = read_blocks(r, blocks);
    for (int i = 0; i < n; i++) {
        const Block &b = blocks[i];
        check_for_interrupts();
        if (!is_stale(r, b))
            continue;
        if (b.rows == 0) {
            if (b.has_row)
                delete_block(r, b);
            continue;
        }
        if (b.incomplete > 0) {
            if (!b.has_row || b.built)
                write_block(r, b, nullptr);
            continue;
        }
        MemoryContext work = new_work_context("ducache block refresh");
        std::optional<RollupDatums> docs;
        {
            ContextResource memory(work);
            try {
                docs = build_block(r, b, &memory);
            } catch (const core::Error &) {
                docs.reset();  // no rollup for this block; the readers read its days
            }
            write_block(r, b, docs ? &*docs : nullptr);
            docs.reset();
        }
        delete_context(work);
    }
}

}  // namespace ducache::pg
