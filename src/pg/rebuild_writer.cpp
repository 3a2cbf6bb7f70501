#include "pg/entry_reader.hpp"  // first: it includes the core, which must precede PostgreSQL
#include "pg/rebuild_writer.hpp"

#include "pg/boundary.hpp"
#include "pg/context_resource.hpp"
#include "pg/srf_output.hpp"
#include "pg/date_text.hpp"

extern "C" {
#include "utils/array.h"
#include "utils/datum.h"
}

namespace ducache::pg {

RebuildWriter::RebuildWriter(const char *table, const char *ts_column)
{
    // RETURNING: which days the UPDATE did touch (row-level security may hide some from it).
    plan_ = pg_call([&] {
        char *sql = psprintf(
            "UPDATE %s AS t SET aggregated_by_user = u.au, aggregated_by_model = u.am, "
            "aggregated_by_provider = u.ap, total_metrics = u.tm, %s = pg_catalog.now() "
            "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), "
            "pg_catalog.unnest($4), pg_catalog.unnest($5)) AS u(d, au, am, ap, tm) "
            "WHERE t.date OPERATOR(pg_catalog.=) u.d RETURNING t.date",
            table, quote_identifier(ts_column));
        Oid types[5] = {DATEARRAYOID, JSONBARRAYOID, JSONBARRAYOID, JSONBARRAYOID, JSONBARRAYOID};
        MemoryContext caller = CurrentMemoryContext;
        SPIPlanPtr p = SPI_prepare(sql, 5, types);
        if (!p)
            elog(ERROR, "ducache_rebuild: prepare failed: %s", SPI_result_code_string(SPI_result));
        MemoryContextSwitchTo(caller);
        return p;
    });
    batch_cxt_ = new_work_context("ducache rebuild batch");
}

void RebuildWriter::add(DateADT date, Datum users, Datum models, Datum providers, Datum total, bool total_null)
{
    pg_call([&] {
        MemoryContext old = MemoryContextSwitchTo(batch_cxt_);
        users_[n_] = datumCopy(users, false, -1);
        models_[n_] = datumCopy(models, false, -1);
        providers_[n_] = datumCopy(providers, false, -1);
        totals_[n_] = total_null ? (Datum)0 : datumCopy(total, false, -1);
        MemoryContextSwitchTo(old);
    });
    dates_[n_] = DateADTGetDatum(date);
    total_nulls_[n_] = total_null;
    if (++n_ == kDaysPerWrite)
        flush();
}

void RebuildWriter::flush()
{
    if (n_ == 0)
        return;
    DateADT missing = 0;
    bool all_written = pg_call([&] {
        MemoryContext caller = CurrentMemoryContext;  // SPI would leave its own context current
        MemoryContextSwitchTo(batch_cxt_);
        int dims[1] = {n_}, lbs[1] = {1};
        bool no_nulls[kDaysPerWrite] = {};
        Datum args[5] = {
            PointerGetDatum(construct_md_array(dates_, no_nulls, 1, dims, lbs, DATEOID, 4, true, TYPALIGN_INT)),
            PointerGetDatum(construct_md_array(users_, no_nulls, 1, dims, lbs, JSONBOID, -1, false, TYPALIGN_INT)),
            PointerGetDatum(construct_md_array(models_, no_nulls, 1, dims, lbs, JSONBOID, -1, false, TYPALIGN_INT)),
            PointerGetDatum(construct_md_array(providers_, no_nulls, 1, dims, lbs, JSONBOID, -1, false, TYPALIGN_INT)),
            PointerGetDatum(construct_md_array(totals_, total_nulls_, 1, dims, lbs, JSONBOID, -1, false, TYPALIGN_INT))};
        int rc = SPI_execute_plan(plan_, args, nullptr, false, 0);
        if (rc != SPI_OK_UPDATE_RETURNING)
            elog(ERROR, "ducache_rebuild: update failed: %s", SPI_result_code_string(rc));
        // Days are few (kDaysPerWrite): a nested loop finds the first one not returned.
        bool ok = true;
        for (int i = 0; i < n_ && ok; i++) {
            bool found = false;
            for (uint64 r = 0; r < SPI_processed && !found; r++) {
                bool isnull;
                Datum d = SPI_getbinval(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, 1, &isnull);
                found = !isnull && DatumGetDateADT(d) == DatumGetDateADT(dates_[i]);
            }
            if (!found) {
                ok = false;
                missing = DatumGetDateADT(dates_[i]);
            }
        }
        SPI_freetuptable(SPI_tuptable);
        MemoryContextSwitchTo(caller);
        MemoryContextReset(batch_cxt_);
        return ok;
    });
    n_ = 0;
    if (!all_written) {
        std::string day = date_text(missing);
        const char *d = day.c_str();
        pg_call([&] {
            ereport(ERROR, (errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
                            errmsg("ducache_rebuild could not update the day %s", d),
                            errdetail("The row of %s is readable but its UPDATE touched nothing: row-level "
                                      "security lets the caller read it but not update it (or it was deleted "
                                      "meanwhile). Nothing was rebuilt.",
                                      d),
                            errhint("Rebuild only days the caller may update, or rebuild as a role that may "
                                    "update them.")));
        });
    }
}

void RebuildWriter::finish()
{
    flush();
    delete_context(batch_cxt_);
    batch_cxt_ = nullptr;
}

}  // namespace ducache::pg
