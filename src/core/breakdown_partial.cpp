#include "core/breakdown_partial.hpp"

#include "core/count_sum.hpp"
#include "core/error.hpp"
#include "core/number.hpp"
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
void keep_identity(BreakdownPartial &p, Slot &slot, IdentityDays &d, int f, std::string_view value, int32_t day)
{
    if (value.empty() || day <= d.day[f])
        return;
    d.day[f] = day;
    std::string_view *field[3] = {&slot.totals.username, &slot.totals.email, &slot.totals.role};
    if (*field[f] != value)
        *field[f] = p.agg.store(value.data(), value.size());
}

}  // namespace

void BreakdownPartial::add(Slot &slot, const EntryValues &v, int32_t day, const RowLabel &row, std::string_view column,
                           std::string_view key)
{
    slot.totals.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, column, key, row);
    int32_t last = slot.totals.last_day;
    slot.totals.mark_days(day, 1);  // rows have distinct days: a new row counts once
    slot.totals.last_day = std::max(last, slot.totals.last_day);
    if (v.username.empty() && v.email.empty() && v.role.empty())
        return;
    IdentityDays &d = days_of(*this, slot);
    keep_identity(*this, slot, d, 0, v.username, day);
    keep_identity(*this, slot, d, 1, v.email, day);
    keep_identity(*this, slot, d, 2, v.role, day);
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
        IdentityDays od = i < other.identity_days.size() ? other.identity_days[i] : IdentityDays();
        IdentityDays &d = days_of(*this, s);
        keep_identity(*this, s, d, 0, o.totals.username, od.day[0]);
        keep_identity(*this, s, d, 1, o.totals.email, od.day[1]);
        keep_identity(*this, s, d, 2, o.totals.role, od.day[2]);
    }
}

std::string serialize_breakdown_partial(const BreakdownPartial &p)
{
    std::string out;
    const auto &slots = p.agg.slots();
    out.reserve(16 + slots.size() * 120);
    state_bytes::put<uint8_t>(out, kBreakdownPartialVersion);
    state_bytes::put<uint8_t>(out, p.failed ? 1 : 0);
    state_bytes::put<int32_t>(out, p.worker_days);
    state_bytes::put<uint32_t>(out, p.failed ? 0 : uint32_t(slots.size()));
    if (p.failed)
        return out;
    for (size_t i = 0; i < slots.size(); i++) {
        const Slot &s = slots[i];
        state_bytes::put_bytes(out, s.key_view());
        for (int m = 0; m < kCountMetrics; m++)
            state_bytes::put<int64_t>(out, s.totals.counts[m]);
        state_bytes::put<int32_t>(out, s.totals.active_days);
        state_bytes::put<int32_t>(out, s.totals.last_day);
        state_bytes::put_bytes(out, s.totals.cost.to_string());
        IdentityDays d = i < p.identity_days.size() ? p.identity_days[i] : IdentityDays();
        std::string_view ids[3] = {s.totals.username, s.totals.email, s.totals.role};
        for (int f = 0; f < 3; f++) {
            state_bytes::put<int32_t>(out, d.day[f]);
            state_bytes::put_bytes(out, ids[f]);
        }
    }
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
    // Each key needs at least 4 + 48 + 8 + 4 + 3 * 8 bytes: refuse counts the buffer cannot hold.
    if (uint64_t(n) * 88 > r.left())
        corrupt("key count " + std::to_string(n) + " exceeds the buffer");
    // Into an empty state directly; else into a state of its own, combined by the same rule.
    BreakdownPartial one(into.agg.resource());
    bool direct = into.agg.size() == 0;
    BreakdownPartial &target = direct ? into : one;
    Decimal cost;
    for (uint32_t i = 0; i < n; i++) {
        std::string_view key = r.bytes();
        Slot &s = target.agg.find_or_insert(key.data(), key.size());
        if (target.agg.size() != i + 1)
            corrupt("duplicate key " + std::to_string(i));
        for (int m = 0; m < kCountMetrics; m++)
            s.totals.counts[m] = r.get<int64_t>();
        s.totals.active_days = r.get<int32_t>();
        s.totals.last_day = r.get<int32_t>();
        std::string_view cost_text = r.bytes();
        if (s.totals.active_days < 0 || !parse_json_number(cost_text, cost))
            corrupt("bad values for key " + std::to_string(i));
        s.totals.cost.add(cost);
        IdentityDays &d = days_of(target, s);
        std::string_view *field[3] = {&s.totals.username, &s.totals.email, &s.totals.role};
        for (int f = 0; f < 3; f++) {
            d.day[f] = r.get<int32_t>();
            std::string_view v = r.bytes();
            // In `one` it may point into data: combine() copies what it keeps.
            *field[f] = direct && !v.empty() ? target.agg.store(v.data(), v.size()) : v;
        }
    }
    if (r.left() != 0)
        corrupt("trailing bytes");
    if (!direct)
        into.combine(one);
    into.worker_days += worker_days;
}

}  // namespace ducache::core
