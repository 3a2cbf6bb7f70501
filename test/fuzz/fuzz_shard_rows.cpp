// libFuzzer target: the shards' binary rows (core/shard_rows) from arbitrary bytes. Reading
// must throw core::Error or succeed, never read out of bounds; what is read writes back to
// the same bytes. Seeds: test/fuzz/corpus/fuzz_shard_rows.
#include "core/error.hpp"
#include "core/shard_rows.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace ducache::core;
    std::string copy;
    try {
        RowsReader r(reinterpret_cast<const char *>(data), size, 1);
        RowsWriter w(r.columns());
        std::string_view s;
        int64_t i = 0;
        for (uint32_t row = 0; row < r.rows(); row++) {
            for (ColumnKind k : r.columns()) {
                if (!r.next(k, s, i))
                    w.null();
                else if (k == ColumnKind::text)
                    w.text(s);
                else if (k == ColumnKind::numeric)
                    w.numeric(s);
                else if (k == ColumnKind::int8)
                    w.int8(i);
                else
                    w.int4(int32_t(i));
            }
            w.end_row();
        }
        r.finish();
        copy = w.finish();
    } catch (const Error &) {
        return 0;
    }
    if (copy != std::string(reinterpret_cast<const char *>(data), size))
        abort();
    return 0;
}
