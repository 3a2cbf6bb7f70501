// libFuzzer target: deserializing ducache_merge partial states from arbitrary bytes must
// throw core::Error or succeed, never read out of bounds; what succeeds round-trips.
#include "core/aggregator.hpp"
#include "core/error.hpp"
#include "core/merge_state.hpp"

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace ducache::core;
    KeyAggregator agg;
    try {
        deserialize_merge_state(reinterpret_cast<const char *>(data), size, agg);
    } catch (const Error &) {
        return 0;
    }
    std::string bytes = serialize_merge_state(agg);
    KeyAggregator again;
    deserialize_merge_state(bytes.data(), bytes.size(), again);
    if (serialize_merge_state(again) != bytes)
        abort();
    return 0;
}
