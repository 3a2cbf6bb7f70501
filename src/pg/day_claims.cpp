#include "core/parallel_rule.hpp"

#include "pg/day_claims.hpp"

#include "pg/boundary.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "access/parallel.h"
#include "nodes/execnodes.h"
#include "port/atomics.h"
#include "storage/proc.h"
#include "utils/timestamp.h"
}

namespace ducache::pg {

// The segment's layout: a bit a day, claimed by an atomic OR (the first to set it reads the day).
struct DayClaimsShared {
    uint32 magic;
    uint32 days;
    int32 leader_pid;  // the backend that made it: only its own workers may attach
    pg_atomic_uint32 claimed;       // days claimed so far
    pg_atomic_uint32 leader_reads;  // 1: the leader reads every row (note_leader_reads)
    pg_atomic_uint32 words[FLEXIBLE_ARRAY_MEMBER];
};

namespace {

constexpr uint32 kMagic = 0x64636c31;  // "dcl1"

size_t segment_size(uint32 days)
{
    return offsetof(DayClaimsShared, words) + sizeof(pg_atomic_uint32) * ((size_t(days) + 31) / 32);
}

}  // namespace

DayClaimsSegment create_day_claims(int32 days)
{
    DayClaimsSegment s;
    if (days <= 0)
        return s;
    pg_call([&] {
        s.seg = dsm_create(segment_size(uint32(days)), DSM_CREATE_NULL_IF_MAXSEGMENTS);
        if (!s.seg)
            return;
        auto *c = static_cast<DayClaimsShared *>(dsm_segment_address(s.seg));
        c->magic = kMagic;
        c->days = uint32(days);
        c->leader_pid = MyProcPid;
        pg_atomic_init_u32(&c->claimed, 0);
        pg_atomic_init_u32(&c->leader_reads, 0);
        for (uint32 w = 0; w < (uint32(days) + 31) / 32; w++)
            pg_atomic_init_u32(&c->words[w], 0);
        s.shared = c;
        s.token = kDayClaimsTag | int64(dsm_segment_handle(s.seg));
    });
    return s;
}

void release_day_claims(DayClaimsSegment &s)
{
    if (s.seg)
        pg_call([&] { dsm_detach(s.seg); });
    s = DayClaimsSegment{};
}

DayClaimsShared *day_claims_for(FunctionCallInfo fcinfo)
{
    if (!fcinfo->context || !IsA(fcinfo->context, AggState))
        return nullptr;
    const ParamListInfo params = reinterpret_cast<AggState *>(fcinfo->context)->ss.ps.state->es_param_list_info;
    if (!params || params->numParams < 4 || params->paramFetch)  // a worker's are static
        return nullptr;
    const ParamExternData &p = params->params[3];
    if (p.ptype != INT8OID || p.isnull)
        return nullptr;
    const int64 token = DatumGetInt64(p.value);
    if ((token & ~int64(0xFFFFFFFF)) != kDayClaimsTag)
        return nullptr;
    const dsm_handle handle = dsm_handle(uint32(token & 0xFFFFFFFF));
    return pg_call([&]() -> DayClaimsShared * {
        dsm_segment *seg = dsm_find_mapping(handle);  // the leader's own, or attached earlier
        if (!seg) {
            // Only a worker attaches (the leader made the segment); its mapping is kept until
            // the worker exits, so its transaction's end does not see a segment left attached.
            if (!IsParallelWorker())
                return nullptr;
            seg = dsm_attach(handle);
            if (seg)
                dsm_pin_mapping(seg);
        }
        auto *c = seg ? static_cast<DayClaimsShared *>(dsm_segment_address(seg)) : nullptr;
        // Another session's claims (a guessed handle in a query of one's own) are refused: a worker
        // takes only the segment its own leader made (its lock group's leader).
        if (!c || dsm_segment_map_length(seg) < offsetof(DayClaimsShared, words) || c->magic != kMagic ||
            dsm_segment_map_length(seg) < segment_size(c->days) ||
            c->leader_pid != (MyProc->lockGroupLeader ? MyProc->lockGroupLeader->pid : MyProcPid))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("ducache_user_partial: the query's fourth parameter names no day claims"),
                            errdetail("The parameter is %lld; only the parallel user breakdown's own query passes one.",
                                      (long long)token)));
        return c;
    });
}

void note_leader_reads(DayClaimsShared *claims, FunctionCallInfo fcinfo)
{
    if (IsParallelWorker() || !fcinfo->context || !IsA(fcinfo->context, AggState))
        return;
    // The aggregate's input: the Append of the whole-range scans; with a parallel-aware scan
    // among them (first_partial_plan below the scans' count) the rows are shared out, and a
    // day a worker left could be one the leader never gets. (PostgreSQL 15 plans the query's
    // sorted scans without one, even with every parallel cost and size minimum at 0; the test
    // is for a plan that would.)
    PlanState *input = outerPlanState(reinterpret_cast<AggState *>(fcinfo->context));
    if (!input || !IsA(input, AppendState))
        return;
    const AppendState *append = reinterpret_cast<const AppendState *>(input);
    if (reinterpret_cast<const Append *>(append->ps.plan)->first_partial_plan < append->as_nplans)
        return;
    pg_atomic_write_u32(&claims->leader_reads, 1);
}

bool claim_day(DayClaimsShared *claims, int32 day_index, const WorkerPace *pace)
{
    if (day_index < 0 || uint32(day_index) >= claims->days)  // the query reads only the range
        pg_call([&] {
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("ducache_user_partial: day %d is outside the day claims' range", day_index),
                            errdetail("The claims hold %u days from the query's first parameter.", claims->days)));
        });
    const uint32 bit = uint32(1) << (uint32(day_index) % 32);
    if (pg_atomic_read_u32(&claims->words[day_index / 32]) & bit)  // taken: no write to the shared line
        return false;
    if (pace && pace->days > 0 && pg_atomic_read_u32(&claims->leader_reads)) {
        const double ms_per_day = double(GetCurrentTimestamp() - pace->first_us) / 1000.0 / pace->days;
        const uint32 unclaimed = claims->days - pg_atomic_read_u32(&claims->claimed);
        const int test_ms = test_worker_leaves_ms_setting();
        if (test_ms >= 0 ? double(unclaimed) * ms_per_day <= test_ms
                         : core::worker_leaves_rest(unclaimed, ms_per_day, pace->stored_mb))
            return false;
    }
    if (pg_atomic_fetch_or_u32(&claims->words[day_index / 32], bit) & bit)
        return false;
    pg_atomic_fetch_add_u32(&claims->claimed, 1);
    return true;
}

uint32 days_claimed(const DayClaimsShared *claims)
{
    return pg_atomic_read_u32(const_cast<pg_atomic_uint32 *>(&claims->claimed));
}

bool leader_reads_all(const DayClaimsShared *claims)
{
    return pg_atomic_read_u32(const_cast<pg_atomic_uint32 *>(&claims->leader_reads)) != 0;
}

}  // namespace ducache::pg

#ifdef DUCACHE_TEST_HOOKS
namespace {
ducache::pg::DayClaimsSegment kept_claims;  // this session's, as another session's live claims
}

// Test hook: a claims segment of `days` days made by this backend and kept attached for its
// session (a running breakdown's, as another session would see it); returns its token, the
// fourth parameter that names it. A second call replaces it.
DUCACHE_FUNCTION(ducache_test_day_claims_kept)
{
    ducache::pg::release_day_claims(kept_claims);
    kept_claims = ducache::pg::create_day_claims(PG_GETARG_INT32(0));
    if (!kept_claims.seg)
        PG_RETURN_NULL();
    ducache::pg::pg_call([] { dsm_pin_mapping(kept_claims.seg); });
    PG_RETURN_INT64(kept_claims.token);
}

// Test hook: the days claimed in that segment so far (another process setting its bits); -1: none.
DUCACHE_FUNCTION(ducache_test_day_claims_kept_claimed)
{
    PG_RETURN_INT32(kept_claims.shared ? int32(ducache::pg::days_claimed(kept_claims.shared)) : -1);
}
#endif
