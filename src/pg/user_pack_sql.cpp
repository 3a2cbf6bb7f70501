// The packed users column (core/user_pack.hpp) as SQL sees it, for tests and operators:
//   ducache_user_pack(user_totals jsonb) -> bytea: the pack the trigger and the projections'
//     refresh derive from that user_totals (pg/rollup_derived.cpp), NULL when there is none;
//   ducache_user_pack_rows(pack bytea) -> its users as rows (order, user id, the six counts,
//     cost, keycost, keymag, identity strings); malformed bytes: 22P03.
#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/user_pack.hpp"

#include "pg/boundary.hpp"
#include "pg/context_resource.hpp"
#include "pg/rollup_derived.hpp"
#include "pg/srf_output.hpp"

extern "C" {
#include "utils/jsonb.h"
}

#include <string>
#include <vector>

DUCACHE_FUNCTION(ducache_user_pack)
{
    using namespace ducache::pg;
    const Jsonb *totals = pg_call([&] { return PG_GETARG_JSONB_P(0); });
    bytea *pack = user_pack_of(totals);
    if (pack == nullptr)
        PG_RETURN_NULL();
    PG_RETURN_BYTEA_P(pack);
}

DUCACHE_FUNCTION(ducache_user_pack_rows)
{
    using namespace ducache;
    using namespace ducache::pg;
    const bytea *b = pg_call([&] { return PG_GETARG_BYTEA_PP(0); });
    const char *data = VARDATA_ANY(b);
    const size_t len = VARSIZE_ANY_EXHDR(b);
    core::UserPackView view;
    if (!view.parse(data, len))
        throw core::Error("22P03", "not a ducache users pack",
                          "Its header, names or identities run past its end (length " + std::to_string(len) + ").");
    const uint32_t n = view.users();
    ContextResource memory(CurrentMemoryContext);
    std::pmr::vector<int64_t> values(size_t(n) * core::kUserPackArrays, &memory);
    const int64_t *ptrs[core::kUserPackArrays];
    for (int a = 0; a < core::kUserPackArrays; a++) {
        int64_t *array = values.data() + size_t(a) * n;
        if (!view.decode(a, array))
            throw core::Error("22P03", "not a ducache users pack",
                              "A value of array " + std::to_string(a) + " exceeds its array's largest.");
        ptrs[a] = array;
    }
    init_materialized_srf(fcinfo);
    core::UserPackView::Cursor c(view);
    core::EntryValues v;
    core::Decimal keycost;
    for (uint32_t i = 0; i < n; i++) {
        check_for_interrupts();
        std::string_view name, rec;
        c.next(name, rec);
        core::PackIdentity id = core::UserPackView::identity(rec);
        core::pack_entry_values(view, ptrs, i, v);
        Datum values[14];
        bool nulls[14] = {};
        values[0] = Int32GetDatum(int32(i));
        values[1] = text_datum(name);
        for (int m = 0; m < core::kCountMetrics; m++)
            values[2 + m] = Int64GetDatum(v.counts[m]);
        if (v.cost_seen) {
            core::DecimalSum s;
            s.add(v.cost);
            values[8] = numeric_datum(s.to_string());
        } else {
            nulls[8] = true;
        }
        if (view.has_bounds()) {
            core::pack_keycost(view, ptrs, i, keycost);
            core::DecimalSum s;
            s.add(keycost);
            values[9] = numeric_datum(s.to_string());
            values[10] = Int64GetDatum(ptrs[core::kPackKeyMag][i]);
        } else {
            nulls[9] = nulls[10] = true;
        }
        values[11] = text_datum(id.username);
        values[12] = text_datum(id.email);
        values[13] = text_datum(id.role);
        put_row(fcinfo, values, nulls);
    }
    return (Datum)0;
}
