// libFuzzer target: core::Lz4Block on any bytes. The first 2 bytes give the output room (0 to
// 65535 bytes), the rest is the block. Whatever the block, the decoder stays inside both
// buffers (ASan), and decoding it in small steps gives the same status and bytes as at once.
#include "core/lz4_block.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using ducache::core::Lz4Block;
    if (size < 2)
        return 0;
    size_t cap = size_t(data[0]) | size_t(data[1]) << 8;
    const char *block = reinterpret_cast<const char *>(data + 2);
    size_t len = size - 2;
    std::vector<char> whole(cap), steps(cap);
    Lz4Block a, b;
    a.start(block, len, whole.data(), cap);
    Lz4Block::Status sa = a.decode_until(SIZE_MAX);
    b.start(block, len, steps.data(), cap);
    Lz4Block::Status sb = b.status();
    for (size_t want = 0; sb == Lz4Block::Status::more;) {
        want += 1 + (want % 97);
        size_t before = b.produced();
        sb = b.decode_until(want);
        if (b.produced() < before || (sb == Lz4Block::Status::more && b.produced() < want))
            abort();
    }
    if (sa != sb || a.produced() != b.produced() || a.produced() > cap)
        abort();
    if (sa == Lz4Block::Status::done && std::memcmp(whole.data(), steps.data(), a.produced()) != 0)
        abort();
    return 0;
}
