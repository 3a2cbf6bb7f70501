#include "core/merge_state.hpp"

#include "core/error.hpp"
#include "core/number.hpp"
#include "core/state_bytes.hpp"

#include <cstring>

namespace ducache::core {

namespace {

[[noreturn]] void corrupt_merge_state(const std::string &why)
{
    throw Error("22P03", "invalid ducache_merge state", "Serialized state: " + why + ".");
}

}  // namespace

std::string serialize_merge_state(const KeyAggregator &agg, const MergeStateHeader &header)
{
    std::string out;
    state_bytes::put<uint8_t>(out, kMergeStateVersion);
    state_bytes::put<int32_t>(out, header.rows);
    state_bytes::put<uint32_t>(out, uint32_t(agg.size()));
    for (const Slot &s : agg.slots()) {
        state_bytes::put_bytes(out, s.key_view());
        for (int m = 0; m < kCountMetrics; m++)
            state_bytes::put<int64_t>(out, s.totals.counts[m]);
        state_bytes::put<int32_t>(out, s.totals.active_days);
        state_bytes::put_bytes(out, s.totals.cost.to_string());
    }
    return out;
}

MergeStateHeader deserialize_merge_state(const char *data, size_t len, KeyAggregator &agg)
{
    state_bytes::Reader r(data, len, corrupt_merge_state);
    uint8_t version = r.get<uint8_t>();
    if (version != kMergeStateVersion)
        corrupt_merge_state("version " + std::to_string(version) + " is not the supported version " +
                std::to_string(kMergeStateVersion));
    MergeStateHeader header;
    header.rows = r.get<int32_t>();
    if (header.rows < 0)
        corrupt_merge_state("negative row count " + std::to_string(header.rows));
    uint32_t n = r.get<uint32_t>();
    // Each key needs at least 4 + 48 + 4 + 4 bytes: refuse counts the buffer cannot hold.
    if (uint64_t(n) * 60 > r.left())
        corrupt_merge_state("key count " + std::to_string(n) + " exceeds the buffer");
    Decimal cost;
    for (uint32_t i = 0; i < n; i++) {
        std::string_view key = r.bytes();
        int64_t counts[kCountMetrics];
        for (int m = 0; m < kCountMetrics; m++)
            counts[m] = r.get<int64_t>();
        int32_t days = r.get<int32_t>();
        std::string_view cost_text = r.bytes();
        if (days < 0 || !parse_json_number(cost_text, cost))
            corrupt_merge_state("bad values for key " + std::to_string(i));
        if (agg.find(key.data(), key.size()))
            corrupt_merge_state("duplicate key " + std::to_string(i));
        Slot &s = agg.find_or_insert(key.data(), key.size());
        s.totals.add(counts, &cost);
        s.totals.active_days = days;
    }
    if (r.left() != 0)
        corrupt_merge_state("trailing bytes");
    return header;
}

}  // namespace ducache::core
