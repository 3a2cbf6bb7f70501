#include "core/error.hpp"  // before any PostgreSQL header
#include "core/lookup_rule.hpp"

#include "pg/user_tables.hpp"

#include "pg/boundary.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "access/relation.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"
#include "catalog/pg_class.h"
}

namespace ducache::pg {

namespace {
constexpr const char *kUsersGuc = "ducache.users_table";
constexpr const char *kKeysGuc = "ducache.api_keys_table";
}  // namespace

UsersTable users_table()
{
    UsersTable out;
    out.table = resolve_table_setting(kUsersGuc, users_table_setting(), "users");
    if (!OidIsValid(out.table.relid))
        return out;
    for (const char *col : {"id", "username", "email"})
        if (!OidIsValid(column_type(out.table.relid, col)))
            missing_column(kUsersGuc, out.table, col);
    Oid role_type = column_type(out.table.relid, "role");
    Oid roles_type = column_type(out.table.relid, "roles");
    if (OidIsValid(role_type))
        out.role_expr = "u.role::pg_catalog.text";
    else if (OidIsValid(roles_type) && pg_call([&] { return get_element_type(roles_type) != InvalidOid; }))
        out.role_expr = "(u.roles)[1]::pg_catalog.text";
    else  // no role, and roles is absent or not an array (then (roles)[1] would be 42804)
        missing_column(kUsersGuc, out.table, "role\" or \"roles");
    return out;
}

ApiKeysTable api_keys_table()
{
    ApiKeysTable out;
    out.table = resolve_table_setting(kKeysGuc, api_keys_table_setting(), "api_keys");
    if (!OidIsValid(out.table.relid))
        return out;
    for (const char *col : {"key_hash", "user_id"})
        if (!OidIsValid(column_type(out.table.relid, col)))
            missing_column(kKeysGuc, out.table, col);
    return out;
}

namespace {

// The table's rows now by the planner's estimate: its statistics' density times its pages now,
// so a table grown far since its ANALYZE counts as large (core::users_table_rows_now; -1 unknown).
// The lookup locks the table the same way next.
double table_rows_now(Oid relid)
{
    return pg_call([&] {
        Relation rel = relation_open(relid, AccessShareLock);
        const double reltuples = rel->rd_rel->reltuples, relpages = rel->rd_rel->relpages;
        const double pages_now =
            RELKIND_HAS_STORAGE(rel->rd_rel->relkind) ? double(RelationGetNumberOfBlocks(rel)) : relpages;
        relation_close(rel, NoLock);
        return core::users_table_rows_now(reltuples, relpages, pages_now);
    });
}

}  // namespace

UsersLookup users_lookup(size_t nkeys)
{
    UsersLookup out;
    UsersTable users = users_table();
    if (!OidIsValid(users.table.relid))
        return out;
    out.whole_table = core::users_lookup_reads_whole_table(table_rows_now(users.table.relid), nkeys);
    out.sql = pg_call([&] {
        return (const char *)psprintf(
            "SELECT u.id::pg_catalog.text, u.username::pg_catalog.text, u.email::pg_catalog.text, %s "
            "FROM %s AS u%s",
            users.role_expr, users.table.qualified,
            out.whole_table ? "" : " WHERE u.id::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($1)");
    });
    return out;
}

KeyOwnersLookup key_owners_lookup(size_t nhashes)
{
    KeyOwnersLookup out;
    ApiKeysTable keys = api_keys_table();
    if (!OidIsValid(keys.table.relid))
        return out;  // no mapping at all: every hash is the Unknown User
    // As the users lookup (core/lookup_rule.hpp): the text cast keeps the filter off any index
    // on key_hash, so the table is scanned whole either way; the filter only costs the planner's
    // per-element estimate and the array, unless the table is much larger than the hashes.
    out.whole_table = core::users_lookup_reads_whole_table(table_rows_now(keys.table.relid), nhashes);
    // name and litellm_key_alias are optional columns (NULL when absent).
    const char *key_cols = pg_call([&] {
        return (const char *)psprintf(
            "%s, %s",
            OidIsValid(column_type(keys.table.relid, "name")) ? "k.name::pg_catalog.text" : "NULL::pg_catalog.text",
            OidIsValid(column_type(keys.table.relid, "litellm_key_alias")) ? "k.litellm_key_alias::pg_catalog.text"
                                                                           : "NULL::pg_catalog.text");
    });
    UsersTable users = users_table();
    const char *join = "", *cols = "NULL::pg_catalog.text, NULL::pg_catalog.text, NULL::pg_catalog.text";
    if (OidIsValid(users.table.relid)) {
        // Inner join, as LiteMaaS's enrichment: a key whose user row is gone is unmapped (CONTRACT §5.5).
        join = pg_call([&] {
            return (const char *)psprintf("JOIN %s AS u ON u.id::pg_catalog.text OPERATOR(pg_catalog.=) "
                                          "k.user_id::pg_catalog.text",
                                          users.table.qualified);
        });
        cols = pg_call([&] {
            return (const char *)psprintf("u.username::pg_catalog.text, u.email::pg_catalog.text, %s",
                                          users.role_expr);
        });
    }
    out.sql = pg_call([&] {
        return (const char *)psprintf("SELECT k.key_hash::pg_catalog.text, k.user_id::pg_catalog.text, %s, %s "
                                      "FROM %s AS k %s%s",
                                      cols, key_cols, keys.table.qualified, join,
                                      out.whole_table ? ""
                                                      : " WHERE k.key_hash::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($1)");
    });
    return out;
}

namespace {

// Connects to SPI and runs sql read-only, with the keys as its $1 (a text[]) unless keys is nullptr.
void execute_lookup(const char *sql, const std::string_view *keys, size_t nkeys)
{
    Datum *elems = nullptr;
    if (keys) {
        elems = static_cast<Datum *>(palloc_or_throw(CurrentMemoryContext, (nkeys ? nkeys : 1) * sizeof(Datum), "the keys of one identity lookup"));
        // One pg_call for all keys: their text datums.
        pg_call([&] {
            for (size_t i = 0; i < nkeys; i++)
                elems[i] = PointerGetDatum(cstring_to_text_with_len(keys[i].data(), int(keys[i].size())));
        });
    }
    pg_call([&] {
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        int rc;
        if (keys) {
            ArrayType *arr = construct_array(elems, int(nkeys), TEXTOID, -1, false, TYPALIGN_INT);
            Oid argtypes[1] = {TEXTARRAYOID};
            Datum args[1] = {PointerGetDatum(arr)};
            rc = SPI_execute_with_args(sql, 1, argtypes, args, nullptr, true, 0);
        } else {
            rc = SPI_execute(sql, true, 0);
        }
        if (rc != SPI_OK_SELECT)
            elog(ERROR, "ducache: users or api keys lookup failed: %s", SPI_result_code_string(rc));
    });
}

}  // namespace

void run_text_lookup(const char *sql, const std::string_view *keys, size_t nkeys, int ncolumns,
                     TextLookupRow on_row, void *state)
{
    constexpr int kMaxColumns = 8;
    constexpr uint64 kBatch = 256;  // rows read per pg_call, then handed over
    if (ncolumns > kMaxColumns)
        throw core::Error("XX000", "ducache: a lookup of more than 8 columns");
    execute_lookup(sql, keys, nkeys);
    uint64 rows = SPI_processed;
    SPITupleTable *tt = SPI_tuptable;
    pg_call([&] {
        if (tt->tupdesc->natts != ncolumns)
            elog(ERROR, "ducache: a lookup of %d columns returned %d", ncolumns, tt->tupdesc->natts);
        for (int c = 0; c < ncolumns; c++)
            if (TupleDescAttr(tt->tupdesc, c)->atttypid != TEXTOID)
                elog(ERROR, "ducache: lookup column %d is not text", c + 1);
    });
    std::string_view columns[kBatch * kMaxColumns];
    for (uint64 r0 = 0; r0 < rows; r0 += kBatch) {
        check_for_interrupts();
        uint64 r1 = rows - r0 < kBatch ? rows : r0 + kBatch;
        pg_call([&] {
            std::string_view *out = columns;
            for (uint64 r = r0; r < r1; r++) {
                // The row's columns in one pass (SPI_getbinval walks the row from its start for
                // each column after a varlena: ~690 instructions a row of four).
                Datum values[kMaxColumns];
                bool nulls[kMaxColumns];
                heap_deform_tuple(tt->vals[r], tt->tupdesc, values, nulls);
                for (int c = 0; c < ncolumns; c++, out++) {
                    if (nulls[c]) {
                        *out = std::string_view();
                        continue;
                    }
                    auto *v = reinterpret_cast<struct varlena *>(DatumGetPointer(values[c]));
                    if (VARATT_IS_EXTERNAL(v) || VARATT_IS_COMPRESSED(v))
                        v = pg_detoast_datum_packed(v);  // in SPI's context: freed by SPI_finish
                    *out = std::string_view(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
                }
            }
        });
        for (uint64 r = r0; r < r1; r++)
            on_row(state, columns + (r - r0) * uint64(ncolumns));
    }
    pg_call([] { SPI_finish(); });
}

void run_lookup(const char *sql, const std::string_view *keys, size_t nkeys, int ncolumns, LookupRow on_row,
                void *state)
{
    execute_lookup(sql, keys, nkeys);
    uint64 rows = SPI_processed;
    SPITupleTable *tt = SPI_tuptable;
    char *columns[8];
    for (uint64 r = 0; r < rows; r++) {
        if ((r & 1023) == 0)
            check_for_interrupts();
        pg_call([&] {
            for (int c = 0; c < ncolumns; c++)
                columns[c] = SPI_getvalue(tt->vals[r], tt->tupdesc, c + 1);
        });
        on_row(state, columns);
    }
    pg_call([] { SPI_finish(); });
}

}  // namespace ducache::pg
