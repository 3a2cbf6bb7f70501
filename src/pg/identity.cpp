#include "core/aggregator.hpp"

#include "pg/boundary.hpp"
#include "pg/identity.hpp"
#include "pg/relation_setting.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "utils/array.h"
#include "utils/lsyscache.h"
}

namespace ducache::pg {

namespace {
constexpr const char *kGuc = "ducache.users_table";
}

void apply_users_table(core::KeyAggregator &agg)
{
    if (agg.size() == 0)
        return;
    ResolvedTable t = resolve_table_setting(kGuc, users_table_setting(), "users");
    if (!OidIsValid(t.relid))
        return;
    for (const char *col : {"id", "username", "email"})
        if (!OidIsValid(column_type(t.relid, col)))
            missing_column(kGuc, t, col);
    const char *role_expr;
    Oid role_type = column_type(t.relid, "role");
    Oid roles_type = column_type(t.relid, "roles");
    if (OidIsValid(role_type))
        role_expr = "u.role::pg_catalog.text";
    else if (OidIsValid(roles_type) && pg_call([&] { return get_element_type(roles_type) != InvalidOid; }))
        role_expr = "(u.roles)[1]::pg_catalog.text";
    else
        missing_column(kGuc, t, "role\" or \"roles");

    // All keys as one text[] parameter.
    size_t n = agg.size();
    auto &slots = agg.slots();
    Datum *elems = static_cast<Datum *>(palloc_or_throw(CurrentMemoryContext, n * sizeof(Datum)));
    for (size_t i = 0; i < n; i++) {
        const core::Slot &s = slots[i];
        elems[i] = pg_call([&] { return PointerGetDatum(cstring_to_text_with_len(s.key, int(s.key_len))); });
    }
    char *sql = pg_call([&] {
        return psprintf("SELECT u.id::pg_catalog.text, u.username::pg_catalog.text, u.email::pg_catalog.text, %s "
                        "FROM %s AS u WHERE u.id::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($1)",
                        role_expr, t.qualified);
    });
    pg_call([&] {
        ArrayType *arr = construct_array(elems, int(n), TEXTOID, -1, false, TYPALIGN_INT);
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        Oid argtypes[1] = {TEXTARRAYOID};
        Datum args[1] = {PointerGetDatum(arr)};
        int rc = SPI_execute_with_args(sql, 1, argtypes, args, nullptr, true, 0);
        if (rc != SPI_OK_SELECT)
            elog(ERROR, "users lookup failed: %s", SPI_result_code_string(rc));
    });
    uint64 rows = SPI_processed;
    SPITupleTable *tt = SPI_tuptable;
    for (uint64 r = 0; r < rows; r++) {
        if ((r & 1023) == 0)
            check_for_interrupts();
        HeapTuple tup = tt->vals[r];
        char *cols[4];
        pg_call([&] {
            for (int c = 0; c < 4; c++)
                cols[c] = SPI_getvalue(tup, tt->tupdesc, c + 1);
        });
        if (!cols[0])
            continue;
        core::Slot *slot = const_cast<core::Slot *>(agg.find(cols[0], strlen(cols[0])));
        if (!slot)
            continue;
        auto set = [&](std::string_view &dst, const char *v) {
            if (v)
                dst = agg.store(v, strlen(v));
        };
        set(slot->totals.username, cols[1]);
        set(slot->totals.email, cols[2]);
        set(slot->totals.role, cols[3]);
    }
    pg_call([] { SPI_finish(); });
}

}  // namespace ducache::pg
