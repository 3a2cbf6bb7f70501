#include "core/jsonb_order.hpp"
#include "core/object_view.hpp"  // before the PostgreSQL headers (pg/numeric_decode.hpp needs it)
#include "pg/rollup_jsonb.hpp"

#include "pg/numeric_decode.hpp"

#include "pg/boundary.hpp"
#include "pg/context_resource.hpp"
#include "pg/jsonb_encoder.hpp"
#include "pg/jsonb_text.hpp"
#include "pg/settings.hpp"

#include <algorithm>
#include <cstring>
#include <memory_resource>
#include <vector>

namespace ducache::pg {

namespace {

// JSONB's key order: shorter first, then bytewise; equal keys by the order they came in.
bool pair_less(const JsonbPair &a, const JsonbPair &b)
{
    int la = a.key.val.string.len, lb = b.key.val.string.len;
    if (la != lb)
        return la < lb;
    int c = memcmp(a.key.val.string.val, b.key.val.string.val, la);
    return c != 0 ? c < 0 : a.order < b.order;
}

bool same_key(const JsonbPair &a, const JsonbPair &b)
{
    return a.key.val.string.len == b.key.val.string.len &&
           memcmp(a.key.val.string.val, b.key.val.string.val, a.key.val.string.len) == 0;
}

// The token stream of one document into a JsonbValue tree, as jsonb_in's pushJsonbValue builds
// it from the document's text. Open objects keep their members on one stack (pairs_), open
// arrays their elements on another (elems_), each from its frame's start; closing one copies
// them into its final array (an object's sorted into JSONB key order). Everything lives in
// `scratch` (reset or deleted by the caller once the document is encoded).
class JsonbTreeSink final : public core::JsonSink {
public:
    JsonbTreeSink(ContextResource &mr)
        : mr_(&mr), scratch_(mr.context()), pairs_(&mr), elems_(&mr), frames_(&mr)
    {
        root_.type = jbvNull;
    }

    void begin_object() override { frames_.push_back(Frame{uint32_t(pairs_.size()), false}); }

    void end_object() override
    {
        uint32_t start = frames_.back().start;
        frames_.pop_back();
        uint32_t n = uint32_t(pairs_.size() - start);
        auto *out = static_cast<JsonbPair *>(mr_->allocate((n ? n : 1) * sizeof(JsonbPair), alignof(JsonbPair)));
        bool sorted = true;
        for (uint32_t i = 0; i < n; i++) {
            out[i] = pairs_[start + i];
            out[i].order = i;
            if (i > 0 && sorted && !pair_less(out[i - 1], out[i]))
                sorted = false;
        }
        // Sorted and all keys distinct already (the common case for the small objects)?
        if (!sorted || has_equal_neighbours(out, n)) {
            std::sort(out, out + n, pair_less);
            n = keep_last_of_equal(out, n);
        }
        pairs_.resize(start);
        JsonbValue v;
        v.type = jbvObject;
        v.val.object.nPairs = int(n);
        v.val.object.pairs = out;
        put(v);
    }

    void begin_array() override { frames_.push_back(Frame{uint32_t(elems_.size()), true}); }

    void end_array() override
    {
        uint32_t start = frames_.back().start;
        frames_.pop_back();
        uint32_t n = uint32_t(elems_.size() - start);
        auto *out = static_cast<JsonbValue *>(mr_->allocate((n ? n : 1) * sizeof(JsonbValue), alignof(JsonbValue)));
        if (n)
            memcpy(out, elems_.data() + start, n * sizeof(JsonbValue));
        elems_.resize(start);
        JsonbValue v;
        v.type = jbvArray;
        v.val.array.nElems = int(n);
        v.val.array.elems = out;
        v.val.array.rawScalar = false;
        put(v);
    }

    void key(std::string_view k) override
    {
        JsonbPair p;
        set_string(p.key, k);
        p.value.type = jbvNull;
        p.order = 0;
        pairs_.push_back(p);
    }

    void string(std::string_view s) override
    {
        JsonbValue v;
        set_string(v, s);
        put(v);
    }

    void null() override
    {
        JsonbValue v;
        v.type = jbvNull;
        put(v);
    }

    void boolean(bool b) override
    {
        JsonbValue v;
        v.type = jbvBool;
        v.val.boolean = b;
        put(v);
    }

    void integer(int64_t n) override
    {
        // The bytes int64_to_numeric (and numeric_in of the number's text) make, laid out directly.
        core::NumericDigits d;
        core::integer_numeric_digits(n, d);
        put_numeric(d);
    }

    void decimal(std::string_view text) override
    {
        // numeric_in on the text, as jsonb_in does for a number token (a NUL-terminated copy).
        char *t = copy(text);
        JsonbValue v;
        v.type = jbvNumeric;
        MemoryContext scratch = scratch_;
        v.val.numeric = pg_call([&] {
            MemoryContext caller = MemoryContextSwitchTo(scratch);
            Numeric n = DatumGetNumeric(
                DirectFunctionCall3(numeric_in, CStringGetDatum(t), ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
            MemoryContextSwitchTo(caller);
            return n;
        });
        put(v);
    }

    void decimal_sum(const core::DecimalSum &sum) override
    {
        core::NumericDigits d;
        if (!sum.numeric_digits(d)) {  // the arbitrary-precision path: through its text
            decimal(sum.to_string());
            return;
        }
        // The bytes numeric_in makes of sum.to_string(), laid out directly (test/unit
        // decimal_test, sql/79_numeric_direct compare them with numeric_in's).
        put_numeric(d);
    }

    bool orders_members() const override { return true; }

    // byUser's ~10K members: put into JSONB's key order by the core's rule (one compare each
    // when the users come ordered), then laid out as one container (encode_sum_object) that
    // the encoder copies: no JsonbPair, no sort check, no JsonbValue per member.
    void sum_object(core::SumMember *members, size_t n) override
    {
        n = core::jsonb_member_order(members, n, [](const core::SumMember &m) { return m.key; });
        size_t bound = sum_object_bound(members, n);
        char *bytes = static_cast<char *>(mr_->allocate(bound, MAXIMUM_ALIGNOF));
        size_t len = encode_sum_object(members, n, bytes);
        if (len == 0) {  // a sum past 128 bits, or too long for a JEntry: member by member
            mr_->deallocate(bytes, bound, MAXIMUM_ALIGNOF);
            core::JsonSink::sum_object(members, n);
            return;
        }
        JsonbValue v;
        v.type = jbvBinary;
        v.val.binary.data = reinterpret_cast<JsonbContainer *>(bytes);
        v.val.binary.len = int(len);
        put(v);
        binary_bytes_ += len;
    }

    // The summaries (~700 a 90-day dashboard, 6-9 members each): ordered by the core's rule
    // (one compare a member: the writer hands them in JSONB's order), then laid out at once
    // as sum_object's (encode_flat_object): no JsonbPair, key copy or JsonbValue per member.
    void flat_object(core::FlatMember *members, size_t n) override
    {
        n = core::jsonb_member_order(members, n, [](const core::FlatMember &m) { return m.key; });
        size_t bound = flat_object_bound(members, n);
        char *bytes = bump(bound, MAXIMUM_ALIGNOF);
        size_t len = encode_flat_object(members, n, bytes);
        if (len == 0) {  // a sum past 128 bits, or too long for a JEntry: member by member
            core::JsonSink::flat_object(members, n);
            return;
        }
        bump_used_ -= bound - len;  // the rest of the bump block is free again
        JsonbValue v;
        v.type = jbvBinary;
        v.val.binary.data = reinterpret_cast<JsonbContainer *>(bytes);
        v.val.binary.len = int(len);
        put(v);
        binary_bytes_ += len;
    }

    // The bytes of the containers sum_object laid out (encode_tree's first buffer holds them).
    size_t binary_bytes() const { return binary_bytes_; }

    JsonbValue &root() { return root_; }

private:
    // A value: the next element of the open array, the member whose key came last, or the
    // document itself.
    void put(const JsonbValue &v)
    {
        if (frames_.empty())
            root_ = v;
        else if (frames_.back().array)
            elems_.push_back(v);
        else
            pairs_.back().value = v;
    }

    void put_numeric(const core::NumericDigits &d)
    {
        size_t len = numeric_encoded_size(d);
        char *bytes = bump(len, alignof(int32));
        encode_numeric(d, bytes, len);
        JsonbValue v;
        v.type = jbvNumeric;
        v.val.numeric = reinterpret_cast<Numeric>(bytes);
        put(v);
    }

    char *copy(std::string_view s)
    {
        char *p = bump(s.size() + 1, 1);
        memcpy(p, s.data(), s.size());
        p[s.size()] = '\0';
        return p;
    }

    // The keys' and strings' copies and the sums' numerics (~10K of each in a dashboard's byUser):
    // carved from blocks of the scratch context rather than one palloc each.
    char *bump(size_t n, size_t align)
    {
        size_t at = (bump_used_ + align - 1) & ~(align - 1);
        if (bump_ == nullptr || at + n > bump_size_) {
            bump_size_ = std::max<size_t>(kBumpBlock, n + align);
            bump_ = static_cast<char *>(mr_->allocate(bump_size_, MAXIMUM_ALIGNOF));
            at = 0;
        }
        bump_used_ = at + n;
        return bump_ + at;
    }

    void set_string(JsonbValue &v, std::string_view s)
    {
        v.type = jbvString;
        v.val.string.val = copy(s);
        v.val.string.len = int(s.size());
    }

    static bool has_equal_neighbours(const JsonbPair *p, uint32_t n)
    {
        for (uint32_t i = 1; i < n; i++)
            if (same_key(p[i - 1], p[i]))
                return true;
        return false;
    }

    // Sorted by (key, order): each run of one key keeps its last member (jsonb_in's rule).
    static uint32_t keep_last_of_equal(JsonbPair *p, uint32_t n)
    {
        uint32_t w = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (i + 1 < n && same_key(p[i], p[i + 1]))
                continue;
            p[w++] = p[i];
        }
        return w;
    }

    static constexpr size_t kBumpBlock = 32 * 1024;
    ContextResource *mr_;
    MemoryContext scratch_;
    char *bump_ = nullptr;
    size_t bump_used_ = 0, bump_size_ = 0, binary_bytes_ = 0;
    struct Frame {
        uint32_t start;  // the open container's first member in pairs_ or element in elems_
        bool array;
    };
    std::pmr::vector<JsonbPair> pairs_;
    std::pmr::vector<JsonbValue> elems_;
    std::pmr::vector<Frame> frames_;
    JsonbValue root_;
};

}  // namespace

RollupDatums rollup_jsonb_documents(core::RollupBuilder &b, MemoryContext into)
{
    RollupDatums out;
    out.days = b.end_days();
    MemoryContext scratch = pg_call([&] {
        return AllocSetContextCreateInternal(into, "ducache rollup jsonb", ALLOCSET_DEFAULT_SIZES);
    });
    for (int d = 0; d < core::kRollupDocuments; d++) {
        auto doc = core::RollupDocument(d);
        if (!b.has(doc)) {
            out.isnull[d] = true;
            continue;
        }
        {
            ContextResource mr(scratch);
            JsonbTreeSink sink(mr);
            b.write(doc, sink);
            out.doc[d] = encode_tree(&sink.root(), into);
        }
        pg_call([&] { MemoryContextReset(scratch); });
    }
    delete_context(scratch);
    return out;
}

Datum jsonb_document(MemoryContext into, const std::function<void(core::JsonSink &)> &write)
{
    if (test_json_text_setting()) {  // test builds: the path before, for the byte comparisons
        core::JsonTextSink text;
        write(text);
        return jsonb_from_text(text.take(), into);
    }
    MemoryContext scratch = pg_call([&] {
        return AllocSetContextCreateInternal(into, "ducache derived jsonb", ALLOCSET_DEFAULT_SIZES);
    });
    Datum out;
    try {
        ContextResource mr(scratch);
        JsonbTreeSink sink(mr);
        write(sink);
        out = encode_tree(&sink.root(), into, sink.binary_bytes());
    } catch (...) {
        delete_context(scratch);
        throw;
    }
    delete_context(scratch);
    return out;
}

}  // namespace ducache::pg
