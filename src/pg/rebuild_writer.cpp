#include "pg/entry_reader.hpp"  // first: it includes the core, which must precede PostgreSQL
#include "pg/rebuild_writer.hpp"

#include "pg/boundary.hpp"
#include "pg/date_text.hpp"

#include <string>

namespace ducache::pg {

RebuildWriter::RebuildWriter(const char *table, const char *ts_column)
{
    plan_ = pg_call([&] {
        char *sql = psprintf(
            "UPDATE %s AS t SET aggregated_by_user = $2, aggregated_by_model = $3, "
            "aggregated_by_provider = $4, total_metrics = $5, %s = pg_catalog.now() "
            "WHERE t.date OPERATOR(pg_catalog.=) $1",
            table, quote_identifier(ts_column));
        Oid types[5] = {DATEOID, JSONBOID, JSONBOID, JSONBOID, JSONBOID};
        MemoryContext caller = CurrentMemoryContext;
        SPIPlanPtr p = SPI_prepare(sql, 5, types);
        if (!p)
            elog(ERROR, "ducache_rebuild: prepare failed: %s", SPI_result_code_string(SPI_result));
        MemoryContextSwitchTo(caller);
        return p;
    });
}

void RebuildWriter::add(DateADT date, Datum users, Datum models, Datum providers, Datum total, bool total_null)
{
    bool written = pg_call([&] {
        MemoryContext caller = CurrentMemoryContext;  // SPI would leave its own context current
        Datum args[5] = {DateADTGetDatum(date), users, models, providers, total};
        char nulls[6] = {' ', ' ', ' ', ' ', total_null ? 'n' : ' ', '\0'};
        int rc = SPI_execute_plan(plan_, args, nulls, false, 0);
        if (rc != SPI_OK_UPDATE)
            elog(ERROR, "ducache_rebuild: update failed: %s", SPI_result_code_string(rc));
        MemoryContextSwitchTo(caller);
        return SPI_processed > 0;
    });
    if (written)
        return;
    // Row-level security let the caller read the day but not update it (or it was deleted).
    std::string day = date_text(date);
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

}  // namespace ducache::pg
