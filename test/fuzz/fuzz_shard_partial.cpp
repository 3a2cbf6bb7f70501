// libFuzzer target: the shards' binary partial (core/shard_partial) from arbitrary bytes.
// Decoding must throw core::Error or succeed, never read out of bounds; what succeeds
// re-encodes to a canonical form that decodes and re-encodes to itself; merging it with itself
// (the coordinator's merge of two shards) and grouping models by provider must not crash.
// Seeds: test/fuzz/corpus/fuzz_shard_partial.
#include "core/error.hpp"
#include "core/shard_partial.hpp"

#include <cstdint>
#include <cstdlib>
#include <memory_resource>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace ducache::core;
    std::pmr::memory_resource *mr = std::pmr::get_default_resource();
    const char *bytes = reinterpret_cast<const char *>(data);
    // The kind byte decides which partial accepts it; try both.
    for (PartialKind kind : {PartialKind::model, PartialKind::provider, PartialKind::summary}) {
        ShardPartial p(kind, mr);
        try {
            p.merge_encoded(bytes, size, 1);
        } catch (const Error &) {
            continue;
        }
        std::string canonical = p.encode();
        ShardPartial again(kind, mr);
        again.merge_encoded(canonical.data(), canonical.size(), 1);
        if (again.encode() != canonical)
            abort();
        try {
            again.merge_encoded(bytes, size, 2);  // a second shard with the same keys
            again.finish();
        } catch (const Error &) {
            // only a bigint overflow of the doubled sums may refuse it
        }
        if (kind == PartialKind::model) {
            ShardPartial providers(PartialKind::provider, mr);
            try {
                p.group_by_provider(providers);
            } catch (const Error &) {
            }
        }
    }
    return 0;
}
