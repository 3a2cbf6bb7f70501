// libFuzzer target: the whole ducache_merge wire format (header with the row count, keys)
// from arbitrary bytes. Deserializing must throw core::Error or succeed, never read out of
// bounds; what succeeds round-trips: serialize -> deserialize -> serialize is the identity,
// header included. Seeds: test/fuzz/corpus/fuzz_merge_state (version-2 states).
#include "core/aggregator.hpp"
#include "core/error.hpp"
#include "core/merge_state.hpp"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace ducache::core;
    KeyAggregator agg;
    MergeStateHeader header;
    try {
        header = deserialize_merge_state(reinterpret_cast<const char *>(data), size, agg);
    } catch (const Error &) {
        return 0;
    }
    if (header.rows < 0)
        abort();
    std::string bytes = serialize_merge_state(agg, header);
    KeyAggregator again;
    MergeStateHeader header_again = deserialize_merge_state(bytes.data(), bytes.size(), again);
    if (header_again.rows != header.rows || again.size() != agg.size())
        abort();
    if (serialize_merge_state(again, header_again) != bytes)
        abort();
    return 0;
}
