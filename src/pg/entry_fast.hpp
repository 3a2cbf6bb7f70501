// The read path's fast entry read (issue 13): an entry object with the layout of the one
// before it (ShapeCache: compared byte for byte) is read by that layout's member indexes, its
// numbers decoded inline. Internal to pg/entry_reader.cpp (which owns the backend's caches);
// split from it to keep each file to one job.
#pragma once

#include "core/aggregator.hpp"
#include "core/count_sum.hpp"
#include "core/entry_rules.hpp"
#include "core/metrics.hpp"
#include "core/same_bytes.hpp"

#include "pg/entry_dense.hpp"
#include "pg/entry_reader.hpp"
#include "pg/jsonb_object_view.hpp"
#include "pg/numeric_decode.hpp"
#include "pg/shape_cache.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ducache::pg::entry_fast {

// The common entry read straight from its JSONB bytes. An entry almost always has the layout
// of the one before it, and its values are what the core's direct reads take without a second
// look (core::read_direct: each count a small whole number, the cost a finite number, the
// "metrics" object an object, a rollup's "~days" a valid mask). The general path builds an
// ObjectWalker and ObjectValues (two passes over the JEntries), classifies each value through
// ValueKind and reads it through the view: ~700 instructions a flat entry of five metrics
// (cachegrind). Here the layout is compared and the values read by the remembered plan's member
// indexes. Anything else returns false before `out` is trusted, and the caller reads the entry
// the general way, which gives the same values or raises the error.
class FastObject {
public:
    FastObject(const JsonbContainer *c, const ShapeCache &shape) : FastObject(c, shape.count(), shape.keys_len()) {}
    // n members with keys_len key bytes (the remembered layout's: constants for a LiteMaaS entry).
    __attribute__((always_inline)) FastObject(const JsonbContainer *c, uint32 n, uint32 keys_len)
        : c_(c), n_(n), base_(reinterpret_cast<const char *>(&c->children[2 * n_]))
    {
        uint32 off = keys_len;
#if defined(__SSE2__)
        if (n_ <= 8 && off >= 4 * (8 - n_)) {
            // Round 9 of issue 13: the starts as prefix sums of the value JEntries' lengths, 8
            // lanes in two 16-byte loads, no loop (a nested entry's outer object, 6 members: ~70
            // instructions in the loop below). Lanes past n_ read the first key bytes (at least
            // 4 * (8 - n_) of them, which the layout compare has read): their sums land in
            // start_[n_ + 1..8], never read.
            const __m128i len_mask = _mm_set1_epi32(int(JENTRY_OFFLENMASK));
            __m128i a = _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i *>(&c->children[n_])), len_mask);
            __m128i b = _mm_and_si128(_mm_loadu_si128(reinterpret_cast<const __m128i *>(&c->children[n_ + 4])), len_mask);
            a = _mm_add_epi32(a, _mm_slli_si128(a, 4));
            b = _mm_add_epi32(b, _mm_slli_si128(b, 4));
            a = _mm_add_epi32(a, _mm_slli_si128(a, 8));
            b = _mm_add_epi32(b, _mm_slli_si128(b, 8));
            const __m128i k = _mm_set1_epi32(int(off));
            b = _mm_add_epi32(b, _mm_shuffle_epi32(a, 0xFF));
            start_[0] = off;
            _mm_storeu_si128(reinterpret_cast<__m128i *>(&start_[1]), _mm_add_epi32(a, k));
            _mm_storeu_si128(reinterpret_cast<__m128i *>(&start_[5]), _mm_add_epi32(b, k));
            return;
        }
#endif
        if (n_ <= JB_OFFSET_STRIDE / 2) {
            // Values' JEntries all below index JB_OFFSET_STRIDE: each holds its length.
            for (uint32 j = 0; j < n_; j++) {
                start_[j] = off;
                off += c->children[n_ + j] & JENTRY_OFFLENMASK;
            }
        } else {
            for (uint32 j = 0; j < n_; j++) {
                start_[j] = off;
                JBE_ADVANCE_OFFSET(off, c->children[n_ + j]);
            }
        }
        start_[n_] = off;
    }
    __attribute__((always_inline)) uint32 type(int32 i) const { return c_->children[n_ + uint32(i)] & JENTRY_TYPEMASK; }
    // Numerics and containers start int-aligned (the JEntry length counts the padding).
    __attribute__((always_inline)) const char *aligned(int32 i) const { return base_ + INTALIGN(start_[i]); }
    __attribute__((always_inline)) std::string_view text(int32 i) const
    {
        return {base_ + start_[i], start_[i + 1] - start_[i]};
    }
    // Member i's value JEntry, and where its value starts (from base()) and ends.
    __attribute__((always_inline)) JEntry value_entry(int32 i) const { return c_->children[n_ + uint32(i)]; }
    __attribute__((always_inline)) const char *base() const { return base_; }
    __attribute__((always_inline)) uint32 start(int32 i) const { return start_[i]; }

private:
    const JsonbContainer *c_;
    uint32 n_;
    const char *base_;
    uint32 start_[33];
};

// What the breakdown's loop takes of an entry read on the fast path: EntryValues without the
// Decimal (the cost as decode_jsonb_cost gives it, added by DecimalSum::add_scaled); a cost the
// 64-bit form does not hold is decoded into cost_wide (cost_wide_used).
struct FastEntry {
    int64_t counts[core::kCountMetrics];
    int64_t cost_m = 0;
    int cost_scale = 0, cost_dscale = 0;
    bool cost_seen = false, cost_wide_used = false;
    core::Decimal cost_wide;
    std::string_view username, email, role;
    uint32_t days = 1;
    // read_entry_dense<false>'s nested entry: its outer object, valid while add runs (the
    // identity read from it, not into the three views).
    const FastObject *object = nullptr;
};

// The cost at p into either output (false: not a number decode_numeric reads: NaN, Infinity).
inline __attribute__((always_inline)) bool read_cost(const char *p, EntryValues &out)
{
    return decode_jsonb_decimal(p, out.cost);
}
inline __attribute__((always_inline)) bool read_cost(const char *p, FastEntry &out)
{
    if (decode_jsonb_cost(p, out.cost_m, out.cost_scale, out.cost_dscale)) {
        out.cost_wide_used = false;
        return true;
    }
    out.cost_wide_used = true;
    return decode_numeric(p, out.cost_wide);
}

// The cost read_cost gave into a key's sum: from its 64-bit form, or the wide one. Every fast
// loop's add, one spelling.
inline __attribute__((always_inline)) void add_fast_cost(core::DecimalSum &sum, const FastEntry &f)
{
    if (__builtin_expect(!f.cost_wide_used, 1))
        sum.add_scaled(f.cost_m, f.cost_scale, f.cost_dscale);
    else
        sum.add(f.cost_wide);
}

// A layout's direct reads (core::EntryPlan::direct), as core::read_direct reads them.
template <typename Out>
inline __attribute__((always_inline)) bool read_direct_fast(const ShapeCache::DirectReads &d, const FastObject &o, Out &out)
{
    if (!d.direct)
        return false;
    for (int m = 0; m < core::kCountMetrics; m++)
        out.counts[m] = 0;
    for (int32 r = 0; r < d.count_members; r++)
        if (o.type(d.member[r]) != JENTRY_ISNUMERIC ||
            decode_jsonb_count(o.aligned(d.member[r]), out.counts[d.metric[r]]) != core::CountFast::ok)
            return false;
    out.cost_seen = d.cost_member >= 0;
    return !out.cost_seen || (o.type(d.cost_member) == JENTRY_ISNUMERIC && read_cost(o.aligned(d.cost_member), out));
}

// One member of a dense layout at offset `off` (advanced past it): its type checked, its
// number decoded into out (kCost: the cost, else that count).
template <bool kIsCost, typename Out>
inline __attribute__((always_inline)) bool read_dense_member(JEntry e, const char *base, uint32 &off,
                                                             core::Metric metric, Out &out)
{
    if ((e & JENTRY_TYPEMASK) != JENTRY_ISNUMERIC)
        return false;
    const char *p = base + INTALIGN(off);  // numerics start int-aligned (the length counts the padding)
    off += e & JENTRY_OFFLENMASK;
    if (kIsCost)
        return read_cost(p, out);
    return decode_jsonb_count(p, out.counts[metric]) == core::CountFast::ok;
}

// read_direct_fast for a dense layout of N members (DirectReads::dense, N <= kMetricCount, so
// every value JEntry holds its length), the cost its first member when kCostFirst (a flat
// entry's "totalCost", a nested "metrics"' "spend": the shortest key): one unrolled pass over
// the members computing each value's offset, checking its type and decoding it, without a
// FastObject or a loop (Round 7 of issue 13).
template <int N, bool kCostFirst, typename Out>
inline __attribute__((always_inline)) bool read_dense_n(const JsonbContainer *c, const ShapeCache &shape, Out &out)
{
    const ShapeCache::DirectReads &d = shape.direct_reads();
    const JEntry *vje = &c->children[N];
    const char *base = reinterpret_cast<const char *>(&c->children[2 * N]);
    uint32 off = shape.keys_len();
    for (int m = 0; m < core::kCountMetrics; m++)
        out.counts[m] = 0;
    out.cost_seen = d.cost_member >= 0;
    if (kCostFirst && !read_dense_member<true>(vje[0], base, off, core::kCost, out))
        return false;
#pragma GCC unroll 8
    for (int j = kCostFirst ? 1 : 0; j < N; j++) {
        core::Metric metric = d.metric_at[j];
        if (!kCostFirst && metric == core::kCost ? !read_dense_member<true>(vje[j], base, off, metric, out)
                                                 : !read_dense_member<false>(vje[j], base, off, metric, out))
            return false;
    }
    return true;
}

// A dense layout's read: read_dense_n for the member counts the shapes have (5 and 7 metrics,
// LiteMaaS' "metrics"), a loop of the same steps for the others.
template <typename Out>
inline __attribute__((always_inline)) bool read_direct_dense(const JsonbContainer *c, const ShapeCache &shape, Out &out)
{
    const ShapeCache::DirectReads &d = shape.direct_reads();
    const uint32 n = shape.count();
    if (d.metric_at[0] == core::kCost) {
        switch (n) {
        case 5: return read_dense_n<5, true>(c, shape, out);
        case 6: return read_dense_n<6, true>(c, shape, out);
        case 7: return read_dense_n<7, true>(c, shape, out);
        default: break;
        }
    }
    const JEntry *vje = &c->children[n];
    const char *base = reinterpret_cast<const char *>(&c->children[2 * n]);
    uint32 off = shape.keys_len();
    for (int m = 0; m < core::kCountMetrics; m++)
        out.counts[m] = 0;
    for (uint32 j = 0; j < n; j++) {
        core::Metric metric = d.metric_at[j];
        if (metric == core::kCost ? !read_dense_member<true>(vje[j], base, off, metric, out)
                                  : !read_dense_member<false>(vje[j], base, off, metric, out))
            return false;
    }
    out.cost_seen = d.cost_member >= 0;
    return true;
}

// read_entry_fast for an entry c that shapes.matches().
template <typename Out>
inline __attribute__((always_inline)) bool read_entry_matched(const JsonbContainer *c, ShapeCache &shapes,
                                                              ShapeCache &metrics_shapes, bool rollup, bool want_identity,
                                                              Out &out)
{
    if (shapes.direct_reads().dense) {  // a flat entry: no identity, no "~days", no "metrics"
        if (rollup)
            return false;  // a rollup entry without "~days": the general path's error
        // A dense layout has no identity members: the breakdown's loop reads a FastEntry's
        // identity only for layouts with one (ShapeCache::has_identity), EntryValues' readers always.
        if constexpr (!std::is_same_v<Out, FastEntry>)
            out.username = out.email = out.role = {};
        out.days = 1;
        return read_direct_dense(c, shapes, out);
    }
    const core::EntryPlan &plan = shapes.remembered();
    FastObject o(c, shapes);
    out.username = out.email = out.role = {};
    if (want_identity) {
        auto text = [&](int32 i, std::string_view &dst) {
            if (i >= 0 && o.type(i) == JENTRY_ISSTRING)
                dst = o.text(i);
        };
        text(plan.username, out.username);
        text(plan.email, out.email);
        text(plan.role, out.role);
    }
    if (plan.metrics_object >= 0) {
        if (o.type(plan.metrics_object) != JENTRY_ISCONTAINER)
            return false;  // null (then the outer members count), or not an object: the general path
        auto inner = reinterpret_cast<const JsonbContainer *>(o.aligned(plan.metrics_object));
        if (!metrics_shapes.matches(inner))
            return false;
        if (metrics_shapes.direct_reads().dense ? !read_direct_dense(inner, metrics_shapes, out)
                                                : !read_direct_fast(metrics_shapes.direct_reads(), FastObject(inner, metrics_shapes), out))
            return false;
    } else if (!read_direct_fast(shapes.direct_reads(), o, out)) {
        return false;
    }
    out.days = 1;
    if (rollup) {
        int64_t mask;
        if (plan.days_mask < 0 || o.type(plan.days_mask) != JENTRY_ISNUMERIC ||
            decode_jsonb_count(o.aligned(plan.days_mask), mask) != core::CountFast::ok || mask <= 0 ||
            mask > INT32_MAX)
            return false;
        out.days = uint32_t(mask);
    }
    return true;
}

template <typename Out>
inline __attribute__((always_inline)) bool read_entry_fast(const JsonbContainer *c, ShapeCache &shapes, ShapeCache &metrics_shapes, bool rollup,
                     bool want_identity, Out &out)
{
    return shapes.matches(c) && read_entry_matched(c, shapes, metrics_shapes, rollup, want_identity, out);
}

// read_dense_n for a dense program (N members, the cost first): the cost into f, the N - 1
// counts into registers, then add(counts) once the whole object has been read, which returns
// whether it added the entry. False (nothing added; f's cost not to be trusted): a value that is
// not what the direct reads take, or add's false.
template <int N, typename Add>
inline __attribute__((always_inline)) bool read_dense_counts(const JsonbContainer *c, const ShapeCache &shape,
                                                             FastEntry &f, Add &&add)
{
    uint32 at[N];  // the values' starts, their types checked (round 13 of issue 13: no pass per member)
    if (!dense_offsets<N>(&c->children[N], shape.keys_len(), at))
        return false;
    const char *base = reinterpret_cast<const char *>(&c->children[2 * N]);
    if (!read_cost(base + at[0], f))
        return false;
    DenseCounts<N - 1> counts;
#pragma GCC unroll 8
    for (int j = 1; j < N; j++)
        if (decode_dense_count(base + at[j], counts.v[j - 1]) != core::CountFast::ok)
            return false;
    counts.metric = shape.count_metrics();
    f.cost_seen = true;
    return add(counts);
}

// The fast read's dense programs (round 12 of issue 13), for an entry c that shapes.matches():
// a flat entry whose layout is dense5 or dense7, or a nested one (its identity read as
// read_entry_fast reads it) whose "metrics" object's is: the cost into f, the counts added by
// add(const DenseCounts<K> &) (K = 4 or 6) straight from registers (false: add added nothing,
// e.g. a count's sum would pass bigint). False (nothing added): any other layout, a rollup row
// (its "~days"), a value the direct reads do not take, or add's false; the caller then reads c
// by read_entry_matched (and the general path), as before, which adds it or raises its error.
// kIdentityViews false (the user breakdown): a nested entry's identity is not read into f's
// views; f.object is its outer object while add runs (round 13 of issue 13).
template <bool kIdentityViews, typename Add>
inline __attribute__((always_inline)) bool read_nested_dense(const JsonbContainer *c, ShapeCache &shapes,
                                                             ShapeCache &metrics_shapes, bool want_identity,
                                                             FastEntry &f, Add &&add);

// kNested false: the nested program is not compiled in (the caller reads nested entries by
// read_nested_dense in a function of their own: the user breakdown, round 13 of issue 13).
template <bool kIdentityViews = true, bool kNested = true, typename Add>
inline __attribute__((always_inline)) bool read_entry_dense(const JsonbContainer *c, ShapeCache &shapes,
                                                            ShapeCache &metrics_shapes, bool rollup,
                                                            bool want_identity, FastEntry &f, Add &&add)
{
    if (rollup)
        return false;
    // Each program with its own cache (no pointer chosen at run time: the loop keeps the caches'
    // addresses as constants).
    switch (shapes.program()) {
    case ShapeCache::Program::dense5: return read_dense_counts<5>(c, shapes, f, add);
    case ShapeCache::Program::dense7: return read_dense_counts<7>(c, shapes, f, add);
    case ShapeCache::Program::nested:
        if constexpr (kNested)
            return read_nested_dense<kIdentityViews>(c, shapes, metrics_shapes, want_identity, f, add);
        return false;
    default: return false;
    }
}

// The backend's layout caches of breakdown entries (pg/entry_reader.cpp's; its general path
// plans into them), for a reader with a loop of its own over read_entry_fast: ducache_merge.
ShapeCache &entry_shape_cache();
ShapeCache &metrics_shape_cache();

}  // namespace ducache::pg::entry_fast

#include "pg/entry_nested.hpp"  // read_nested_dense (the nested program), used by read_entry_dense
