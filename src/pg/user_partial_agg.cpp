// ducache_user_partial(jsonb, date, date): the aggregate behind the parallel user breakdown
// (pg/parallel_breakdown.hpp). Its state is a core::BreakdownPartial in the aggregate's
// memory context, destroyed by that context's reset callback; the final function returns the
// state serialized (core/breakdown_partial.hpp), which the breakdown reads back. Rows may
// come in any order. A ducache error in a row marks the state failed instead of raising: the
// breakdown then reads the days serially and raises the error the date order finds first.
// The transition reads a row as the serial breakdown does (accumulate_breakdown's loop and fast
// path, round 10 of issue 13). When the breakdown itself runs the query (parallel_breakdown.cpp
// names its state as the hand-off target), the leader's aggregate works in that state itself
// (round 13 of issue 13): its transition adds its rows there, its partial crosses the Gather as
// a one-byte marker (kInPlace) instead of 10,000 keys serialized and read back, each worker's
// partial is deserialized straight into it (no state in between, no combine), and the final
// function returns NULL with nothing left to do.
#include "core/breakdown_partial.hpp"
#include "core/entry_rules.hpp"
#include "core/error.hpp"
#include "core/object_view.hpp"
#include "core/same_bytes.hpp"

#include "pg/boundary.hpp"
#include "pg/toast_read.hpp"
#include "pg/context_resource.hpp"
#include "pg/day_claims.hpp"
#include "pg/entry_dense.hpp"
#include "pg/entry_fast.hpp"
#include "pg/entry_reader.hpp"
#include "pg/entry_walk.hpp"
#include "pg/parallel_breakdown.hpp"
#include "pg/parallel_trace.hpp"
#include "pg/partial_dsa.hpp"

extern "C" {
#include "access/detoast.h"
#include "access/parallel.h"
#include "utils/timestamp.h"
}

#include <new>
#include <string>
#include <utility>

namespace {

using namespace ducache;
using namespace ducache::pg;

// `partial` is the state's own, or the breakdown's (the hand-off target, which outlives the
// aggregate's context: the reset callback destroys only `own`).
struct PartialState {
    explicit PartialState(MemoryContext cxt) : memory(cxt), own(&memory), partial(own) {}
    PartialState(MemoryContext cxt, core::BreakdownPartial &target) : memory(cxt), own(&memory), partial(target) {}
    ContextResource memory;
    core::BreakdownPartial own;
    core::BreakdownPartial &partial;
    DayClaimsShared *claims = nullptr;  // the breakdown's query's (pg/day_claims.hpp), else nullptr
    WorkerPace pace;                    // a worker's reading so far (claim_day)
    bool in_target() const { return &partial != &own; }
};

// The leader's own partial on its way through the Gather when it is the hand-off target: one
// byte, never a version of the wire form (deserialize_breakdown_partial refuses it elsewhere).
constexpr uint8 kInPlace = 0xFE;
static_assert(kInPlace != core::kBreakdownPartialVersion);

MemoryContext aggregate_context(FunctionCallInfo fcinfo, const char *fn)
{
    MemoryContext cxt = nullptr;
    if (!AggCheckCallContext(fcinfo, &cxt))
        pg_call([&] {
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("%s called in non-aggregate context", fn)));
        });
    return cxt;
}

PartialState *new_state(MemoryContext cxt, core::BreakdownPartial *target = nullptr)
{
    void *mem = palloc_or_throw(cxt, sizeof(PartialState), "the user breakdown's partial state");
    auto *state = target ? new (mem) PartialState(cxt, *target) : new (mem) PartialState(cxt);
    auto *cb = static_cast<MemoryContextCallback *>(palloc_or_throw(cxt, sizeof(MemoryContextCallback), "the user breakdown's partial state"));
    cb->func = [](void *arg) { static_cast<PartialState *>(arg)->~PartialState(); };
    cb->arg = state;
    pg_call([&] { MemoryContextRegisterResetCallback(cxt, cb); });
    return state;
}

PartialState *state_arg(FunctionCallInfo fcinfo, int n)
{
    return PG_ARGISNULL(n) ? nullptr : reinterpret_cast<PartialState *>(PG_GETARG_POINTER(n));
}

// Thrown to stop reading a row whose values the serial order must judge.
struct OrderMatters {};

// One row's reading state (accumulate's), for the per-entry steps below.
struct PartialRow {
    core::BreakdownPartial &p;
    const DayLabel &row;
    std::string_view column;
    int32 d;
    entry_fast::ShapeCache &shapes, &metrics_shapes;
    entry_fast::FastEntry &f;
    EntryValues &v;
    const uint32_t *known;  // core::KeyAggregator::known_keys' hints, or nullptr
};

// An entry into the partial by the fast read's programs, else read_entry_fast, else
// read_entry_at (the general loop's step).
inline __attribute__((always_inline)) void add_partial_entry(const PartialRow &r, const WalkedEntry &e)
{
    core::BreakdownPartial &p = r.p;
    core::KeyAggregator &agg = p.agg;
    entry_fast::ShapeCache &shapes = r.shapes;
    entry_fast::FastEntry &f = r.f;
    const int32 d = r.d;
    const uint32_t *known = r.known;
    if (e.is_container() && shapes.matches(e.container()) &&
        entry_fast::read_entry_dense(e.container(), shapes, r.metrics_shapes, false, true, f,
                                     [&](const auto &counts) __attribute__((always_inline)) {
            // Round 12 of issue 13: a dense entry's counts added from registers (false: the
            // loop's other path below reads it again and adds it or raises its error).
            if (!counts.none_negative() || (f.cost_wide_used && f.cost_wide.big))
                throw OrderMatters{};
            core::Slot &slot =
                known ? agg.slot_at(known[e.position]) : agg.find_or_insert_at(e.key, e.key_len, e.position);
            if (!counts.add_to(slot.totals.counts))
                return false;
            if (__builtin_expect(!f.cost_wide_used, 1))
                slot.totals.cost.add_scaled(f.cost_m, f.cost_scale, f.cost_dscale);
            else
                slot.totals.cost.add(f.cost_wide);
            core::BreakdownPartial::mark_day(slot, d);
            if (shapes.has_identity())
                p.keep_identity(slot, d, f.username, f.email, f.role);
            return true;
        }))
        return;
    if (e.is_container() && entry_fast::read_entry_fast(e.container(), shapes, r.metrics_shapes, false, true, f)) {
        if (!core::BreakdownPartial::counts_order_free(f.counts) ||
            (f.cost_seen && f.cost_wide_used && f.cost_wide.big))
            throw OrderMatters{};
        core::Slot &slot = agg.find_or_insert_at(e.key, e.key_len, e.position);
        core::add_counts_or_throw(slot.totals.counts, f.counts, r.column, {e.key, e.key_len}, r.row);
        if (f.cost_seen) {
            if (__builtin_expect(!f.cost_wide_used, 1))
                slot.totals.cost.add_scaled(f.cost_m, f.cost_scale, f.cost_dscale);
            else
                slot.totals.cost.add(f.cost_wide);
        }
        core::BreakdownPartial::mark_day(slot, d);
        if (shapes.has_identity())
            p.keep_identity(slot, d, f.username, f.email, f.role);
    } else {
        JsonbItem val;
        e.item(val);
        std::string_view k(e.key, e.key_len);
        read_entry_at(val, r.column, r.row, k, false, true, r.v);
        if (!core::BreakdownPartial::order_free(r.v))
            throw OrderMatters{};
        core::Slot &slot = agg.find_or_insert_at(e.key, e.key_len, e.position);
        p.add(slot, r.v, d, r.row, r.column, k);
    }
}

// add_partial_entry out of line, for the entries accumulate_partial_dense's program does not take.
[[gnu::noinline]] void add_partial_entry_out(const PartialRow &r, const WalkedEntry &e)
{
    add_partial_entry(r, e);
}

// accumulate's loop for a row read while the remembered layout is dense5 or dense7 (a flat entry
// of five or seven metrics; dense7 since round 16 of issue 13), as the serial breakdown's
// accumulate_dense (pg/entry_reader.cpp; round 14 of issue
// 13: the parallel participants read every entry through the general step, ~45 instructions an
// entry more): the layout compared with its length known, the cost and counts decoded into
// registers, the cost added from its 64-bit form. A negative count stops the row as the general
// step does (OrderMatters, before anything of the entry is added); any other entry the program
// does not take (another layout, a cost past 64 bits, a sum past bigint) goes to the general
// step, which adds it or raises its error.
// kKnown: r.known's hints give the slots, and the walk does not find the keys (an entry the
// program does not take gets its key for the general step).
template <int N, bool kKnown>
[[gnu::noinline]] void accumulate_partial_dense(const PartialRow &r, const JsonbContainer *root)
{
    core::KeyAggregator &agg = r.p.agg;
    entry_fast::ShapeCache &shapes = r.shapes;
    const int32 d = r.d;
    const uint32_t *known = r.known;
    walk_entries<!kKnown>(root, [&](const WalkedEntry &e) __attribute__((always_inline)) {
        if (__builtin_expect(e.is_container() && shapes.program() == entry_fast::ShapeCache::dense_program<N>() &&
                                 shapes.matches_n<N>(e.container()),
                             1)) {
            if (__builtin_expect(entry_fast::read_dense_regs<N>(
                                     e.container(), shapes.keys_len(), shapes.count_metrics(),
                                     [&](const auto &counts, const entry_fast::DenseCost &cost)
                                         __attribute__((always_inline)) {
                                             if (!counts.none_negative())
                                                 throw OrderMatters{};
                                             core::Slot &slot = kKnown ? agg.slot_at(known[e.position])
                                                                       : agg.find_or_insert_at(e.key, e.key_len,
                                                                                               e.position);
                                             if (!counts.add_to(slot.totals.counts))
                                                 return false;
                                             slot.totals.cost.add_scaled(cost.m, cost.scale, cost.dscale);
                                             core::BreakdownPartial::mark_day(slot, d);
                                             return true;
                                         }),
                                 1))
                return;
        }
        const WalkedEntry copy = kKnown ? entry_key(root, e) : e;
        add_partial_entry_out(r, copy);
    });
}

// A row's entries into the partial: accumulate_breakdown's loop (walk_entries, pg/entry_walk.hpp:
// the object walked once, the next entry prefetched; an entry of the previous entry's layout read by
// read_entry_fast into the slot its position hint finds, the cost added from its 64-bit decode)
// with the partial's adds (core::BreakdownPartial: the day counted once with the last day as a
// maximum, the identity kept with its day). An entry the fast path does not take is read by
// read_entry_at, which gives the same values or the error; an entry whose values only the date
// order can judge stops the row before anything of it is added.
void accumulate(core::BreakdownPartial &p, const Jsonb *obj, const InputRow &day)
{
    const JsonbContainer *root = &obj->root;
    if (!JsonContainerIsObject(root) || JsonContainerIsScalar(root))
        throw_bad_shape(day, "it is not a JSON object");
    DayLabel row(day);
    core::KeyAggregator &agg = p.agg;
    const uint32 n = JsonContainerSize(root);
    if (n == 0)
        return;
    // A participant's first row: its state sized for the row's keys at once (round 11 of issue
    // 13). A parallel worker is a new process: each doubling of the slots and of the table was
    // fresh memory it faulted in (~1,400 of a worker's ~3,800 minor faults at 10,000 keys), and
    // the row buffers detoasted between them landed on fresh pages too. Round 14: room for more
    // keys than the first row's (sparse rows: each key list a fifth of the users), see
    // core::KeyAggregator::reserve_from_first_object.
    if (agg.size() == 0)
        agg.reserve_from_first_object(n);
    entry_fast::FastEntry f;
    EntryValues v;
    // Round 14 of issue 13: the row's key list the last one of its kind (one compare): each dense
    // entry's slot is its position's hint (pg/entry_reader.cpp's accumulate_dense likewise).
    const ObjectKeys keys = object_keys(root);
    const PartialRow r{p, row, std::string_view(day.column), day.day_index, entry_fast::entry_shape_cache(),
                       entry_fast::metrics_shape_cache(), f, v, keys.known(agg)};
    if (r.shapes.program() == entry_fast::ShapeCache::Program::dense5)
        r.known ? accumulate_partial_dense<5, true>(r, root) : accumulate_partial_dense<5, false>(r, root);
    else if (r.shapes.program() == entry_fast::ShapeCache::Program::dense7)
        r.known ? accumulate_partial_dense<7, true>(r, root) : accumulate_partial_dense<7, false>(r, root);
    else if (r.shapes.program() == entry_fast::ShapeCache::Program::nested)  // (pg/entry_walk.hpp's kAhead)
        walk_entries<true, kNestedPrefetchAhead>(
            root, [&](const WalkedEntry &e) __attribute__((always_inline)) { add_partial_entry(r, e); });
    else
        walk_entries(root, [&](const WalkedEntry &e) __attribute__((always_inline)) { add_partial_entry(r, e); });
    if (!r.known)
        keys.remember(agg);
}

// The state as a bytea, written in place (no std::string in between).
bytea *to_bytea(const core::BreakdownPartial &p)
{
    size_t len = core::serialized_partial_size(p);
    check_alloc_size(VARHDRSZ + len, "the user breakdown's serialized partial state (bytea)");
    bytea *b = pg_call([&] {
        bytea *r = (bytea *)palloc(VARHDRSZ + len);
        SET_VARSIZE(r, VARHDRSZ + len);
        return r;
    });
    core::write_serialized_partial(p, VARDATA(b));
    return b;
}

}  // namespace

// (state, aggregated_by_user, date, start): the row's day offset is date - start.
DUCACHE_FUNCTION(ducache_user_partial_trans)
{
    MemoryContext cxt = aggregate_context(fcinfo, "ducache_user_partial_trans");
    PartialState *state = state_arg(fcinfo, 0);
    if (!state) {
        trace_parallel_worker_exit();
        trace_parallel("first row");
        state = new_state(cxt, partial_handoff_target());
        state->claims = day_claims_for(fcinfo);
        if (state->claims)
            note_leader_reads(state->claims, fcinfo);
    }
    if (state->partial.failed || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
        PG_RETURN_POINTER(state);
    DateADT date = PG_GETARG_DATEADT(2), start = PG_GETARG_DATEADT(3);
    // In the breakdown's own query every participant scans every day: read it only when first.
    if (state->claims) {
        const bool worker = IsParallelWorker();
        if (!claim_day(state->claims, int32(date - start), worker ? &state->pace : nullptr))
            PG_RETURN_POINTER(state);
        if (worker) {
            if (state->pace.days++ == 0)
                state->pace.first_us = GetCurrentTimestamp();
            state->pace.stored_mb += double(toast_datum_size(PG_GETARG_DATUM(1))) / (1024.0 * 1024.0);
        }
    }
    const Jsonb *obj = pg_call([&] { return (const Jsonb *)detoast_jsonb(PG_GETARG_DATUM(1)); });  // pg/toast_read.hpp
    InputRow day{date, int32(date - start), "aggregated_by_user"};
    if (IsParallelWorker())
        state->partial.worker_days++;
    try {
        accumulate(state->partial, obj, day);
    } catch (const core::Error &) {
        state->partial.failed = true;
    } catch (const OrderMatters &) {
        state->partial.failed = true;
    }
    PG_RETURN_POINTER(state);
}

DUCACHE_FUNCTION(ducache_user_partial_combine)
{
    MemoryContext cxt = aggregate_context(fcinfo, "ducache_user_partial_combine");
    PartialState *a = state_arg(fcinfo, 0), *b = state_arg(fcinfo, 1);
    if (!b)
        PG_RETURN_POINTER(a);
    if (!a)  // b lives in the aggregate's context (deserialize made it there): take it as it is
        PG_RETURN_POINTER(b);
    (void)cxt;
    if (&a->partial == &b->partial)  // both the hand-off target: b was read into it already
        PG_RETURN_POINTER(a);
    if (b->in_target())  // keep the target as the result (it outlives the aggregate's context)
        std::swap(a, b);
    trace_parallel("combine start", (long long)b->partial.agg.size());
    a->partial.combine(b->partial);
    trace_parallel("combine end", (long long)a->partial.agg.size());
    PG_RETURN_POINTER(a);
}

DUCACHE_FUNCTION(ducache_user_partial_serialize)
{
    aggregate_context(fcinfo, "ducache_user_partial_serialize");
    trace_parallel("serialize start", (long long)state_arg(fcinfo, 0)->partial.agg.size());
    trace_parallel("rows read (workers)", (long long)state_arg(fcinfo, 0)->partial.worker_days);
    if (state_arg(fcinfo, 0)->in_target()) {  // the leader's own: its keys stay where they are
        bytea *m = pg_call([&] { return (bytea *)palloc(VARHDRSZ + 1); });
        SET_VARSIZE(m, VARHDRSZ + 1);
        *reinterpret_cast<uint8 *>(VARDATA(m)) = kInPlace;
        trace_parallel("serialize end (in place)", 1);
        PG_RETURN_BYTEA_P(m);
    }
    // A worker of the breakdown's own query: its keys in the query's shared memory, their
    // address through the queue (pg/partial_dsa.hpp); else the bytes themselves.
    bytea *b = partial_into_dsa(fcinfo, state_arg(fcinfo, 0)->partial);
    if (!b)
        b = to_bytea(state_arg(fcinfo, 0)->partial);
    trace_parallel("serialize end", (long long)VARSIZE(b));
    if (IsParallelWorker() && test_trace_parallel_setting()) {
        trace_parallel("serialize end RssShmem kB", trace_status_kb("RssShmem"));
        trace_parallel("serialize end RssAnon kB", trace_status_kb("RssAnon"));
    }
    PG_RETURN_BYTEA_P(b);
}

DUCACHE_FUNCTION(ducache_user_partial_deserialize)
{
    MemoryContext cxt = aggregate_context(fcinfo, "ducache_user_partial_deserialize");
    bytea *in = pg_call([&] { return PG_GETARG_BYTEA_PP(0); });
    trace_parallel("deserialize start", (long long)VARSIZE_ANY_EXHDR(in));
    const char *data = VARDATA_ANY(in);
    const size_t len = VARSIZE_ANY_EXHDR(in);
    core::BreakdownPartial *target = partial_handoff_target();
    if (len == 1 && uint8(data[0]) == kInPlace && target)  // the leader's own: already in the target
        PG_RETURN_POINTER(new_state(cxt, target));
    // In the leader, a worker's keys go straight into the target: the read is the combine.
    PartialState *state = new_state(cxt, target);
    if (!partial_from_dsa(fcinfo, data, len, state->partial))
        core::deserialize_breakdown_partial(data, len, state->partial);
    trace_parallel("deserialize end", (long long)state->partial.agg.size());
    PG_RETURN_POINTER(state);
}

DUCACHE_FUNCTION(ducache_user_partial_final)
{
    aggregate_context(fcinfo, "ducache_user_partial_final");
    PartialState *state = state_arg(fcinfo, 0);
    if (!state)
        PG_RETURN_NULL();
    if (state->in_target()) {  // every partial is in the breakdown's state already
        trace_parallel("final (in place)", (long long)state->partial.agg.size());
        run_partial_emit(state->partial);  // the breakdown's output, while the workers exit
        (void)take_partial_handoff();
        PG_RETURN_NULL();
    }
    if (core::BreakdownPartial *target = take_partial_handoff()) {
        // The breakdown runs this query: its state takes the keys (copied into its memory,
        // failure and worker days included); the result is NULL.
        trace_parallel("final start", (long long)state->partial.agg.size());
        target->combine(state->partial);
        trace_parallel("final end", (long long)target->agg.size());
        PG_RETURN_NULL();
    }
    PG_RETURN_BYTEA_P(to_bytea(state->partial));
}
