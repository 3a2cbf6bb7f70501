#include "pg/partial_dsa.hpp"

#include "pg/boundary.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "access/parallel.h"
#include "executor/execParallel.h"
#include "nodes/execnodes.h"
#include "nodes/nodeFuncs.h"
#include "utils/dsa.h"
}

#include <cstring>

namespace ducache::pg {

namespace {

// The bytea naming a partial in the area: marker, dsa_pointer, byte length. The marker is
// never a version of the wire form (core/breakdown_partial.hpp), so the forms cannot be confused.
constexpr uint8 kInDsa = 0xFD;
static_assert(kInDsa != core::kBreakdownPartialVersion);
constexpr size_t kMessageBytes = 1 + sizeof(uint64) + sizeof(uint64);

int32 dsa_reads = 0;

AggState *agg_state(FunctionCallInfo fcinfo)
{
    return fcinfo->context && IsA(fcinfo->context, AggState) ? reinterpret_cast<AggState *>(fcinfo->context) : nullptr;
}

// The DSA area of the one Gather (or Gather Merge) below the leader's aggregate; nullptr when
// there is none or more than one (a plan the breakdown does not build).
struct GatherArea {
    dsa_area *area = nullptr;
    int gathers = 0;
};

bool find_gather_area(PlanState *ps, void *arg);

// planstate_tree_walker's walker type is C's unprototyped bool (*)(): cast through void (*)().
bool (*const gather_walker)() = reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(find_gather_area));

bool find_gather_area(PlanState *ps, void *arg)
{
    if (!ps)
        return false;
    auto *found = static_cast<GatherArea *>(arg);
    if (IsA(ps, GatherState) || IsA(ps, GatherMergeState)) {
        ParallelExecutorInfo *pei =
            IsA(ps, GatherState) ? reinterpret_cast<GatherState *>(ps)->pei : reinterpret_cast<GatherMergeState *>(ps)->pei;
        found->gathers++;
        if (pei)
            found->area = pei->area;
        return false;  // a Gather never holds another
    }
    return planstate_tree_walker(ps, gather_walker, arg);
}

// Whether the query's parameters carry the breakdown's marker as $3 (see the header).
bool own_query(const EState *estate)
{
    const ParamListInfo params = estate->es_param_list_info;
    if (!params || params->numParams < 3 || params->paramFetch)  // a worker's are static
        return false;
    const ParamExternData &p = params->params[2];
    return p.ptype == INT8OID && !p.isnull && DatumGetInt64(p.value) == kPartialDsaMarker;
}

}  // namespace

bytea *partial_into_dsa(FunctionCallInfo fcinfo, const core::BreakdownPartial &p)
{
    AggState *agg = agg_state(fcinfo);
    if (!IsParallelWorker() || test_partial_bytes_setting() || !agg)
        return nullptr;
    dsa_area *area = agg->ss.ps.state->es_query_dsa;
    if (!area || !own_query(agg->ss.ps.state))
        return nullptr;
    const size_t len = core::serialized_partial_size(p);
    // NO_OOM: a full area (dynamic_shared_memory's limits) is the bytes' path, not an error.
    dsa_pointer dp = pg_call([&] { return dsa_allocate_extended(area, len, DSA_ALLOC_HUGE | DSA_ALLOC_NO_OOM); });
    if (!DsaPointerIsValid(dp))
        return nullptr;
    char *dst = pg_call([&] { return static_cast<char *>(dsa_get_address(area, dp)); });
    core::write_serialized_partial(p, dst);
    bytea *m = pg_call([&] { return static_cast<bytea *>(palloc(VARHDRSZ + kMessageBytes)); });
    SET_VARSIZE(m, VARHDRSZ + kMessageBytes);
    char *out = VARDATA(m);
    const uint64 pointer = uint64(dp), bytes = uint64(len);
    out[0] = char(kInDsa);
    std::memcpy(out + 1, &pointer, sizeof pointer);
    std::memcpy(out + 1 + sizeof pointer, &bytes, sizeof bytes);
    return m;
}

bool partial_from_dsa(FunctionCallInfo fcinfo, const char *data, size_t len, core::BreakdownPartial &into)
{
    if (len != kMessageBytes || uint8(data[0]) != kInDsa)
        return false;
    uint64 pointer, bytes;
    std::memcpy(&pointer, data + 1, sizeof pointer);
    std::memcpy(&bytes, data + 1 + sizeof pointer, sizeof bytes);
    GatherArea found;
    if (AggState *agg = agg_state(fcinfo))
        (void)planstate_tree_walker(&agg->ss.ps, gather_walker, &found);
    if (found.gathers != 1 || !found.area)
        pg_call([&] {
            elog(ERROR, "ducache: a parallel worker's partial state is in shared memory this plan does not reach");
        });
    const dsa_pointer dp = dsa_pointer(pointer);
    const char *src = pg_call([&] { return static_cast<const char *>(dsa_get_address(found.area, dp)); });
    core::deserialize_breakdown_partial(src, size_t(bytes), into);
    pg_call([&] { dsa_free(found.area, dp); });
    dsa_reads++;
    return true;
}

void reset_partial_dsa_reads()
{
    dsa_reads = 0;
}

}  // namespace ducache::pg

#ifdef DUCACHE_TEST_HOOKS
// Test hook: the worker partials this backend read through a query's shared memory since the
// last parallel user breakdown began or this hook was called (0: all came as bytes through the
// Gather's queue); it starts the count again.
DUCACHE_FUNCTION(ducache_test_partial_dsa_reads)
{
    int32 n = ducache::pg::dsa_reads;
    ducache::pg::reset_partial_dsa_reads();
    PG_RETURN_INT32(n);
}
#endif
