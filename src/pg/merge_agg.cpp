// ducache_merge(jsonb): an aggregate that sums breakdown objects key by key. Its state is a C++
// object living in the aggregate's memory context, destroyed by that context's reset callback;
// serialize/deserialize carry it between parallel workers; the whole wire format, row count
// included, is core/merge_state's.
#include "core/aggregator.hpp"
#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/merge_days.hpp"
#include "core/merge_state.hpp"

#include "pg/boundary.hpp"
#include "pg/toast_read.hpp"
#include "pg/context_resource.hpp"
#include "pg/entry_reader.hpp"
#include "pg/merge_input.hpp"
#include "pg/numeric_decode.hpp"
#include "pg/settings.hpp"
#include "pg/srf_output.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <new>
#include <string>

namespace {

using namespace ducache;
using namespace ducache::pg;

struct MergeState {
    explicit MergeState(MemoryContext cxt) : memory(cxt), agg(&memory) {}
    ContextResource memory;
    core::KeyAggregator agg;
    int32 rows = 0;  // input rows seen, to name a row in messages
};


// JSONB's key order (lengthCompareJsonbPair): shorter first, then bytewise.
inline bool jsonb_key_less(const char *a, uint32 la, const char *b, uint32 lb)
{
    return la != lb ? la < lb : memcmp(a, b, la) < 0;
}

// An output entry's members: the counts by their metric names, "cost", "days" (in
// out_members(): in JSONB's key order).
constexpr int kOutCost = core::kCountMetrics, kOutDays = core::kCountMetrics + 1, kOutMembers = core::kCountMetrics + 2;
struct OutMember {
    const char *name;
    int len;
    int what;  // a count metric, kOutCost or kOutDays
};
using OutMembers = std::array<OutMember, kOutMembers>;

const OutMembers &out_members()
{
    static const OutMembers members = [] {
        OutMembers m{};
        for (int i = 0; i < kOutMembers; i++) {
            const char *name = i < core::kCountMetrics ? core::metric_name(core::Metric(i)) : i == kOutCost ? "cost" : "days";
            m[i] = OutMember{name, int(strlen(name)), i};
        }
        std::sort(m.begin(), m.end(), [](const OutMember &a, const OutMember &b) {
            return jsonb_key_less(a.name, uint32(a.len), b.name, uint32(b.len));
        });
        return m;
    }();
    return members;
}

// The bytes of the jsonb {key: {member: numeric, ...}} (keys in `order`, members in `members`
// order, both in JSONB's key order; nums[i * kOutMembers + j]: entry i's member j), as
// JsonbValueToJsonb lays out that tree in PostgreSQL 15 (convertJsonbObject, convertJsonbScalar):
// a container is its header (JB_FOBJECT | pairs), the keys' JEntries then the values' (the
// JB_OFFSET_STRIDE-th ones hold the end offset of their element with JENTRY_HAS_OFF, the others
// its length), the key bytes, then the values; numerics and containers start int-aligned, their
// padding (zeros) counted in their length. Writes at out when kWrite (a varlena: its header left
// to the caller) and returns the length, header included.
template <bool kWrite>
size_t merge_result_layout(char *out, const core::Slot *const *order, size_t n, const Numeric *nums,
                           const OutMembers &members)
{
    size_t pos = VARHDRSZ;
    auto put_u32 = [&](size_t at, uint32 v) {
        if (kWrite)
            memcpy(out + at, &v, sizeof v);
    };
    auto pad = [&] {  // before a value (4 bytes or more: its bytes overwrite the rest of the zeros)
        if (kWrite)
            memset(out + pos, 0, sizeof(uint32));
        pos = INTALIGN(pos);
    };
    auto entry = [](uint32 type, uint32 index, uint32 len, uint32 end) {
        return index % JB_OFFSET_STRIDE == 0 ? type | end | JENTRY_HAS_OFF : type | len;
    };
    const size_t root = pos;
    put_u32(root, JB_FOBJECT | uint32(n));
    pos += sizeof(uint32) * (1 + 2 * n);
    const size_t data = pos;
    for (size_t i = 0; i < n; i++) {
        uint32 len = order[i]->key_len;
        if (kWrite)
            memcpy(out + pos, order[i]->key, len);
        pos += len;
        put_u32(root + sizeof(uint32) * (1 + i), entry(JENTRY_ISSTRING, uint32(i), len, uint32(pos - data)));
    }
    constexpr uint32 m = kOutMembers;
    for (size_t i = 0; i < n; i++) {
        const size_t start = pos;
        pad();
        const size_t inner = pos;
        put_u32(inner, JB_FOBJECT | m);
        pos += sizeof(uint32) * (1 + 2 * m);
        const size_t inner_data = pos;
        for (uint32 j = 0; j < m; j++) {
            uint32 len = uint32(members[j].len);
            if (kWrite)
                memcpy(out + pos, members[j].name, len);
            pos += len;
            put_u32(inner + sizeof(uint32) * (1 + j), entry(JENTRY_ISSTRING, j, len, uint32(pos - inner_data)));
        }
        for (uint32 j = 0; j < m; j++) {
            const size_t value = pos;
            pad();
            const Numeric num = nums[i * m + j];
            size_t len = VARSIZE_ANY(num);
            if (kWrite)
                memcpy(out + pos, num, len);
            pos += len;
            put_u32(inner + sizeof(uint32) * (1 + m + j),
                    entry(JENTRY_ISNUMERIC, m + j, uint32(pos - value), uint32(pos - inner_data)));
        }
        put_u32(root + sizeof(uint32) * (1 + n + i),
                entry(JENTRY_ISCONTAINER, uint32(n + i), uint32(pos - start), uint32(pos - data)));
    }
    return pos;
}

MemoryContext aggregate_context(FunctionCallInfo fcinfo, const char *fn)
{
    MemoryContext cxt = nullptr;
    if (!AggCheckCallContext(fcinfo, &cxt))
        pg_call([&] {
            ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                            errmsg("%s called in non-aggregate context", fn)));
        });
    return cxt;
}

MergeState *new_state(MemoryContext cxt)
{
    void *mem = palloc_or_throw(cxt, sizeof(MergeState), "ducache_merge's state");
    auto *state = new (mem) MergeState(cxt);
    // The destructor runs when the aggregate's context is reset or deleted.
    auto *cb = static_cast<MemoryContextCallback *>(palloc_or_throw(cxt, sizeof(MemoryContextCallback), "ducache_merge's state"));
    cb->func = [](void *arg) { static_cast<MergeState *>(arg)->~MergeState(); };
    cb->arg = state;
    pg_call([&] { MemoryContextRegisterResetCallback(cxt, cb); });
    return state;
}

MergeState *state_arg(FunctionCallInfo fcinfo, int n)
{
    return PG_ARGISNULL(n) ? nullptr : reinterpret_cast<MergeState *>(PG_GETARG_POINTER(n));
}

}  // namespace

DUCACHE_FUNCTION(ducache_merge_trans)
{
    MemoryContext cxt = aggregate_context(fcinfo, "ducache_merge_trans");
    MergeState *state = state_arg(fcinfo, 0);
    if (PG_ARGISNULL(1))  // a NULL row adds nothing (like sum)
        PG_RETURN_POINTER(state);
    const Jsonb *obj = pg_call([&] { return (const Jsonb *)detoast_jsonb(PG_GETARG_DATUM(1)); });  // pg/toast_read.hpp
    if (!state)
        state = new_state(cxt);
    // ducache_merge(jsonb, date) passes the row's date, so an error names it; the one-argument
    // form only knows the row's position in its input.
    bool dated = PG_NARGS() > 2 && !PG_ARGISNULL(2);
    std::string where = dated ? std::string() : "input row " + std::to_string(state->rows + 1);
    InputRow day{dated ? PG_GETARG_DATEADT(2) : 0, state->rows++, "ducache_merge input",
                   dated ? nullptr : where.c_str()};
    accumulate_merge_input(state->agg, obj, day);
    PG_RETURN_POINTER(state);
}

DUCACHE_FUNCTION(ducache_merge_combine)
{
    MemoryContext cxt = aggregate_context(fcinfo, "ducache_merge_combine");
    MergeState *a = state_arg(fcinfo, 0), *b = state_arg(fcinfo, 1);
    if (!b)
        PG_RETURN_POINTER(a);
    if (!a) {
        a = new_state(cxt);
    }
    core::combine_merge_states(a->agg, b->agg);
    a->rows += b->rows;
    PG_RETURN_POINTER(a);
}

DUCACHE_FUNCTION(ducache_merge_serialize)
{
    aggregate_context(fcinfo, "ducache_merge_serialize");
    MergeState *state = state_arg(fcinfo, 0);
    core::MergeStateHeader header;
    header.rows = state->rows;
    std::string bytes = core::serialize_merge_state(state->agg, header);
    const char *data = bytes.data();
    size_t len = bytes.size();
    auto *out = static_cast<bytea *>(palloc_or_throw(CurrentMemoryContext, VARHDRSZ + len, "ducache_merge's serialized state (bytea)"));
    SET_VARSIZE(out, VARHDRSZ + len);
    memcpy(VARDATA(out), data, len);
    PG_RETURN_BYTEA_P(out);
}

DUCACHE_FUNCTION(ducache_merge_deserialize)
{
    MemoryContext cxt = aggregate_context(fcinfo, "ducache_merge_deserialize");
    bytea *in = pg_call([&] { return PG_GETARG_BYTEA_PP(0); });
    const char *data = VARDATA_ANY(in);
    size_t len = VARSIZE_ANY_EXHDR(in);
    MergeState *state = new_state(cxt);
    state->rows = core::deserialize_merge_state(data, len, state->agg).rows;
    PG_RETURN_POINTER(state);
}

DUCACHE_FUNCTION(ducache_merge_final)
{
    aggregate_context(fcinfo, "ducache_merge_final");
    MergeState *state = state_arg(fcinfo, 0);
    if (!state)
        PG_RETURN_NULL();
    // {key: {metric: value, ..., "cost": c, "days": n}}: the keys sorted into JSONB's key order,
    // each member's numeric made, then the bytes laid out here (merge_result_layout). Before:
    // pushJsonbValue, which copied every value into its parse state and sorted the 10,000-key
    // object as it closed (qsort and its compares ~70 % of the final, ~15,000 instructions a key),
    // then JsonbValueToJsonb (~2,700 a key).
    const std::pmr::vector<core::Slot> &slots = state->agg.slots();
    const size_t n = slots.size();
    auto **order = static_cast<const core::Slot **>(palloc_or_throw(CurrentMemoryContext, (n + 1) * sizeof(core::Slot *), "the key order of ducache_merge's result"));
    for (size_t i = 0; i < n; i++)
        order[i] = &slots[i];
    std::sort(order, order + n, [](const core::Slot *a, const core::Slot *b) {
        return jsonb_key_less(a->key, a->key_len, b->key, b->key_len);
    });
    // Each entry's members' numerics in out_members() order: the cost's from its digits
    // (numeric_sum_datum, bytes equal to numeric_in's of the sum's text), the counts' and days'
    // from theirs (core::integer_numeric_digits: int64_to_numeric's bytes) into one block of
    // kWholeMax bytes a value. Round 19 of issue 13: int64_to_numeric (numeric arithmetic and a
    // palloc a value) was ~1,640 instructions a key of the result, ~2 ns an entry read of a
    // sparse year's merge.
    const OutMembers &members = out_members();
    auto *nums = static_cast<Numeric *>(palloc_or_throw(CurrentMemoryContext, (n + 1) * kOutMembers * sizeof(Numeric), "the member values of ducache_merge's result"));
    constexpr size_t kWholeMax = VARHDRSZ + sizeof(uint16) + 5 * sizeof(int16);  // |int64| < 10^20: 5 groups
    char *whole = static_cast<char *>(palloc_or_throw(CurrentMemoryContext, (n + 1) * kOutMembers * kWholeMax, "the whole-number members of ducache_merge's result"));
    for (size_t i = 0; i < n; i++) {
        if (((i + 1) & 1023) == 0)
            check_for_interrupts();
        const core::Totals &t = order[i]->totals;
        for (int j = 0; j < kOutMembers; j++) {
            const int what = members[j].what;
            Numeric &num = nums[i * kOutMembers + j];
            if (what == kOutCost) {
                num = DatumGetNumeric(numeric_sum_datum(t.cost));
                continue;
            }
            core::NumericDigits d;
            core::integer_numeric_digits(what < core::kCountMetrics ? t.counts[what] : int64_t(t.active_days), d);
            char *at = whole + (i * kOutMembers + j) * kWholeMax;
            encode_numeric(d, at, numeric_encoded_size(d));
            num = reinterpret_cast<Numeric>(at);
        }
    }
    size_t len = merge_result_layout<false>(nullptr, order, n, nums, members);
    // convertJsonbObject's limit (an object's JEntry offsets have 28 bits), and its message.
    const int test_limit = test_jsonb_limit_setting();
    const size_t limit = test_limit > 0 ? std::min(size_t(test_limit), size_t(JENTRY_OFFLENMASK)) : JENTRY_OFFLENMASK;
    if (len - VARHDRSZ > limit)
        throw core::Error("54000", "total size of jsonb object elements exceeds the maximum of " +
                                       std::to_string(limit) + " bytes",
                          "ducache_merge's result has " + std::to_string(n) + " keys and would take " +
                              std::to_string(len - VARHDRSZ) + " bytes.",
                          "Merge a shorter range of dates or fewer keys.");
    char *out = static_cast<char *>(palloc_or_throw(CurrentMemoryContext, len, "ducache_merge's result (jsonb)"));
    merge_result_layout<true>(out, order, n, nums, members);
    SET_VARSIZE(out, len);
    PG_RETURN_JSONB_P(reinterpret_cast<Jsonb *>(out));
}
