#include "core/breakdown_partial.hpp"

#include "core/count_sum.hpp"
#include "core/error.hpp"
#include "core/number.hpp"
#include "core/same_bytes.hpp"
#include "core/state_bytes.hpp"

#include <algorithm>
#include <cstring>

namespace ducache::core {

namespace {

[[noreturn]] void corrupt(const std::string &why)
{
    throw Error("22P03", "invalid ducache user breakdown partial state", "Serialized state: " + why + ".");
}

IdentityDays &days_of(BreakdownPartial &p, const Slot &slot)
{
    size_t i = size_t(&slot - p.agg.slots().data());
    if (i >= p.identity_days.size())
        p.identity_days.resize(i + 1);
    return p.identity_days[i];
}

// The identity field f of `slot` becomes `value` when it comes from a later day.
void keep_identity_field(BreakdownPartial &p, Slot &slot, IdentityDays &d, int f, std::string_view value, int32_t day)
{
    if (value.empty() || day <= d.day[f])
        return;
    d.day[f] = day;
    std::string_view *field[3] = {&slot.totals.username, &slot.totals.email, &slot.totals.role};
    if (*field[f] != value)
        *field[f] = p.agg.store(value.data(), value.size());
}

}  // namespace

void BreakdownPartial::keep_identity(Slot &slot, int32_t day, std::string_view username, std::string_view email,
                                     std::string_view role)
{
    if (username.empty() && email.empty() && role.empty())
        return;
    IdentityDays &d = days_of(*this, slot);
    keep_identity_field(*this, slot, d, 0, username, day);
    keep_identity_field(*this, slot, d, 1, email, day);
    keep_identity_field(*this, slot, d, 2, role, day);
}

void BreakdownPartial::add(Slot &slot, const EntryValues &v, int32_t day, const RowLabel &row, std::string_view column,
                           std::string_view key)
{
    slot.totals.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, column, key, row);
    mark_day(slot, day);
    keep_identity(slot, day, v.username, v.email, v.role);
}

void BreakdownPartial::combine(const BreakdownPartial &other)
{
    if (other.failed)
        failed = true;
    worker_days += other.worker_days;
    if (failed)
        return;
    const auto &slots = other.agg.slots();
    for (size_t i = 0; i < slots.size(); i++) {
        const Slot &o = slots[i];
        Slot &s = agg.find_or_insert(o.key, o.key_len);
        if (add_counts(s.totals.counts, o.totals.counts) != kMetricCount) {
            failed = true;  // the serial path names the row where the sum passes bigint
            return;
        }
        s.totals.cost.add(o.totals.cost);
        s.totals.active_days += o.totals.active_days;
        s.totals.last_day = std::max(s.totals.last_day, o.totals.last_day);
        if (i < other.identity_days.size()) {
            const IdentityDays &od = other.identity_days[i];
            std::string_view ids[3] = {o.totals.username, o.totals.email, o.totals.role};
            for (int f = 0; f < 3; f++)
                if (!ids[f].empty()) {
                    IdentityDays &d = days_of(*this, s);
                    keep_identity_field(*this, s, d, f, ids[f], od.day[f]);
                }
        }
    }
}

namespace {

constexpr uint8_t kPartialCostText = 1, kPartialHasIdentity = 2;
constexpr size_t kPartialHeaderBytes = 1 + 1 + 4 + 4;
// A key's fixed bytes: key length, six counts, active and last day, flags.
constexpr size_t kPartialKeyFixedBytes = 4 + 8 * kCountMetrics + 4 + 4 + 1;
constexpr size_t kPartialCostPartsBytes = 16 + 4 + 4;

bool partial_has_identity(const BreakdownPartial &p, size_t i)
{
    const Totals &t = p.agg.slots()[i].totals;
    return i < p.identity_days.size() && (!t.username.empty() || !t.email.empty() || !t.role.empty());
}

struct PartialCursor {
    char *p;
    template <typename T>
    void put(T v)
    {
        std::memcpy(p, &v, sizeof v);
        p += sizeof v;
    }
    void put_bytes(std::string_view s)
    {
        put<uint32_t>(uint32_t(s.size()));
        if (!s.empty())  // an empty view's data() may be null: memcpy's arguments must not be
            std::memcpy(p, s.data(), s.size());
        p += s.size();
    }
};

}  // namespace

size_t serialized_partial_size(const BreakdownPartial &p)
{
    if (p.failed)
        return kPartialHeaderBytes;
    const auto &slots = p.agg.slots();
    size_t n = kPartialHeaderBytes;
    __int128 acc = 0;
    int scale = 0, dscale = 0;
    for (size_t i = 0; i < slots.size(); i++) {
        const Slot &s = slots[i];
        n += kPartialKeyFixedBytes + s.key_len;
        n += s.totals.cost.fast_parts(acc, scale, dscale) ? kPartialCostPartsBytes : 4 + s.totals.cost.to_string().size();
        if (partial_has_identity(p, i))
            n += 3 * 8 + s.totals.username.size() + s.totals.email.size() + s.totals.role.size();
    }
    return n;
}

void write_serialized_partial(const BreakdownPartial &p, char *out)
{
    PartialCursor c{out};
    const auto &slots = p.agg.slots();
    c.put<uint8_t>(kBreakdownPartialVersion);
    c.put<uint8_t>(p.failed ? 1 : 0);
    c.put<int32_t>(p.worker_days);
    c.put<uint32_t>(p.failed ? 0 : uint32_t(slots.size()));
    if (p.failed)
        return;
    __int128 acc = 0;
    int scale = 0, dscale = 0;
    for (size_t i = 0; i < slots.size(); i++) {
        const Slot &s = slots[i];
        c.put_bytes(s.key_view());
        for (int m = 0; m < kCountMetrics; m++)
            c.put<int64_t>(s.totals.counts[m]);
        c.put<int32_t>(s.totals.active_days);
        c.put<int32_t>(s.totals.last_day);
        bool fast = s.totals.cost.fast_parts(acc, scale, dscale);
        bool identity = partial_has_identity(p, i);
        c.put<uint8_t>(uint8_t((fast ? 0 : kPartialCostText) | (identity ? kPartialHasIdentity : 0)));
        if (fast) {
            c.put<__int128>(acc);
            c.put<int32_t>(scale);
            c.put<int32_t>(dscale);
        } else {
            c.put_bytes(s.totals.cost.to_string());
        }
        if (identity) {
            const IdentityDays &d = p.identity_days[i];
            std::string_view ids[3] = {s.totals.username, s.totals.email, s.totals.role};
            for (int f = 0; f < 3; f++) {
                c.put<int32_t>(d.day[f]);
                c.put_bytes(ids[f]);
            }
        }
    }
}

std::string serialize_breakdown_partial(const BreakdownPartial &p)
{
    std::string out(serialized_partial_size(p), '\0');
    write_serialized_partial(p, out.data());
    return out;
}

bool serialized_partial_failed(const char *data, size_t len)
{
    return len >= 2 && data[1] != 0;
}

void deserialize_breakdown_partial(const char *data, size_t len, BreakdownPartial &into)
{
    state_bytes::Reader r(data, len, corrupt);
    uint8_t version = r.get<uint8_t>();
    if (version != kBreakdownPartialVersion)
        corrupt("version " + std::to_string(version) + " is not the supported version " +
                std::to_string(kBreakdownPartialVersion));
    if (r.get<uint8_t>() != 0)
        into.failed = true;
    int32_t worker_days = r.get<int32_t>();
    if (worker_days < 0)
        corrupt("negative worker days");
    uint32_t n = r.get<uint32_t>();
    // Each key needs at least its fixed bytes and a text cost's length: refuse counts the
    // buffer cannot hold.
    if (uint64_t(n) * (kPartialKeyFixedBytes + 4) > r.left())
        corrupt("key count " + std::to_string(n) + " exceeds the buffer");
    into.worker_days += worker_days;
    // Into an empty state key by key (a key twice makes the size lag); else each key into its
    // slot of `into`, a key met twice in this buffer told by its mark.
    const bool direct = into.agg.size() == 0;
    if (!direct) {
        if (++into.seen_mark == 0) {  // wrapped: clear the old marks
            std::fill(into.seen.begin(), into.seen.end(), 0u);
            into.seen_mark = 1;
        }
    }
    if (direct)
        into.agg.reserve(n);
    Decimal cost;
    int64_t counts[kCountMetrics];
    // Round 14 of issue 13: the slot after the previous key's is tried first. Both sides met
    // the keys in row order, so a worker's keys follow the leader's slots in runs (the same
    // order for rows of one key list; sparse rows' lists taken in turns from another first
    // list: a rotation), and a key compare replaces the hash and the probe.
    size_t guess = 0;
    for (uint32_t i = 0; i < n; i++) {
        std::string_view key = r.bytes();
        size_t before = into.agg.size();
        Slot *found = nullptr;
        if (!direct && guess < before) {
            Slot &g = into.agg.slots()[guess];
            if (g.key_len == key.size() && same_bytes(g.key, key.data(), key.size()))
                found = &g;
        }
        Slot &s = found ? *found : into.agg.find_or_insert(key.data(), key.size());
        size_t index = size_t(&s - into.agg.slots().data());
        guess = index + 1;
        if (direct) {
            if (into.agg.size() != i + 1)
                corrupt("duplicate key " + std::to_string(i));
        } else {
            if (index >= into.seen.size())
                into.seen.resize(std::max(index + 1, into.agg.size()), 0u);
            if (into.agg.size() == before && into.seen[index] == into.seen_mark)
                corrupt("duplicate key " + std::to_string(i));
            into.seen[index] = into.seen_mark;
        }
        // The fixed fields after the key in one bounds check: six counts, active and last day, flags.
        const char *fixed = r.take(kPartialKeyFixedBytes - 4);
        std::memcpy(counts, fixed, sizeof counts);
        int32_t active_days, last_day;
        std::memcpy(&active_days, fixed + sizeof counts, 4);
        std::memcpy(&last_day, fixed + sizeof counts + 4, 4);
        const uint8_t flags = uint8_t(fixed[sizeof counts + 8]);
        if (active_days < 0 || (flags & ~(kPartialCostText | kPartialHasIdentity)) != 0)
            corrupt("bad values for key " + std::to_string(i));
        if (flags & kPartialCostText) {
            if (!parse_json_number(r.bytes(), cost))
                corrupt("bad cost for key " + std::to_string(i));
            s.totals.cost.add(cost);
        } else {
            __int128 acc = r.get<__int128>();
            int32_t scale = r.get<int32_t>(), dscale = r.get<int32_t>();
            if (scale < 0 || scale > kMaxFastScale || dscale < 0 || dscale > kMaxDscale)
                corrupt("bad cost for key " + std::to_string(i));
            s.totals.cost.add_parts(acc, scale, dscale);
        }
        if (add_counts(s.totals.counts, counts) != kMetricCount) {
            into.failed = true;  // the serial path names the row where the sum passes bigint
            return;
        }
        s.totals.active_days += active_days;
        s.totals.last_day = std::max(s.totals.last_day, last_day);
        if (flags & kPartialHasIdentity) {
            IdentityDays &d = days_of(into, s);
            for (int f = 0; f < 3; f++) {
                int32_t day = r.get<int32_t>();
                std::string_view v = r.bytes();
                keep_identity_field(into, s, d, f, v, day);
            }
        }
    }
    if (r.left() != 0)
        corrupt("trailing bytes");
}

}  // namespace ducache::core
