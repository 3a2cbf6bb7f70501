#include "core/user_pack.hpp"
#include "core/user_pack_detail.hpp"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ducache::core {

namespace user_pack_detail {  // not anonymous: the core is compiled as a unity build

void put_varint(std::pmr::string &out, size_t v)
{
    while (v >= 0x80) {
        out.push_back(char(uint8_t(v) | 0x80));
        v >>= 7;
    }
    out.push_back(char(uint8_t(v)));
}

// A varint at p (before end) into v; false when it runs past end or past 32 bits.
bool get_varint(const char *&p, const char *end, size_t &v)
{
    if (p != end && !(uint8_t(*p) & 0x80)) {  // one byte: every length below 128
        v = uint8_t(*p++);
        return true;
    }
    v = 0;
    for (int shift = 0; shift <= 28; shift += 7) {
        if (p == end)
            return false;
        uint8_t b = uint8_t(*p++);
        v |= size_t(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v <= UINT32_MAX;
    }
    return false;
}

// Unchecked: the bytes were checked by parse().
size_t varint(const char *&p)
{
    if (!(uint8_t(*p) & 0x80))
        return uint8_t(*p++);
    size_t v = 0;
    for (int shift = 0;; shift += 7) {
        uint8_t b = uint8_t(*p++);
        v |= size_t(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
}

void put_le(std::pmr::string &out, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        out.push_back(char(uint8_t(v >> (8 * i))));
}

int width_of(int64_t lo, int64_t hi)
{
    if (lo == 0 && hi == 0)
        return 0;
    if (lo >= INT8_MIN && hi <= INT8_MAX)
        return 1;
    if (lo >= INT16_MIN && hi <= INT16_MAX)
        return 2;
    if (lo >= INT32_MIN && hi <= INT32_MAX)
        return 4;
    return 8;
}

}  // namespace user_pack_detail

using namespace user_pack_detail;

UserPackWriter::UserPackWriter(std::pmr::memory_resource *mr)
    : mr_(mr), names_(mr), idents_(mr), counts_(mr), costs_(mr), keycosts_(mr), keymags_(mr)
{
}

bool UserPackWriter::take(const Decimal *d, Scaled &out)
{
    if (d == nullptr)
        return true;  // not seen
    if (d->big || d->scale < 0 || d->scale > kMaxFastScale || d->dscale < 0 || d->dscale >= kPackNoCost)
        return false;
    out.mantissa = d->mantissa;
    out.scale = d->scale;
    out.dscale = d->dscale;
    out.seen = true;
    return true;
}

void UserPackWriter::add(std::string_view user, const EntryValues &v, const Decimal *keycost, int64_t keymag,
                         const PackIdentity &identity)
{
    users_++;
    put_varint(names_, user.size());
    names_.append(user.data(), user.size());
    if (identity.empty()) {
        put_varint(idents_, 0);
    } else {
        std::pmr::string rec(mr_);
        put_varint(rec, identity.username.size());
        rec.append(identity.username.data(), identity.username.size());
        put_varint(rec, identity.email.size());
        rec.append(identity.email.data(), identity.email.size());
        rec.append(identity.role.data(), identity.role.size());
        put_varint(idents_, rec.size());
        idents_.append(rec);
    }
    counts_.insert(counts_.end(), v.counts, v.counts + kCountMetrics);
    Scaled c, k;
    fits_ &= take(v.cost_seen ? &v.cost : nullptr, c);
    costs_.push_back(c);
    if (keycost == nullptr)
        bounds_ = false;
    else
        fits_ &= take(keycost, k);
    keycosts_.push_back(k);
    keymags_.push_back(keymag < 0 ? -1 : keymag);
}

bool UserPackWriter::finish(std::string &out)
{
    out.clear();
    if (!fits_ || users_ > UINT32_MAX / 16 || names_.size() > UINT32_MAX || idents_.size() > UINT32_MAX)
        return false;
    const size_t n = users_;
    // The scaled costs: every cost of the row as an integer at the row's largest scale.
    auto scale_of = [&](const std::pmr::vector<Scaled> &v) {
        int s = 0;
        for (const Scaled &x : v)
            if (x.seen && x.scale > s)
                s = x.scale;
        return s;
    };
    std::pmr::vector<int64_t> arrays[kUserPackArrays] = {
        std::pmr::vector<int64_t>(mr_), std::pmr::vector<int64_t>(mr_), std::pmr::vector<int64_t>(mr_),
        std::pmr::vector<int64_t>(mr_), std::pmr::vector<int64_t>(mr_), std::pmr::vector<int64_t>(mr_),
        std::pmr::vector<int64_t>(mr_), std::pmr::vector<int64_t>(mr_), std::pmr::vector<int64_t>(mr_)};
    for (int m = 0; m < kCountMetrics; m++) {
        arrays[m].resize(n);
        for (size_t i = 0; i < n; i++)
            arrays[m][i] = counts_[i * kCountMetrics + m];
    }
    auto scaled = [&](const std::pmr::vector<Scaled> &from, int scale, std::pmr::vector<int64_t> &to) {
        to.resize(n);
        for (size_t i = 0; i < n; i++) {
            const Scaled &x = from[i];
            if (!x.seen) {
                to[i] = 0;
                continue;
            }
            __int128 m = x.mantissa;
            for (int up = x.scale; up < scale; up++) {
                if (m > INT64_MAX || m < INT64_MIN)
                    return false;
                m *= 10;
            }
            if (m > INT64_MAX || m < INT64_MIN)
                return false;
            to[i] = int64_t(m);
        }
        return true;
    };
    const int cost_scale = scale_of(costs_);
    const int keycost_scale = bounds_ ? scale_of(keycosts_) : 0;
    if (!scaled(costs_, cost_scale, arrays[kPackCost]))
        return false;
    arrays[kPackKeyCost].assign(n, 0);
    arrays[kPackKeyMag].assign(n, 0);
    if (bounds_) {
        if (!scaled(keycosts_, keycost_scale, arrays[kPackKeyCost]))
            return false;
        arrays[kPackKeyMag].assign(keymags_.begin(), keymags_.end());
    }

    std::pmr::string p(mr_);
    p.append("DUP", 3);
    p.push_back(char(kUserPackVersion));
    p.push_back(char(bounds_ ? 1 : 0));
    p.push_back(char(cost_scale));
    p.push_back(char(keycost_scale));
    p.push_back(0);
    put_le(p, n, 4);
    put_le(p, names_.size(), 4);
    put_le(p, idents_.size(), 4);
    int widths[kUserPackArrays];
    for (int a = 0; a < kUserPackArrays; a++) {
        int64_t lo = 0, hi = 0;
        uint64_t max = 0;
        for (int64_t v : arrays[a]) {
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            uint64_t av = abs_of(v);
            max = av > max ? av : max;
        }
        if (max > uint64_t(INT64_MAX))
            return false;  // INT64_MIN: its absolute value is not an int64
        widths[a] = width_of(lo, hi);
        p.push_back(char(widths[a]));
        p.append(7, '\0');
        put_le(p, max, 8);
    }
    p.append(names_);
    p.append(idents_);
    for (const Scaled &x : costs_)
        p.push_back(char(x.seen ? uint8_t(x.dscale) : kPackNoCost));
    if (bounds_)
        for (const Scaled &x : keycosts_)
            p.push_back(char(x.seen ? uint8_t(x.dscale) : kPackNoCost));
    for (int a = 0; a < kUserPackArrays; a++)
        for (int64_t v : arrays[a])
            put_le(p, uint64_t(v), widths[a]);
    out.assign(p.data(), p.size());
    return true;
}

bool UserPackView::parse(const char *data, size_t len, bool blocks)
{
    if (len < kUserPackHeader || std::memcmp(data, "DUP", 3) != 0 || uint8_t(data[3]) != kUserPackVersion)
        return false;
    const uint8_t flags = uint8_t(data[4]);
    if ((flags & ~1u) != 0 || data[7] != 0)
        return false;
    bounds_ = flags & 1;
    cost_scale_ = uint8_t(data[5]);
    keycost_scale_ = uint8_t(data[6]);
    if (cost_scale_ > kMaxFastScale || keycost_scale_ > kMaxFastScale || (!bounds_ && keycost_scale_ != 0))
        return false;
    users_ = uint32_t(get_le(data + 8, 4));
    names_len_ = size_t(get_le(data + 12, 4));
    const size_t idents_len = idents_len_ = size_t(get_le(data + 16, 4));
    const char *p = data + 20;
    size_t fixed = 0;  // bytes per user of the arrays and display scales
    for (int a = 0; a < kUserPackArrays; a++, p += 16) {
        width_[a] = uint8_t(p[0]);
        if (width_[a] != 0 && width_[a] != 1 && width_[a] != 2 && width_[a] != 4 && width_[a] != 8)
            return false;
        for (int i = 1; i < 8; i++)
            if (p[i] != 0)
                return false;
        uint64_t m = get_le(p + 8, 8);
        if (m > uint64_t(INT64_MAX) || (width_[a] == 0 && m != 0))
            return false;
        if (!bounds_ && a >= kPackKeyCost && (width_[a] != 0 || m != 0))
            return false;
        max_[a] = int64_t(m);
        fixed += size_t(width_[a]);
    }
    fixed += bounds_ ? 2 : 1;
    const char *end = data + len;
    // Every length in size_t arithmetic bounded by len: no overflow (users_ < 2^32, fixed <= 74).
    size_t rest = size_t(end - p);
    if (names_len_ > rest || idents_len > rest - names_len_ ||
        (rest - names_len_ - idents_len) != size_t(users_) * fixed)
        return false;
    names_ = p;
    idents_ = p + names_len_;
    if (blocks && !check_blocks())
        return false;
    cost_dscales_ = idents_ + idents_len;
    keycost_dscales_ = bounds_ ? cost_dscales_ + users_ : nullptr;
    const char *a = cost_dscales_ + size_t(users_) * (bounds_ ? 2 : 1);
    for (int i = 0; i < kUserPackArrays; i++) {
        arrays_[i] = a;
        a += size_t(users_) * size_t(width_[i]);
    }
    return a == end;
}

bool UserPackView::check_blocks() const
{
    // Each block holds exactly users_ length-prefixed items.
    auto check_block = [this](const char *b, size_t blen, bool identities) {
        const char *q = b, *bend = b + blen;
        for (uint32_t i = 0; i < users_; i++) {
            size_t l;
            if (!get_varint(q, bend, l) || l > size_t(bend - q))
                return false;
            if (identities && l > 0) {  // username and email lengths inside the record
                const char *r = q, *rend = q + l;
                size_t ul, el;
                if (!get_varint(r, rend, ul) || ul > size_t(rend - r))
                    return false;
                r += ul;
                if (!get_varint(r, rend, el) || el > size_t(rend - r))
                    return false;
            }
            q += l;
        }
        return q == bend;
    };
    return check_block(names_, names_len_, false) && check_block(idents_, idents_len_, true);
}

namespace user_pack_detail {
// get_varint() with its one-byte case inline (every length below 128).
inline bool get_varint_inline(const char *&p, const char *end, size_t &v)
{
    if (__builtin_expect(p != end && !(uint8_t(*p) & 0x80), 1)) {
        v = uint8_t(*p++);
        return true;
    }
    return get_varint(p, end, v);
}
}  // namespace user_pack_detail

bool UserPackView::walk_blocks(std::string_view *names, std::string_view *records) const
{
    // check_blocks()'s checks, in the same order per block; the two blocks walked side by side
    // (a failure in either is a failure of both: the same answer).
    const char *q = names_, *const qend = names_ + names_len_;
    const char *r = idents_, *const rend = idents_ + idents_len_;
    const uint32_t n = users_;  // (the stores below may alias the view: not reloaded)
    uint32_t i = 0;
    // While more than 128 bytes are left in both blocks, an item whose length is one byte
    // (below 128) fits in its block: only the record's inner lengths need their bounds. The
    // same answers as the checks below; an item that is not this simple goes to them.
    for (; i < n && qend - q > 128 && rend - r > 128; i++) {
        const size_t nl = uint8_t(*q), rl = uint8_t(*r);
        if ((nl | rl) & 0x80)
            break;
        if (rl > 0) {  // the username's length and bytes, then the email's length, in the record
            const char *const s = r + 1, *const send = s + rl;
            const size_t ul = uint8_t(*s);
            if ((ul & 0x80) || ul > rl - 1)
                break;
            const char *const e = s + 1 + ul;
            if (e == send || (uint8_t(*e) & 0x80) || size_t(uint8_t(*e)) > size_t(send - e - 1))
                break;
        }
        names[i] = std::string_view(q + 1, nl);
        q += 1 + nl;
        records[i] = std::string_view(r + 1, rl);
        r += 1 + rl;
    }
    // The rest (and an item the loop above left: from its start) by check_blocks()'s steps.
    for (; i < n; i++) {
        size_t l;
        if (!get_varint_inline(q, qend, l) || l > size_t(qend - q))
            return false;
        names[i] = std::string_view(q, l);
        q += l;
        if (!get_varint_inline(r, rend, l) || l > size_t(rend - r))
            return false;
        if (l > 0) {  // username and email lengths inside the record
            const char *s = r, *send = r + l;
            size_t ul, el;
            if (!get_varint_inline(s, send, ul) || ul > size_t(send - s))
                return false;
            s += ul;
            if (!get_varint_inline(s, send, el) || el > size_t(send - s))
                return false;
        }
        records[i] = std::string_view(r, l);
        r += l;
    }
    return q == qend && r == rend;
}

void UserPackView::Cursor::next(std::string_view &name, std::string_view &identity_record)
{
    size_t l = varint(name_);
    name = std::string_view(name_, l);
    name_ += l;
    l = varint(ident_);
    identity_record = std::string_view(ident_, l);
    ident_ += l;
}

PackIdentity UserPackView::identity(std::string_view record)
{
    PackIdentity id;
    if (record.empty())
        return id;
    const char *p = record.data(), *end = p + record.size();
    size_t l = varint(p);
    id.username = std::string_view(p, l);
    p += l;
    l = varint(p);
    id.email = std::string_view(p, l);
    p += l;
    id.role = std::string_view(p, size_t(end - p));
    return id;
}

void pack_entry_values(const UserPackView &view, const int64_t *const arrays[kUserPackArrays], uint32_t i,
                       EntryValues &out)
{
    for (int m = 0; m < kCountMetrics; m++)
        out.counts[m] = arrays[m][i];
    uint8_t ds = view.cost_dscale(i);
    out.cost_seen = ds != kPackNoCost;
    out.cost.big = false;
    out.cost.mantissa = out.cost_seen ? arrays[kPackCost][i] : 0;
    out.cost.scale = out.cost_seen ? view.cost_scale() : 0;
    out.cost.dscale = out.cost_seen ? ds : 0;
}

UserColumns pack_columns(const UserPackView &view, const int64_t *const arrays[kUserPackArrays])
{
    UserColumns c;
    c.n = view.users();
    for (int m = 0; m < kCountMetrics; m++) {
        c.counts[m] = arrays[m];
        c.largest[m] = view.max_abs(m);  // decode() checked every value against it
    }
    c.cost = arrays[kPackCost];
    c.cost_dscale = view.cost_dscales();
    c.cost_scale = view.cost_scale();
    c.cost_largest = view.max_abs(kPackCost);
    return c;
}

void pack_keycost(const UserPackView &view, const int64_t *const arrays[kUserPackArrays], uint32_t i, Decimal &out)
{
    uint8_t ds = view.keycost_dscale(i);
    out.big = false;
    out.mantissa = ds != kPackNoCost ? arrays[kPackKeyCost][i] : 0;
    out.scale = ds != kPackNoCost ? view.keycost_scale() : 0;
    out.dscale = ds != kPackNoCost ? ds : 0;
}

}  // namespace ducache::core
