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

// The best (lowest-priority-rank) non-null alias seen so far for each metric.
struct Candidates {
    JsonbItem item[core::kMetricCount];
    std::string_view name[core::kMetricCount];
    int8_t prio[core::kMetricCount];
    void reset()
    {
        for (int m = 0; m < core::kMetricCount; m++)
            prio[m] = INT8_MAX;
    }
    void offer(const KeyClass &k, const JsonbItem &v, std::string_view keyname)
    {
        if (v.type == JENTRY_ISNULL)
            return;  // null counts as absent: a lower-ranked alias may still supply the value
        if (k.priority < prio[k.metric]) {
            prio[k.metric] = k.priority;
            item[k.metric] = v;
            name[k.metric] = keyname;
        }
    }
};

// Entries of one breakdown almost always share their key set. Classifying keys is a switch per
// key; comparing the object's key bytes with the previous object's is one memcmp, so the
// classification is remembered per object layout and reused while the bytes match.
class ShapeCache {
public:
    const KeyClass *classes(const ObjectWalker &walk, uint32 keys_len)
    {
        uint32 n = walk.size();
        if (n == count_ && keys_len == keys_len_ && std::memcmp(walk.key_bytes(), bytes_, keys_len) == 0 &&
            std::memcmp(walk.key_entries(), entries_, n * sizeof(JEntry)) == 0)
            return classes_;
        if (n > kMaxKeys || keys_len > sizeof bytes_)
            return nullptr;
        std::memcpy(entries_, walk.key_entries(), n * sizeof(JEntry));
        ObjectWalker w = walk;
        JsonbItem k, v;
        for (uint32 i = 0; w.next(k, v); i++)
            classes_[i] = core::classify_key(k.data, k.len);
        std::memcpy(bytes_, walk.key_bytes(), keys_len);
        count_ = n;
        keys_len_ = keys_len;
        return classes_;
    }

private:
    static constexpr uint32 kMaxKeys = 32;
    uint32 count_ = UINT32_MAX, keys_len_ = 0;
    char bytes_[512];
    JEntry entries_[kMaxKeys];  // the same bytes split differently would be another key set
    KeyClass classes_[kMaxKeys];
};

ShapeCache entry_shapes, metrics_shapes;  // backend-local; validated byte for byte on each use

void collect_metrics(const JsonbContainer *obj, Candidates &c)
{
    ObjectWalker walk(obj);
    const KeyClass *cls = metrics_shapes.classes(walk, walk.key_bytes_len());
    JsonbItem k, v;
    for (uint32 i = 0; walk.next(k, v); i++) {
        KeyClass kc = cls ? cls[i] : core::classify_key(k.data, k.len);
        if (kc.kind == KeyKind::metric)
            c.offer(kc, v, std::string_view(k.data, k.len));
    }
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
    const auto *obj = reinterpret_cast<const JsonbContainer *>(entry.data);

    Candidates c;
    c.reset();
    const JsonbContainer *metrics = nullptr;
    out.username = out.email = out.role = {};
    ObjectWalker walk(obj);
    const KeyClass *cls = entry_shapes.classes(walk, walk.key_bytes_len());
    JsonbItem k, v;
    for (uint32 i = 0; walk.next(k, v); i++) {
        KeyClass kc = cls ? cls[i] : core::classify_key(k.data, k.len);
        switch (kc.kind) {
        case KeyKind::metric:
            c.offer(kc, v, std::string_view(k.data, k.len));
            break;
        case KeyKind::metrics_object:
            if (item_is_object(v))
                metrics = reinterpret_cast<const JsonbContainer *>(v.data);
            else if (v.type != JENTRY_ISNULL)
                bad_value(day, key, "metrics", "22023",
                          std::string(type_name(v.type, v.data)) + " is not an object");
            break;
        case KeyKind::username:
        case KeyKind::email:
        case KeyKind::role:
            if (want_identity && v.type == JENTRY_ISSTRING) {
                std::string_view s(v.data, v.len);
                (kc.kind == KeyKind::username ? out.username : kc.kind == KeyKind::email ? out.email : out.role) = s;
            }
            break;
        default:
            break;
        }
    }
    // Nested shape: only the metrics inside "metrics" count.
    if (metrics) {
        c.reset();
        collect_metrics(metrics, c);
    }

    core::Decimal d;
    for (int m = 0; m < core::kCountMetrics; m++) {
        out.counts[m] = 0;
        if (c.prio[m] == INT8_MAX)
            continue;
        if (c.item[m].type == JENTRY_ISNUMERIC) {
            CountDecode fast = decode_numeric_count(c.item[m].data, out.counts[m]);
            if (fast == CountDecode::ok)
                continue;
            if (fast == CountDecode::fractional)
                bad_value(day, key, c.name[m], "22023", "a count must be a whole number");
        }
        if (!read_number(c.item[m], day, key, c.name[m], d))
            continue;
        int64_t n;
        switch (d.to_int64(n)) {
        case core::Decimal::IntStatus::ok:
            out.counts[m] = n;
            break;
        case core::Decimal::IntStatus::fractional:
            bad_value(day, key, c.name[m], "22023", "a count must be a whole number");
        case core::Decimal::IntStatus::out_of_range:
            bad_value(day, key, c.name[m], "22003", "the count is out of range for type bigint");
        }
    }
    out.cost_seen = c.prio[core::kCost] != INT8_MAX &&
                    read_number(c.item[core::kCost], day, key, c.name[core::kCost], out.cost);
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
