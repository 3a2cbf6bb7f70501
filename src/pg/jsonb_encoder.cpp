// The JsonbValue trees of pg/rollup_jsonb.cpp's sink (documents: the refresh's rollups, the
// derived columns, the dashboard, the filter options) as jsonb bytes (see encode_tree below).
#include "core/json_sink.hpp"
#include "core/object_view.hpp"  // before the PostgreSQL headers (pg/numeric_decode.hpp needs it)
#include "pg/jsonb_encoder.hpp"

#include "pg/boundary.hpp"
#include "pg/context_resource.hpp"
#include "pg/numeric_decode.hpp"

#include <cstring>

namespace ducache::pg {

namespace {

// A JsonbValue tree (an object or an array, as the sink builds it) as the jsonb datum
// JsonbValueToJsonb makes of it, byte for byte (PostgreSQL 15's convertToJsonb: the same
// layout, padding and JEntry offsets), into one buffer that grows by doubling instead of a
// StringInfo append per piece. The datum is allocated in `into`. Returns nullptr when the tree
// holds a value this encoder does not write (a datetime or binary value, never built by the
// sink) or a container is too long for a JEntry: the caller then calls JsonbValueToJsonb,
// which writes or refuses it as ever.
class JsonbEncoder {
public:
    explicit JsonbEncoder(MemoryContext into) : into_(into) {}

    Jsonb *encode(const JsonbValue &root, size_t binary_bytes)
    {
        if (root.type != jbvObject && root.type != jbvArray)
            return nullptr;
        grow(64 * 1024 + binary_bytes);
        len_ = VARHDRSZ;
        value(root);
        if (failed_) {
            into_.deallocate(buf_, cap_, MAXIMUM_ALIGNOF);
            return nullptr;
        }
        Jsonb *out = reinterpret_cast<Jsonb *>(buf_);
        SET_VARSIZE(out, len_);
        return out;
    }

private:
    void grow(size_t need)
    {
        size_t cap = cap_ ? cap_ : 1;
        while (cap < need)
            cap *= 2;
        char *next = static_cast<char *>(into_.allocate(cap, MAXIMUM_ALIGNOF));
        if (buf_ != nullptr) {
            memcpy(next, buf_, len_);
            into_.deallocate(buf_, cap_, MAXIMUM_ALIGNOF);
        }
        buf_ = next;
        cap_ = cap;
    }

    // Room for n more bytes at len_ (uninitialized).
    size_t reserve(size_t n)
    {
        if (len_ + n > cap_)
            grow(len_ + n);
        size_t at = len_;
        len_ += n;
        return at;
    }

    void append(const void *p, size_t n)
    {
        size_t at = reserve(n);  // before reading buf_: reserve may move it
        memcpy(buf_ + at, p, n);
    }

    // padBufferToInt: zeros up to a 4-byte boundary of the datum; returns their number.
    uint32 pad()
    {
        size_t n = INTALIGN(len_) - len_;
        if (n) {
            size_t at = reserve(n);
            memset(buf_ + at, 0, n);
        }
        return uint32(n);
    }

    void put_entry(size_t at, JEntry e) { memcpy(buf_ + at, &e, sizeof(JEntry)); }

    // One entry's running total: a stride's first entry keeps the offset, the others the length.
    bool add_entry(size_t at, JEntry meta, uint32 &totallen, uint32 index)
    {
        totallen += JBE_OFFLENFLD(meta);
        if (totallen > JENTRY_OFFLENMASK) {
            failed_ = true;
            return false;
        }
        if (index % JB_OFFSET_STRIDE == 0)
            meta = (meta & JENTRY_TYPEMASK) | totallen | JENTRY_HAS_OFF;
        put_entry(at, meta);
        return true;
    }

    JEntry value(const JsonbValue &v)
    {
        switch (v.type) {
        case jbvNull:
            return JENTRY_ISNULL;
        case jbvString:
            append(v.val.string.val, size_t(v.val.string.len));
            return JEntry(v.val.string.len);
        case jbvNumeric: {
            size_t numlen = VARSIZE_ANY(v.val.numeric);
            uint32 padlen = pad();
            append(v.val.numeric, numlen);
            return JENTRY_ISNUMERIC | JEntry(padlen + numlen);
        }
        case jbvBool:
            return v.val.boolean ? JENTRY_ISBOOL_TRUE : JENTRY_ISBOOL_FALSE;
        case jbvBinary: {  // a container laid out already (encode_sum_object): copied after its padding
            const size_t base = len_;
            pad();
            append(v.val.binary.data, size_t(v.val.binary.len));
            binary_ = true;
            return finish_container(base);
        }
        case jbvArray:
            return array(v);
        case jbvObject:
            return object(v);
        default:
            failed_ = true;
            return JENTRY_ISNULL;
        }
    }

    JEntry array(const JsonbValue &v)
    {
        const size_t base = len_;
        pad();
        const uint32 n = uint32(v.val.array.nElems);
        uint32 header = n | JB_FARRAY;
        if (v.val.array.rawScalar)
            header |= JB_FSCALAR;
        append(&header, sizeof header);
        const size_t entries = reserve(sizeof(JEntry) * n);
        uint32 totallen = 0;
        for (uint32 i = 0; i < n && !failed_; i++) {
            JEntry meta = value(v.val.array.elems[i]);
            add_entry(entries + sizeof(JEntry) * i, meta, totallen, i);
        }
        return finish_container(base);
    }

    JEntry object(const JsonbValue &v)
    {
        const size_t base = len_;
        pad();
        const uint32 n = uint32(v.val.object.nPairs);
        uint32 header = n | JB_FOBJECT;
        append(&header, sizeof header);
        const size_t entries = reserve(sizeof(JEntry) * n * 2);
        uint32 totallen = 0;
        const JsonbPair *pairs = v.val.object.pairs;
        for (uint32 i = 0; i < n && !failed_; i++) {
            const JsonbValue &k = pairs[i].key;  // always a string
            append(k.val.string.val, size_t(k.val.string.len));
            add_entry(entries + sizeof(JEntry) * i, JEntry(k.val.string.len), totallen, i);
        }
        for (uint32 i = 0; i < n && !failed_; i++) {
            JEntry meta = value(pairs[i].value);
            add_entry(entries + sizeof(JEntry) * (n + i), meta, totallen, i + n);
        }
        return finish_container(base);
    }

    JEntry finish_container(size_t base)
    {
        size_t totallen = len_ - base;
        if (totallen > JENTRY_OFFLENMASK)
            failed_ = true;
        return JENTRY_ISCONTAINER | JEntry(totallen & JENTRY_OFFLENMASK);
    }

public:
    // The tree held a jbvBinary value (which JsonbValueToJsonb does not write).
    bool had_binary() const { return binary_; }

private:
    ContextResource into_;
    char *buf_ = nullptr;
    size_t len_ = 0, cap_ = 0;
    bool failed_ = false, binary_ = false;
};

}  // namespace

namespace {

// The layout encode_sum_object and encode_flat_object share: an object of n members in JSONB's
// key order with distinct keys, laid out at `out` (4-byte aligned, as the container will be) as
// JsonbEncoder::object lays it out: the header, the keys' then the values' JEntries (a stride's
// first entry keeps the offset, the others the length, as JsonbEncoder::add_entry), the keys,
// then each value as the caller hands it in, member by member.
class ObjectLayout {
public:
    ObjectLayout(char *out, size_t n) : out_(out), n_(n), len_(sizeof(uint32) + 2 * n * sizeof(JEntry))
    {
        const uint32 header = uint32(n) | JB_FOBJECT;
        memcpy(out, &header, sizeof header);
    }
    // The keys; false when one is too long for a JEntry.
    template <class Member>
    bool keys(const Member *members)
    {
        for (size_t i = 0; i < n_; i++) {
            std::string_view k = members[i].key;
            if (k.size() > JENTRY_OFFLENMASK)
                return false;
            memcpy(out_ + len_, k.data(), k.size());
            len_ += k.size();
            entry(i, JEntry(k.size()));
        }
        return true;
    }
    // Member i's value (in order): a string (false when too long), a null, a numeric after its padding.
    bool string(size_t i, std::string_view s)
    {
        if (s.size() > JENTRY_OFFLENMASK)
            return false;
        if (!s.empty())
            memcpy(out_ + len_, s.data(), s.size());
        len_ += s.size();
        entry(n_ + i, JENTRY_ISSTRING | JEntry(s.size()));
        return true;
    }
    void null(size_t i) { entry(n_ + i, JENTRY_ISNULL); }
    __attribute__((always_inline)) void numeric(size_t i, const core::NumericDigits &d)
    {
        const size_t padded = INTALIGN(len_);
        memset(out_ + len_, 0, padded - len_);
        const size_t numlen = numeric_encoded_size(d);
        encode_numeric(d, out_ + padded, numlen);
        entry(n_ + i, JENTRY_ISNUMERIC | JEntry(padded - len_ + numlen));
        len_ = padded + numlen;
    }
    // The length, or 0 past a JEntry's length (with the container's own padding before it).
    size_t finish() const
    {
        return totallen_ > JENTRY_OFFLENMASK || len_ + 3 > JENTRY_OFFLENMASK ? 0 : len_;
    }

private:
    __attribute__((always_inline)) void entry(size_t index, JEntry meta)
    {
        totallen_ += JBE_OFFLENFLD(meta);
        if (index % JB_OFFSET_STRIDE == 0)
            meta = (meta & JENTRY_TYPEMASK) | JEntry(totallen_ & JENTRY_OFFLENMASK) | JENTRY_HAS_OFF;
        memcpy(out_ + sizeof(uint32) + index * sizeof(JEntry), &meta, sizeof meta);
    }

    char *out_;
    size_t n_, len_;
    uint64 totallen_ = 0;
};

// The most one value takes: its padding, and a numeric's long header and every digit
// NumericDigits can hold.
constexpr size_t kValueBound = 3 + VARHDRSZ + 2 * sizeof(int16) + sizeof(core::NumericDigits::digits);

}  // namespace

size_t sum_object_bound(const core::SumMember *members, size_t n)
{
    size_t keys = 0;
    for (size_t i = 0; i < n; i++)
        keys += members[i].key.size();
    return sizeof(uint32) + n * 2 * sizeof(JEntry) + keys + n * kValueBound;
}

size_t encode_sum_object(const core::SumMember *members, size_t n, char *out)
{
    if (n > JB_CMASK)
        return 0;
    ObjectLayout layout(out, n);
    if (!layout.keys(members))
        return 0;
    for (size_t i = 0; i < n; i++) {
        core::NumericDigits d;
        if (!members[i].sum->numeric_digits(d))
            return 0;
        layout.numeric(i, d);
    }
    return layout.finish();
}

size_t flat_object_bound(const core::FlatMember *members, size_t n)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += members[i].key.size() + members[i].text.size();
    return sizeof(uint32) + n * 2 * sizeof(JEntry) + bytes + n * kValueBound;
}

size_t encode_flat_object(const core::FlatMember *members, size_t n, char *out)
{
    if (n > JB_CMASK)
        return 0;
    ObjectLayout layout(out, n);
    if (!layout.keys(members))
        return 0;
    for (size_t i = 0; i < n; i++) {
        const core::FlatMember &m = members[i];
        core::NumericDigits d;
        switch (m.kind) {
        case core::FlatMember::kString:
            if (!layout.string(i, m.text))
                return 0;
            continue;
        case core::FlatMember::kNull:
            layout.null(i);
            continue;
        case core::FlatMember::kInteger:
            core::integer_numeric_digits(m.integer, d);
            break;
        default:
            if (!m.sum->numeric_digits(d))
                return 0;
            break;
        }
        layout.numeric(i, d);
    }
    return layout.finish();
}

Datum encode_tree(JsonbValue *root, MemoryContext into, size_t binary_bytes)
{
    JsonbEncoder enc(into);
    if (Jsonb *j = enc.encode(*root, binary_bytes))
        return JsonbPGetDatum(j);
    if (enc.had_binary()) {
        // Declined for a container past a JEntry's length: JsonbValueToJsonb's error for it
        // (it does not write a jbvBinary value itself).
        pg_call([] {
            ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                            errmsg("total size of jsonb object elements exceeds the maximum of %d bytes",
                                   JENTRY_OFFLENMASK)));
        });
    }
    return pg_call([&] {
        MemoryContext caller = MemoryContextSwitchTo(into);
        Datum encoded = JsonbPGetDatum(JsonbValueToJsonb(root));
        MemoryContextSwitchTo(caller);
        return encoded;
    });
}

}  // namespace ducache::pg
