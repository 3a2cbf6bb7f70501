// ducache_refresh_rollups(start_date, end_date) -> (month, action): the refresh for other
// writers (cron). Who may run it: a role that may read all of daily_usage_cache (table-level
// SELECT, no row-level security in force for it), the same roles the read functions answer
// from rollups for; the work itself runs as the owner of ducache_rollups (rollup_refresh.cpp).
#include "core/decimal.hpp"
#include "core/error.hpp"

#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/cache_table.hpp"
#include "pg/date_text.hpp"
#include "pg/rollup_refresh.hpp"
#include "pg/srf_output.hpp"

extern "C" {
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
}

DUCACHE_FUNCTION(ducache_refresh_rollups)
{
    using namespace ducache;
    using namespace ducache::pg;
    bool has_lo = !PG_ARGISNULL(0), has_hi = !PG_ARGISNULL(1);
    DateADT lo = has_lo ? PG_GETARG_DATEADT(0) : 0, hi = has_hi ? PG_GETARG_DATEADT(1) : 0;
    // ±infinity is 22008, start after end 22023 (as every range of ducache).
    check_date_range(has_lo ? lo : (has_hi ? hi : 0), has_hi ? hi : (has_lo ? lo : 0));
    init_materialized_srf(fcinfo);
    Oid cache = cache_table_oid(fcinfo);
    const char *table = cache_table_name(fcinfo);
    bool may = pg_call([&] {
        return pg_class_aclcheck(cache, GetUserId(), ACL_SELECT) == ACLCHECK_OK &&
               check_enable_rls(cache, InvalidOid, true) == RLS_NONE;
    });
    if (!may)
        throw core::Error("42501", "permission denied to refresh ducache rollups",
                          "Refreshing needs SELECT on the whole of daily_usage_cache, with no row-level security "
                          "in force for the caller.");
    Oid nsp = pg_call([&] { return get_func_namespace(fcinfo->flinfo->fn_oid); });
    std::vector<DateADT> months;
    std::vector<RollupAction> actions;
    refresh_rollup_range(nsp, table, has_lo ? &lo : nullptr, has_hi ? &hi : nullptr, months, actions);
    for (size_t i = 0; i < actions.size(); i++) {
        Datum values[2] = {DateADTGetDatum(months[i]), text_datum(rollup_action_name(actions[i]))};
        bool nulls[2] = {false, false};
        put_row(fcinfo, values, nulls);
    }
    return (Datum)0;
}
