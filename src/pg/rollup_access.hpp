// Whether a read function may answer whole months from ducache_rollups (CONTRACT §7,
// notes: the design of issue 12): ducache.use_rollups is on, the caller may read every row of
// daily_usage_cache (table-level SELECT, no row-level security in force for them), and the
// rollups' owner may read the table too. The scan then runs as that owner.
#pragma once

#include "pg/postgres.hpp"

namespace ducache::pg {

struct RollupAccess {
    Oid owner = InvalidOid;          // InvalidOid: read the days only
    const char *schema = nullptr;    // ducache's schema, quoted for SQL text
    const char *rollups = nullptr;   // "schema".ducache_rollups, quoted for SQL text
    const char *changes = nullptr;   // "schema".ducache_rollup_changes
    const char *blocks = nullptr;    // "schema".ducache_rollup_blocks
    const char *days = nullptr;      // "schema".ducache_rollup_days (NULL: none, or not readable)
    // Set by a reader whose rollup columns are all columns of ducache_rollup_days (the
    // dashboard's small ones): the days no fresh month or block covers are read from their fresh
    // day projections where built (pg/cache_scan.cpp).
    bool day_projections = false;
    bool usable() const { return OidIsValid(owner); }
};

// The rollups of the extension whose SQL function fcinfo calls, or none (see above).
RollupAccess rollup_access(FunctionCallInfo fcinfo);

// Runs f() (PostgreSQL calls only, inside a pg_call body) as `owner` when valid, restoring
// the caller's user id and security context on every path, errors included.
template <typename F>
void as_rollup_owner(Oid owner, F &&f)
{
    if (!OidIsValid(owner)) {
        f();
        return;
    }
    Oid saved_user;
    int saved_context;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    SetUserIdAndSecContext(owner, saved_context | SECURITY_LOCAL_USERID_CHANGE);
    PG_TRY();
    {
        f();
    }
    PG_FINALLY();
    {
        SetUserIdAndSecContext(saved_user, saved_context);
    }
    PG_END_TRY();
}

}  // namespace ducache::pg
