#include "core/aggregator.hpp"
#include "core/error.hpp"
#include "core/metrics.hpp"
#include "core/number.hpp"

#include "pg/entry_reader.hpp"
#include "pg/numeric_decode.hpp"

#include <cstring>
#include <string>

namespace ducache::pg {

using core::Error;
using core::KeyClass;
using core::KeyKind;

std::string date_text(DateADT d)
{
    // Same rendering as the ISO DateStyle, without calling into PostgreSQL (cannot fail).
    if (DATE_NOT_FINITE(d))
        return DATE_IS_NOBEGIN(d) ? "-infinity" : "infinity";
    int y, m, day;
    j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
    char buf[32];
    snprintf(buf, sizeof buf, "%04d-%02d-%02d%s", y > 0 ? y : -(y - 1), m, day, y > 0 ? "" : " BC");
    return buf;
}

std::string row_text(const DayContext &day)
{
    return day.where ? std::string(day.where) : date_text(day.date);
}

namespace {

std::string quoted(std::string_view s)
{
    std::string out = "\"";
    out.append(s.substr(0, 200));
    if (s.size() > 200)
        out += "...";
    out += '"';
    return out;
}

[[noreturn]] void bad_value(const DayContext &day, std::string_view key, std::string_view field,
                            const char *sqlstate, const std::string &problem)
{
    throw Error(sqlstate,
                "invalid usage value on " + row_text(day) + " for key " + quoted(key) +
                    ", field " + quoted(field),
                std::string(day.column) + " on " + row_text(day) + ", key " + quoted(key) +
                    ", field " + quoted(field) + ": " + problem + ".");
}

const char *type_name(uint32 type, const char *data)
{
    switch (type) {
    case JENTRY_ISBOOL_TRUE:
    case JENTRY_ISBOOL_FALSE:
        return "a boolean";
    case JENTRY_ISCONTAINER:
        return JsonContainerIsObject(reinterpret_cast<const JsonbContainer *>(data)) ? "an object" : "an array";
    case JENTRY_ISNULL:
        return "null";
    case JENTRY_ISSTRING:
        return "a string";
    default:
        return "a number";
    }
}

// Reads one metric value into `out`; returns false for JSON null (the next alias may apply).
bool read_number(const JsonbItem &v, const DayContext &day, std::string_view key, std::string_view field,
                 core::Decimal &out)
{
    switch (v.type) {
    case JENTRY_ISNUMERIC:
        if (!decode_numeric(v.data, out))
            bad_value(day, key, field, "22023", "the value is not a finite number");
        return true;
    case JENTRY_ISSTRING:
        if (!core::parse_json_number(std::string_view(v.data, v.len), out))
            bad_value(day, key, field, "22P02",
                      "the string " + quoted(std::string_view(v.data, v.len)) + " is not a number");
        return true;
    case JENTRY_ISNULL:
        return false;
    default:
        bad_value(day, key, field, "22023", std::string(type_name(v.type, v.data)) + " is not a number");
    }
}

// What one object layout (key set) means: for each metric its keys in alias order (the
// preferred alias first), and where "metrics" and the identity fields sit. Member indexes.
struct ShapePlan {
    static constexpr int kAliases = 3;  // no metric has more (CONTRACT §2)
    int32_t metric_keys[core::kMetricCount][kAliases + 1];  // -1 terminated
    int32_t metrics_object, username, email, role;         // -1 when absent
};

void build_plan(const ObjectWalker &walk, ShapePlan &plan)
{
    for (auto &keys : plan.metric_keys)
        keys[0] = -1;
    plan.metrics_object = plan.username = plan.email = plan.role = -1;
    int8_t rank[core::kMetricCount][ShapePlan::kAliases];
    ObjectWalker w = walk;
    JsonbItem k, v;
    for (int32_t i = 0; w.next(k, v); i++) {
        KeyClass kc = core::classify_key(k.data, k.len);
        switch (kc.kind) {
        case KeyKind::metric: {
            // Insert by alias rank (keys come sorted by length, not by preference).
            int32_t *keys = plan.metric_keys[kc.metric];
            int8_t *r = rank[kc.metric];
            int n = 0;
            while (keys[n] >= 0)
                n++;
            int at = n;
            while (at > 0 && r[at - 1] > kc.priority) {
                keys[at] = keys[at - 1];
                r[at] = r[at - 1];
                at--;
            }
            keys[at] = i;
            r[at] = kc.priority;
            keys[n + 1] = -1;
            break;
        }
        case KeyKind::metrics_object: plan.metrics_object = i; break;
        case KeyKind::username: plan.username = i; break;
        case KeyKind::email: plan.email = i; break;
        case KeyKind::role: plan.role = i; break;
        default: break;
        }
    }
}

// Entries of one breakdown almost always share their key set. Classifying keys is a switch per
// key; comparing the object's key bytes with the previous object's is one memcmp, so the plan is
// remembered per object layout and reused while the bytes match.
class ShapeCache {
public:
    const ShapePlan &plan(const ObjectWalker &walk)
    {
        uint32 n = walk.size(), keys_len = walk.key_bytes_len();
        if (n == count_ && keys_len == keys_len_ && std::memcmp(walk.key_bytes(), bytes_, keys_len) == 0 &&
            std::memcmp(walk.key_entries(), entries_, n * sizeof(JEntry)) == 0)
            return plan_;
        if (n > kMaxKeys || keys_len > sizeof bytes_) {
            build_plan(walk, scratch_);  // too big to remember: planned for this object only
            return scratch_;
        }
        build_plan(walk, plan_);
        std::memcpy(entries_, walk.key_entries(), n * sizeof(JEntry));
        std::memcpy(bytes_, walk.key_bytes(), keys_len);
        count_ = n;
        keys_len_ = keys_len;
        return plan_;
    }

private:
    static constexpr uint32 kMaxKeys = 32;
    uint32 count_ = UINT32_MAX, keys_len_ = 0;
    char bytes_[512];
    JEntry entries_[kMaxKeys];  // the same bytes split differently would be another key set
    ShapePlan plan_, scratch_;
};

ShapeCache entry_shapes, metrics_shapes;  // backend-local; validated byte for byte on each use

// The value each metric takes from one object: its first alias (in preference order) that is
// present and not JSON null (null falls through to the next alias, like COALESCE).
struct Chosen {
    JsonbItem item[core::kMetricCount];
    int32_t index[core::kMetricCount];  // member index, -1: no value
};

void choose(const ShapePlan &plan, const ObjectValues &vals, Chosen &out)
{
    for (int m = 0; m < core::kMetricCount; m++) {
        out.index[m] = -1;
        for (const int32_t *k = plan.metric_keys[m]; *k >= 0; k++)
            if (vals.type(uint32(*k)) != JENTRY_ISNULL) {
                out.index[m] = *k;
                out.item[m] = vals.value(uint32(*k));
                break;
            }
    }
}

// Decodes the chosen values: six bigint counts (whole numbers only) and the exact cost.
void read_chosen(const Chosen &c, const ObjectValues &vals, const DayContext &day, std::string_view key,
                 EntryValues &out)
{
    auto name = [&](int m) { return vals.key(uint32(c.index[m])); };  // only for messages
    core::Decimal d;
    for (int m = 0; m < core::kCountMetrics; m++) {
        out.counts[m] = 0;
        if (c.index[m] < 0)
            continue;
        if (c.item[m].type == JENTRY_ISNUMERIC) {
            CountDecode fast = decode_numeric_count(c.item[m].data, out.counts[m]);
            if (fast == CountDecode::ok)
                continue;
            if (fast == CountDecode::fractional)
                bad_value(day, key, name(m), "22023", "a count must be a whole number");
        }
        if (!read_number(c.item[m], day, key, name(m), d))
            continue;
        int64_t n;
        switch (d.to_int64(n)) {
        case core::Decimal::IntStatus::ok:
            out.counts[m] = n;
            break;
        case core::Decimal::IntStatus::fractional:
            bad_value(day, key, name(m), "22023", "a count must be a whole number");
        case core::Decimal::IntStatus::out_of_range:
            bad_value(day, key, name(m), "22003", "the count is out of range for type bigint");
        }
    }
    out.cost_seen = c.index[core::kCost] >= 0 &&
                    read_number(c.item[core::kCost], day, key, name(core::kCost), out.cost);
}

}  // namespace

void throw_bad_shape(const DayContext &day, const char *what)
{
    throw Error("22023", "invalid " + std::string(day.column) + " on " + row_text(day),
                std::string(day.column) + " on " + row_text(day) + ": " + what + ".");
}

void read_entry(const JsonbItem &entry, const DayContext &day, std::string_view key, bool want_identity,
                EntryValues &out)
{
    if (!item_is_object(entry))
        throw Error("22023",
                    "invalid usage entry on " + row_text(day) + " for key " + quoted(key),
                    std::string(day.column) + " on " + row_text(day) + ", key " + quoted(key) +
                        ": the entry is " + type_name(entry.type, entry.data) + ", not an object.");
    ObjectWalker walk(reinterpret_cast<const JsonbContainer *>(entry.data));
    const ShapePlan &plan = entry_shapes.plan(walk);
    ObjectValues vals(walk);

    out.username = out.email = out.role = {};
    if (want_identity) {
        auto text = [&](int32_t i, std::string_view &dst) {
            if (i >= 0 && vals.type(uint32(i)) == JENTRY_ISSTRING) {
                JsonbItem v = vals.value(uint32(i));
                dst = std::string_view(v.data, v.len);
            }
        };
        text(plan.username, out.username);
        text(plan.email, out.email);
        text(plan.role, out.role);
    }

    // Nested shape: only the metrics inside "metrics" count (a null "metrics" is absent).
    Chosen c;
    if (plan.metrics_object >= 0 && vals.type(uint32(plan.metrics_object)) != JENTRY_ISNULL) {
        JsonbItem mv = vals.value(uint32(plan.metrics_object));
        if (!item_is_object(mv))
            bad_value(day, key, "metrics", "22023", std::string(type_name(mv.type, mv.data)) + " is not an object");
        ObjectWalker mwalk(reinterpret_cast<const JsonbContainer *>(mv.data));
        ObjectValues mvals(mwalk);
        choose(metrics_shapes.plan(mwalk), mvals, c);
        read_chosen(c, mvals, day, key, out);
        return;
    }
    choose(plan, vals, c);
    read_chosen(c, vals, day, key, out);
}

void accumulate_breakdown(core::KeyAggregator &agg, const Jsonb *obj, const DayContext &day, bool want_identity)
{
    for_each_entry(obj, day, want_identity, [&](std::string_view key, const EntryValues &v, uint32 position) {
        core::Slot &slot = agg.find_or_insert_at(key.data(), key.size(), position);
        core::Metric overflow = slot.totals.add(v.counts, v.cost_seen ? &v.cost : nullptr);
        if (overflow != core::kMetricCount)
            throw Error("22003", "bigint out of range summing " + std::string(day.column) + " for key " +
                                     quoted(key) + ", field \"" + core::metric_name(overflow) + "\"",
                        "The sum passes 9223372036854775807 on " + row_text(day) + ".");
        slot.totals.mark_day(day.day_index);
        if (want_identity) {
            auto keep = [&](std::string_view &dst, std::string_view src) {
                if (!src.empty() && src != dst)
                    dst = agg.store(src.data(), src.size());
            };
            keep(slot.totals.username, v.username);
            keep(slot.totals.email, v.email);
            keep(slot.totals.role, v.role);
        }
    });
}

}  // namespace ducache::pg
