// The contract's rules for one usage entry (CONTRACT §2), over any ObjectView
// (core/object_view.hpp):
//  - each metric takes its first alias, in preference order, that is present and not JSON null
//    (null falls through to the next alias, like COALESCE);
//  - when the entry has a non-null "metrics" member, only the metrics inside it count, and a
//    "metrics" that is not an object is an error;
//  - counts are whole numbers (12.0 is 12; 12.5 is 22023) within bigint (else 22003);
//  - a number written as a JSON string counts as that number (else 22P02);
//  - the cost is exact.
// Planning (which member is which alias) depends on the key set only, so the adapter can plan
// once per object layout and reuse the plan: the reads then go by member index.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/decimal.hpp"
#include "core/error_text.hpp"
#include "core/metrics.hpp"
#include "core/number.hpp"
#include "core/object_view.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace ducache::core {

// Where an entry sits, for messages: the column ("aggregated_by_user", ...), the row and the key.
struct EntrySite {
    std::string_view column;
    const RowLabel &row;
    std::string_view key;
};

// SQLSTATE `sqlstate`:
//   invalid usage value on <row> for key "<key>", field "<field>"
//   DETAIL:  <column> on <row>, key "<key>", field "<field>": <problem>.
[[noreturn]] void throw_bad_value(const EntrySite &site, std::string_view field, const char *sqlstate,
                                  const std::string &problem);
// 22023: the entry itself is not an object.
[[noreturn]] void throw_entry_not_object(const EntrySite &site, ValueKind kind);

// What one object layout (key set) means: for each metric its members in alias order (the
// preferred alias first), and where "metrics" and the identity fields sit. Member indexes.
struct EntryPlan {
    static constexpr int kAliases = 3;  // no metric has more (CONTRACT §2)
    int32_t metric_keys[kMetricCount][kAliases + 1];  // -1 terminated
    int32_t metrics_object, username, email, role;    // -1 when absent
    int32_t days_mask;  // a rollup entry's "~days" (-1 when absent): found once per layout, not per entry
    // A rollup user_totals entry's "~identity", "~keycost" and "~keymag" (-1 when absent), found
    // with "~days" (the dashboard's range walk read them by a member search per entry).
    int32_t identity, key_cost, key_mag;
    // A ducache_merge output's own "days" (kDaysField, -1 when absent): the merge reads an
    // entry's day count there (core/merge_days.hpp), found once per layout, not per entry.
    int32_t days;
    // The direct reads of a layout in which no metric has two aliases present and there is no
    // "metrics" member: nothing to choose, each metric is its one member (direct_count of them,
    // in member order). direct_count is -1 for other layouts.
    struct DirectRead {
        int32_t member;
        Metric metric;
    };
    int32_t direct_count;
    DirectRead direct[kMetricCount];
};

// Fills plan.direct from plan.metric_keys (plan_entry's last step).
inline void plan_direct_reads(EntryPlan &plan)
{
    plan.direct_count = -1;
    if (plan.metrics_object >= 0)
        return;
    int n = 0;
    for (int m = 0; m < kMetricCount; m++) {
        const int32_t *keys = plan.metric_keys[m];
        if (keys[0] < 0)
            continue;
        if (keys[1] >= 0)
            return;  // two aliases: the choice depends on which is null, entry by entry
        plan.direct[n++] = {keys[0], Metric(m)};
    }
    // Member order: the values are then read front to back.
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && plan.direct[j - 1].member > plan.direct[j].member; j--)
            std::swap(plan.direct[j - 1], plan.direct[j]);
    plan.direct_count = n;
}

template <typename View>
void plan_entry(const View &view, EntryPlan &plan)
{
    for (auto &keys : plan.metric_keys)
        keys[0] = -1;
    plan.metrics_object = plan.username = plan.email = plan.role = plan.days_mask = -1;
    plan.identity = plan.key_cost = plan.key_mag = plan.days = -1;
    int8_t rank[kMetricCount][EntryPlan::kAliases];
    uint32_t n = view.size();
    for (uint32_t i = 0; i < n; i++) {
        std::string_view k = view.key(i);
        KeyClass kc = classify_key(k.data(), k.size());
        switch (kc.kind) {
        case KeyKind::metric: {
            // Insert by alias rank (members come in any order, JSONB's is by key length).
            int32_t *keys = plan.metric_keys[kc.metric];
            int8_t *r = rank[kc.metric];
            int count = 0;
            while (keys[count] >= 0)
                count++;
            int at = count;
            while (at > 0 && r[at - 1] > kc.priority) {
                keys[at] = keys[at - 1];
                r[at] = r[at - 1];
                at--;
            }
            keys[at] = int32_t(i);
            r[at] = kc.priority;
            keys[count + 1] = -1;
            break;
        }
        case KeyKind::metrics_object: plan.metrics_object = int32_t(i); break;
        case KeyKind::username: plan.username = int32_t(i); break;
        case KeyKind::email: plan.email = int32_t(i); break;
        case KeyKind::role: plan.role = int32_t(i); break;
        default:
            if (k == "~days")
                plan.days_mask = int32_t(i);
            else if (k == kIdentityMember)
                plan.identity = int32_t(i);
            else if (k == kKeyCostMember)
                plan.key_cost = int32_t(i);
            else if (k == kKeyMagMember)
                plan.key_mag = int32_t(i);
            else if (k == kDaysField)
                plan.days = int32_t(i);
            break;
        }
    }
    plan_direct_reads(plan);
}

// For each metric the member it takes its value from, -1 when none: the first alias in
// preference order whose value is not JSON null.
struct ChosenMembers {
    int32_t index[kMetricCount];
};

template <typename View>
inline void choose_members(const EntryPlan &plan, const View &view, ChosenMembers &out)
{
    for (int m = 0; m < kMetricCount; m++) {
        out.index[m] = -1;
        for (const int32_t *k = plan.metric_keys[m]; *k >= 0; k++)
            if (!view.is_null(uint32_t(*k))) {
                out.index[m] = *k;
                break;
            }
    }
}

// Member i as an exact number (a number, or a string holding a JSON number literal). Returns
// false for JSON null; anything else is an error naming the field.
template <typename View>
bool read_decimal(const View &view, uint32_t i, const EntrySite &site, Decimal &out)
{
    ValueKind kind = view.kind(i);
    switch (kind) {
    case ValueKind::number:
        if (!view.number(i, out))
            throw_bad_value(site, view.key(i), "22023", "the value is not a finite number");
        return true;
    case ValueKind::string: {
        std::string_view t = view.text(i);
        if (!parse_json_number(t, out))
            throw_bad_value(site, view.key(i), "22P02", "the string " + quoted(t) + " is not a number");
        return true;
    }
    case ValueKind::null:
        return false;
    default:
        throw_bad_value(site, view.key(i), "22023", std::string(value_kind_name(kind)) + " is not a number");
    }
}

template <typename View>
void read_count_slow(const View &view, uint32_t i, const EntrySite &site, int64_t &out);

// Member i as a bigint count (JSON null reads as 0). The common small whole number inlines
// into the caller; everything else (and every error) is read_count_slow, out of line, so the
// Decimal it needs is not set up and torn down for each count.
template <typename View>
inline void read_count(const View &view, uint32_t i, const EntrySite &site, int64_t &out)
{
    if (view.kind(i) == ValueKind::number && view.count(i, out) == CountFast::ok)
        return;
    read_count_slow(view, i, site, out);
}

template <typename View>
[[gnu::noinline]] void read_count_slow(const View &view, uint32_t i, const EntrySite &site, int64_t &out)
{
    if (view.kind(i) == ValueKind::number) {
        CountFast fast = view.count(i, out);
        if (fast == CountFast::ok)
            return;
        if (fast == CountFast::fractional)
            throw_bad_value(site, view.key(i), "22023", "a count must be a whole number");
    }
    out = 0;
    Decimal d;
    if (!read_decimal(view, i, site, d))
        return;
    switch (d.to_int64(out)) {
    case Decimal::IntStatus::ok:
        return;
    case Decimal::IntStatus::fractional:
        throw_bad_value(site, view.key(i), "22023", "a count must be a whole number");
    case Decimal::IntStatus::out_of_range:
        throw_bad_value(site, view.key(i), "22003", "the count is out of range for type bigint");
    }
}

// A directly planned layout's values when each is what the rules read without a second look:
// a count a small whole number, the cost a finite number. False otherwise (null, a string, a
// fraction, a big number...): then read_metrics reads the entry the general way, which gives
// the same values or raises the error.
template <typename View>
inline bool read_direct(const EntryPlan &plan, const View &view, EntryValues &out)
{
    for (int m = 0; m < kCountMetrics; m++)
        out.counts[m] = 0;
    out.cost_seen = false;
    for (int32_t r = 0; r < plan.direct_count; r++) {
        uint32_t i = uint32_t(plan.direct[r].member);
        Metric m = plan.direct[r].metric;
        if (view.kind(i) != ValueKind::number)
            return false;
        if (m == kCost) {
            if (!view.number(i, out.cost))
                return false;
            out.cost_seen = true;
        } else if (view.count(i, out.counts[m]) != CountFast::ok) {
            return false;
        }
    }
    return true;
}

// The six counts and the cost of an object planned by `plan` (one without "metrics" in use).
template <typename View>
inline void read_metrics(const EntryPlan &plan, const View &view, const EntrySite &site, EntryValues &out)
{
    if (plan.direct_count >= 0 && read_direct(plan, view, out))
        return;
    ChosenMembers c;
    choose_members(plan, view, c);
    for (int m = 0; m < kCountMetrics; m++) {
        out.counts[m] = 0;
        if (c.index[m] >= 0)
            read_count(view, uint32_t(c.index[m]), site, out.counts[m]);
    }
    out.cost_seen = c.index[kCost] >= 0 && read_decimal(view, uint32_t(c.index[kCost]), site, out.cost);
}

// One entry object. plan_of(view, nested) returns the EntryPlan of a view (the adapter caches
// plans per layout; `nested` says it is the "metrics" object). Throws core::Error on bad values.
template <typename View, typename PlanOf>
inline void read_entry_values(const View &entry, PlanOf &&plan_of, const EntrySite &site, bool want_identity,
                              EntryValues &out)
{
    const EntryPlan &plan = plan_of(entry, false);
    out.username = out.email = out.role = {};
    if (want_identity) {
        auto text = [&](int32_t i, std::string_view &dst) {
            if (i >= 0 && entry.kind(uint32_t(i)) == ValueKind::string)
                dst = entry.text(uint32_t(i));
        };
        text(plan.username, out.username);
        text(plan.email, out.email);
        text(plan.role, out.role);
    }
    // Nested shape: only the metrics inside "metrics" count (a null "metrics" is absent).
    if (plan.metrics_object >= 0 && !entry.is_null(uint32_t(plan.metrics_object))) {
        uint32_t i = uint32_t(plan.metrics_object);
        ValueKind kind = entry.kind(i);
        if (kind != ValueKind::object)
            throw_bad_value(site, "metrics", "22023", std::string(value_kind_name(kind)) + " is not an object");
        auto inner = entry.object(i);
        read_metrics(plan_of(inner, true), inner, site, out);
        return;
    }
    read_metrics(plan, entry, site, out);
}

}  // namespace ducache::core
