#include "core/partial_wire.hpp"

#include "core/number.hpp"

namespace ducache::core {

void WireReader::corrupt(const std::string &why) const
{
    throw Error("22P03", std::string("invalid ") + what_, "Serialized partial: " + why + ".",
                "The coordinator and its shards must run the same ducache version.");
}

void write_partial_header(WireWriter &w, DocumentPartialKind kind)
{
    w.raw("DUCP");
    w.u8(kPartialVersion);
    w.u8(uint8_t(kind));
}

void read_partial_header(WireReader &r, DocumentPartialKind kind)
{
    if (r.left() < 6 || r.raw(4) != "DUCP")
        r.corrupt("it does not start with the ducache partial header");
    uint8_t version = r.u8();
    if (version != kPartialVersion)
        r.corrupt("version " + std::to_string(version) + " is not the supported version " +
                  std::to_string(kPartialVersion));
    uint8_t k = r.u8();
    if (k != uint8_t(kind))
        r.corrupt("kind " + std::to_string(k) + " where " + std::to_string(uint8_t(kind)) + " was expected");
}

void WireWriter::totals(const Totals &t)
{
    for (int m = 0; m < kCountMetrics; m++)
        i64(t.counts[m]);
    bytes(t.cost.to_string());
}

void WireReader::totals(Totals &t, std::string_view key)
{
    int64_t counts[kCountMetrics];
    for (int m = 0; m < kCountMetrics; m++)
        counts[m] = i64();
    std::string_view cost_text = bytes();
    Decimal cost;
    if (!parse_json_number(cost_text, cost))
        corrupt("a cost that is not a number (key of " + std::to_string(key.size()) + " bytes)");
    // A fresh Totals: adding cannot overflow.
    t.add(counts, &cost);
}

void write_keys(WireWriter &w, const KeyAggregator &agg)
{
    w.u32(uint32_t(agg.size()));
    for (const Slot &s : agg.slots()) {
        w.bytes(s.key_view());
        w.totals(s.totals);
    }
}

void read_keys(WireReader &r, KeyAggregator &agg, const char *of)
{
    uint32_t n = r.count(4 + kWireTotalsMin, of);
    for (uint32_t i = 0; i < n; i++) {
        std::string_view key = r.bytes();
        if (agg.find(key.data(), key.size()))
            r.corrupt(std::string("a key twice in ") + of + " (item " + std::to_string(i) + ")");
        r.totals(agg.find_or_insert(key.data(), key.size()).totals, key);
    }
}

}  // namespace ducache::core
