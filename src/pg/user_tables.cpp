#include "pg/user_tables.hpp"

#include "pg/boundary.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "utils/array.h"
#include "utils/lsyscache.h"
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

const char *users_lookup_sql()
{
    UsersTable users = users_table();
    if (!OidIsValid(users.table.relid))
        return nullptr;
    return pg_call([&] {
        return (const char *)psprintf(
            "SELECT u.id::pg_catalog.text, u.username::pg_catalog.text, u.email::pg_catalog.text, %s "
            "FROM %s AS u WHERE u.id::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($1)",
            users.role_expr, users.table.qualified);
    });
}

const char *key_owners_lookup_sql()
{
    ApiKeysTable keys = api_keys_table();
    if (!OidIsValid(keys.table.relid))
        return nullptr;  // no mapping at all: every hash is the Unknown User
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
    return pg_call([&] {
        return (const char *)psprintf("SELECT k.key_hash::pg_catalog.text, k.user_id::pg_catalog.text, %s, %s "
                                      "FROM %s AS k %s "
                                      "WHERE k.key_hash::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($1)",
                                      cols, key_cols, keys.table.qualified, join);
    });
}

void run_lookup(const char *sql, const std::string_view *keys, size_t nkeys, int ncolumns, LookupRow on_row,
                void *state)
{
    size_t n = nkeys;
    Datum *elems = static_cast<Datum *>(palloc_or_throw(CurrentMemoryContext, n * sizeof(Datum), "the keys of one identity lookup"));
    for (size_t i = 0; i < n; i++) {
        std::string_view k = keys[i];
        elems[i] = pg_call([&] { return PointerGetDatum(cstring_to_text_with_len(k.data(), int(k.size()))); });
    }
    pg_call([&] {
        ArrayType *arr = construct_array(elems, int(n), TEXTOID, -1, false, TYPALIGN_INT);
        if (SPI_connect() != SPI_OK_CONNECT)
            elog(ERROR, "SPI_connect failed");
        Oid argtypes[1] = {TEXTARRAYOID};
        Datum args[1] = {PointerGetDatum(arr)};
        int rc = SPI_execute_with_args(sql, 1, argtypes, args, nullptr, true, 0);
        if (rc != SPI_OK_SELECT)
            elog(ERROR, "ducache: users or api keys lookup failed: %s", SPI_result_code_string(rc));
    });
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
