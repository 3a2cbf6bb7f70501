// The fast read's nested program (round 13 of issue 13): an entry whose remembered layout has a
// "metrics" object with a dense program, LiteMaaS' layouts (ShapeCache::litemaas_entry,
// litemaas_metrics) with their member indexes, counts' order and sizes as constants. Part of
// pg/entry_fast.hpp (included at its end), split to keep each file to one job.
#pragma once

#include "pg/entry_fast.hpp"

namespace ducache::pg::entry_fast {

// read_dense_counts for a nested entry's "metrics" object (round 13 of issue 13): the same
// reads and checks, the values walked by a pointer (each numeric's start = the cursor rounded
// up to 4, then the cursor advanced by its JEntry's length: INTALIGN of an offset from base is
// the same address when base is 4-byte aligned, which is checked) and the N JEntries' types
// checked together before any value is read (a difference ORed per member, one test).
// kCostRegs (the user breakdown's LiteMaaS entry, round 14 of issue 13): the cost decoded into
// registers as read_dense_regs does (its 64-bit form only: a wider one returns false, and the
// caller reads the entry the other way), add(counts, cost); f is not written.
template <int N, const core::Metric *kOrder = nullptr, bool kLiteMaaS = false, bool kCostRegs = false, typename Add>
inline __attribute__((always_inline)) bool read_nested_counts(const JsonbContainer *c, const ShapeCache &shape,
                                                              FastEntry &f, Add &&add)
{
    const JEntry *vje = &c->children[N];
    const char *base = reinterpret_cast<const char *>(&c->children[2 * N]);
    if (reinterpret_cast<uintptr_t>(base) & 3) {
        if constexpr (kCostRegs)
            return false;  // never (base is 4-byte aligned in a valid container): the other way
        else
            return read_dense_counts<N>(c, shape, f, add);
    }
#if defined(__SSE2__)
    if constexpr (N == 7) {
        // The 7 types in two 16-byte loads (the eighth lane is the first 4 key bytes, which
        // the layout compare has just read: its result is set true).
        const __m128i type_mask = _mm_set1_epi32(int(JENTRY_TYPEMASK)), numeric = _mm_set1_epi32(int(JENTRY_ISNUMERIC));
        __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i *>(vje));
        __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i *>(vje + 4));
        a = _mm_cmpeq_epi32(_mm_and_si128(a, type_mask), numeric);
        b = _mm_or_si128(_mm_cmpeq_epi32(_mm_and_si128(b, type_mask), numeric), _mm_set_epi32(-1, 0, 0, 0));
        if (_mm_movemask_epi8(_mm_and_si128(a, b)) != 0xFFFF)
            return false;
    } else
#endif
    {
        uint32 bad = 0;
#pragma GCC unroll 8
        for (int j = 0; j < N; j++)
            bad |= vje[j] ^ JENTRY_ISNUMERIC;
        if (bad & JENTRY_TYPEMASK)
            return false;
    }
    uintptr_t cur = reinterpret_cast<uintptr_t>(base) + (kLiteMaaS ? kLiteMaaSMetricsKeys : shape.keys_len());
    auto next = [&](int j) __attribute__((always_inline)) {
        const char *p = reinterpret_cast<const char *>((cur + 3) & ~uintptr_t(3));
        cur += vje[j] & JENTRY_OFFLENMASK;
        return p;
    };
    [[maybe_unused]] DenseCost cost;
    if constexpr (kCostRegs) {
        if (!decode_jsonb_cost(next(0), cost.m, cost.scale, cost.dscale))
            return false;
    } else if (!read_cost(next(0), f)) {
        return false;
    }
    DenseCounts<N - 1, kOrder, kLiteMaaS> counts;
#pragma GCC unroll 8
    for (int j = 1; j < N; j++)
        if (decode_dense_count(next(j), counts.v[j - 1]) != core::CountFast::ok)  // key bytes before it
            return false;
    if constexpr (kCostRegs) {
        return add(counts, cost);
    } else {
        counts.metric = shape.count_metrics();
        f.cost_seen = true;
        return add(counts);
    }
}

// LiteMaaS' outer object (its layout matched: 6 members, kLiteMaaSEntryKeys key bytes) as the
// user breakdown reads it (round 14 of issue 13): each value JEntry loaded once, for its type and
// its length, the starts summed in registers (FastObject's 8-lane prefix sums were extracted
// lane by lane and recomputed for the username). FastObject's accessors, for keep_identity_object.
class LiteMaaSObject {
public:
    static constexpr uint32 kN = kLiteMaaSEntryMembers;
    __attribute__((always_inline)) explicit LiteMaaSObject(const JsonbContainer *c)
        : base_(reinterpret_cast<const char *>(&c->children[2 * kN]))
    {
        static_assert(kN <= JB_OFFSET_STRIDE / 2, "every value JEntry a length");
        uint32 off = kLiteMaaSEntryKeys;
#pragma GCC unroll 8
        for (uint32 j = 0; j < kN; j++) {
            je_[j] = c->children[kN + j];
            start_[j] = off;
            off += je_[j] & JENTRY_OFFLENMASK;
        }
        start_[kN] = off;
    }
    __attribute__((always_inline)) uint32 type(int32 i) const { return je_[i] & JENTRY_TYPEMASK; }
    __attribute__((always_inline)) const char *aligned(int32 i) const { return base_ + INTALIGN(start_[i]); }
    __attribute__((always_inline)) JEntry value_entry(int32 i) const { return je_[i]; }
    __attribute__((always_inline)) const char *base() const { return base_; }
    __attribute__((always_inline)) uint32 start(int32 i) const { return start_[i]; }

private:
    const char *base_;
    JEntry je_[kN];
    uint32 start_[kN + 1];
};

// The user breakdown's LiteMaaS entry (round 14 of issue 13): read_nested_dense's LiteMaaS
// program for an entry c that matched the remembered LiteMaaS layout, the cost into registers
// (read_nested_counts' kCostRegs) and the outer object handed to add(counts, cost, o) (its
// identity read from it, its member count and key bytes constants: no FastEntry stored and
// reloaded). False (nothing added): the "metrics" object is not LiteMaaS' dense7 layout, a value
// the direct reads do not take, a cost past the 64-bit form, or add's false.
template <typename Add>
inline __attribute__((always_inline)) bool read_litemaas_regs(const JsonbContainer *c, const ShapeCache &metrics_shapes,
                                                              FastEntry &f, Add &&add)
{
    using M = LiteMaaSEntry;
    const LiteMaaSObject o(c);
    if (o.type(M::metrics) != JENTRY_ISCONTAINER)
        return false;
    auto inner = reinterpret_cast<const JsonbContainer *>(o.aligned(M::metrics));
    if (!metrics_shapes.matches_nk<7, kLiteMaaSMetricsKeys>(inner))
        return false;
    return read_nested_counts<7, kLiteMaaSCounts, true, true>(
        inner, metrics_shapes, f, [&](const auto &counts, const DenseCost &cost) __attribute__((always_inline)) {
            return add(counts, cost, o);
        });
}

// read_entry_dense's nested program: an entry c that shapes.matches(), its layout's program nested.
template <bool kIdentityViews, typename Add>
inline __attribute__((always_inline)) bool read_nested_dense(const JsonbContainer *c, ShapeCache &shapes,
                                                             ShapeCache &metrics_shapes, bool want_identity,
                                                             FastEntry &f, Add &&add)
{
    if (shapes.litemaas_entry() && metrics_shapes.litemaas_metrics()) {
        // LiteMaaS' entry and "metrics" layouts (round 13 of issue 13): what follows, with the
        // member indexes, counts and sizes as constants.
        using M = LiteMaaSEntry;
        FastObject o(c, kLiteMaaSEntryMembers, kLiteMaaSEntryKeys);
        if (o.type(M::metrics) != JENTRY_ISCONTAINER)
            return false;
        auto inner = reinterpret_cast<const JsonbContainer *>(o.aligned(M::metrics));
        if (!metrics_shapes.matches_nk<7, kLiteMaaSMetricsKeys>(inner))
            return false;
        if constexpr (!kIdentityViews) {
            f.object = &o;
        } else {
            f.username = f.email = f.role = {};
            if (want_identity) {
                auto text = [&](int32 i, std::string_view &dst) __attribute__((always_inline)) {
                    if (o.type(i) == JENTRY_ISSTRING)
                        dst = o.text(i);
                };
                text(M::username, f.username);
                text(M::email, f.email);
                text(M::role, f.role);
            }
        }
        return read_nested_counts<7, kLiteMaaSCounts, true>(inner, metrics_shapes, f, add);
    }
    const core::EntryPlan &plan = shapes.remembered();
    FastObject o(c, shapes);
    if (o.type(plan.metrics_object) != JENTRY_ISCONTAINER)
        return false;
    auto inner = reinterpret_cast<const JsonbContainer *>(o.aligned(plan.metrics_object));
    // The "metrics" layout's program first: its member count is then known (a compare of its
    // header and key JEntries without a jump, round 13 of issue 13).
    const ShapeCache::Program inner_program = metrics_shapes.program();
    const bool litemaas = metrics_shapes.litemaas_metrics();
    if (litemaas ? !metrics_shapes.matches_nk<7, kLiteMaaSMetricsKeys>(inner)
        : inner_program == ShapeCache::Program::dense7 ? !metrics_shapes.matches_n<7>(inner)
        : inner_program == ShapeCache::Program::dense5 ? !metrics_shapes.matches_n<5>(inner)
                                                       : true)
        return false;
    if constexpr (!kIdentityViews) {
        // Round 13 of issue 13: the caller reads the identity from the object (no views stored
        // and reloaded).
        f.object = &o;
    } else {
        f.username = f.email = f.role = {};
        if (want_identity) {
            auto text = [&](int32 i, std::string_view &dst) __attribute__((always_inline)) {
                if (i >= 0 && o.type(i) == JENTRY_ISSTRING)
                    dst = o.text(i);
            };
            text(plan.username, f.username);
            text(plan.email, f.email);
            text(plan.role, f.role);
        }
    }
    if (inner_program == ShapeCache::Program::dense5)
        return read_nested_counts<5>(inner, metrics_shapes, f, add);
    return litemaas ? read_nested_counts<7, kLiteMaaSCounts>(inner, metrics_shapes, f, add)
                    : read_nested_counts<7>(inner, metrics_shapes, f, add);
}

}  // namespace ducache::pg::entry_fast
