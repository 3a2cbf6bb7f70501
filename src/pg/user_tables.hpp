// The two tables that say who a key or a user is: the users table (GUC ducache.users_table:
// id, username, email, and role or a roles array) and the api-keys table (GUC
// ducache.api_keys_table: key_hash, user_id). One place resolves and checks them (a missing or
// mistyped column is 42703 naming it, whichever function asks) and runs their lookups: one
// read-only query per call, all keys as one text[] parameter, under its own SPI connection.
#pragma once

#include "pg/postgres.hpp"
#include "pg/relation_setting.hpp"

#include <string_view>
#include <type_traits>

namespace ducache::pg {

struct UsersTable {
    ResolvedTable table;              // relid InvalidOid: none configured
    const char *role_expr = nullptr;  // u.role, or the first element of the u.roles array
};
UsersTable users_table();

struct ApiKeysTable {
    ResolvedTable table;  // relid InvalidOid: none configured
};
ApiKeysTable api_keys_table();

using LookupRow = void (*)(void *state, char *const *columns);

// Runs `sql` (its $1 is a text[] of the nkeys `keys`) and calls on_row with the ncolumns text values of
// each row (nullptr for SQL NULL), valid during the call only. Between the query and the
// callbacks, check_for_interrupts runs every 1024 rows.
void run_lookup(const char *sql, const std::string_view *keys, size_t nkeys, int ncolumns, LookupRow on_row,
                void *state);

template <typename F>
void run_lookup(const char *sql, const std::string_view *keys, size_t nkeys, int ncolumns, F &&on_row)
{
    using Fn = std::remove_reference_t<F>;
    run_lookup(
        sql, keys, nkeys, ncolumns, [](void *state, char *const *columns) { (*static_cast<Fn *>(state))(columns); },
        &on_row);
}

// A lookup whose columns are all text, handed over as their bytes (no output function, no
// copy: round 14 of issue 13): on_row(columns), a NULL as a string_view whose data() is
// nullptr, valid during the call only. keys == nullptr: the query has no $1.
using TextLookupRow = void (*)(void *state, const std::string_view *columns);
void run_text_lookup(const char *sql, const std::string_view *keys, size_t nkeys, int ncolumns,
                     TextLookupRow on_row, void *state);

template <typename F>
void run_text_lookup(const char *sql, const std::string_view *keys, size_t nkeys, int ncolumns, F &&on_row)
{
    using Fn = std::remove_reference_t<F>;
    run_text_lookup(
        sql, keys, nkeys, ncolumns,
        [](void *state, const std::string_view *columns) { (*static_cast<Fn *>(state))(columns); }, &on_row);
}

// The users lookup for nkeys keys ({id, username, email, role}, all text): its SQL (nullptr
// without a users table) and whether it reads the whole table (no $1; core/lookup_rule.hpp)
// or the rows whose id is one of the keys ($1, a text[]).
struct UsersLookup {
    const char *sql = nullptr;
    bool whole_table = false;
};
UsersLookup users_lookup(size_t nkeys);

// The owners lookup for nhashes key hashes: its SQL (nullptr without an api-keys table) and
// whether it reads the whole table (no $1; core/lookup_rule.hpp: the caller skips the rows of
// other hashes) or the rows whose key_hash is one of them ($1, a text[]). Its rows: {key_hash,
// user_id, username, email, role, name, litellm_key_alias}; username/email/role NULL without a
// users table; with one, a key whose users row is gone has no row (inner join); name and alias
// NULL where the api-keys table has no such column.
struct KeyOwnersLookup {
    const char *sql = nullptr;
    bool whole_table = false;
};
KeyOwnersLookup key_owners_lookup(size_t nhashes);

}  // namespace ducache::pg
