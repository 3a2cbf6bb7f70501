// core::Lz4Block against liblz4 itself (the library PostgreSQL compresses with, loaded at run
// time so the build needs no lz4 headers): random data of many kinds compressed by
// LZ4_compress_default decodes to the same bytes, however the decoding is cut in steps; a
// mutated block that we accept, liblz4 accepts with the same output; malformed blocks stop
// inside both buffers.
#include "core/lz4_block.hpp"

#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

using ducache::core::Lz4Block;

namespace {

struct LibLz4 {
    int (*compress)(const char *, char *, int, int) = nullptr;
    int (*decompress)(const char *, char *, int, int) = nullptr;
    int (*bound)(int) = nullptr;
    LibLz4()
    {
        void *h = dlopen("liblz4.so.1", RTLD_NOW);
        if (!h)
            return;
        compress = reinterpret_cast<int (*)(const char *, char *, int, int)>(dlsym(h, "LZ4_compress_default"));
        decompress = reinterpret_cast<int (*)(const char *, char *, int, int)>(dlsym(h, "LZ4_decompress_safe"));
        bound = reinterpret_cast<int (*)(int)>(dlsym(h, "LZ4_compressBound"));
    }
    bool ok() const { return compress && decompress && bound; }
};

const LibLz4 &lib()
{
    static LibLz4 l;
    return l;
}

std::string compress(const std::string &raw)
{
    std::string out(size_t(lib().bound(int(raw.size()))), '\0');
    int n = lib().compress(raw.data(), out.data(), int(raw.size()), int(out.size()));
    EXPECT_GT(n, 0);
    out.resize(size_t(n));
    return out;
}

// Decodes in steps of random sizes (0: all at once).
Lz4Block::Status decode(const std::string &block, size_t cap, std::string &out, std::mt19937_64 &rng, size_t max_step)
{
    out.assign(cap, '\x55');
    Lz4Block d;
    d.start(block.data(), block.size(), out.data(), cap);
    size_t want = 0;
    Lz4Block::Status s = d.status();
    size_t last = 0;
    while (s == Lz4Block::Status::more) {
        want += max_step ? rng() % max_step : cap;
        s = d.decode_until(want);
        EXPECT_GE(d.produced(), last);  // never goes back
        EXPECT_LE(d.produced(), cap);
        if (s == Lz4Block::Status::more) {
            EXPECT_GE(d.produced(), want);
        }
        last = d.produced();
    }
    out.resize(d.produced());
    return s;
}

std::string sample_data(std::mt19937_64 &rng, int kind, size_t n)
{
    std::string s;
    s.reserve(n);
    const std::string words[] = {"\"prompt_tokens\"", "\"cost\"", "12.345678", "\"user-", "0000", "\x01\x00\x00\x20",
                                 "\"requests\": ", "\"model\"", "aaaaaaaaaaaaaaaaaaaa"};
    while (s.size() < n) {
        switch (kind) {
        case 0:  // incompressible
            s.push_back(char(rng()));
            break;
        case 1:  // small alphabet
            s.push_back(char('a' + rng() % 4));
            break;
        case 2: {  // runs with short periods (offsets 1..19, long matches)
            size_t period = 1 + rng() % 19, len = rng() % 400;
            std::string unit;
            for (size_t i = 0; i < period; i++)
                unit.push_back(char(rng()));
            for (size_t i = 0; i < len; i++)
                s.push_back(unit[i % period]);
            break;
        }
        default:  // JSON-like tokens and binary words, with random digits
            s += words[rng() % (sizeof words / sizeof words[0])];
            if (rng() % 3 == 0)
                s += std::to_string(rng() % 100000);
        }
    }
    s.resize(n);
    return s;
}

}  // namespace

TEST(Lz4Block, DecodesWhatLiblz4Compresses)
{
    if (!lib().ok())
        GTEST_SKIP() << "liblz4.so.1 not loadable";
    std::mt19937_64 rng(13);
    const size_t sizes[] = {1, 2, 5, 12, 13, 15, 16, 17, 19, 31, 64, 100, 255, 270, 1000, 4096, 65536, 70000, 300000};
    for (int kind = 0; kind < 4; kind++)
        for (size_t n : sizes)
            for (size_t step : {size_t(0), size_t(1), size_t(100), size_t(5000), size_t(131072)}) {
                std::string raw = sample_data(rng, kind, n), block = compress(raw), out;
                ASSERT_EQ(decode(block, raw.size(), out, rng, step), Lz4Block::Status::done)
                    << "kind " << kind << " size " << n << " step " << step;
                ASSERT_TRUE(out == raw) << "kind " << kind << " size " << n << " step " << step;
            }
}

TEST(Lz4Block, AcceptsOnlyWhatLiblz4AcceptsAndDecodesTheSame)
{
    if (!lib().ok())
        GTEST_SKIP() << "liblz4.so.1 not loadable";
    std::mt19937_64 rng(42);
    int ours_ok = 0, both_failed = 0, theirs_only = 0;
    for (int round = 0; round < 20000; round++) {
        std::string raw = sample_data(rng, int(rng() % 4), 1 + rng() % 3000), block = compress(raw);
        switch (rng() % 4) {  // damage it
        case 0:
            block[rng() % block.size()] = char(rng());
            break;
        case 1:
            block.resize(rng() % block.size());
            break;
        case 2:
            for (int i = 0; i < 4; i++)
                block[rng() % block.size()] ^= char(1 << (rng() % 8));
            break;
        default:
            block.push_back(char(rng()));
        }
        size_t cap = rng() % 4 == 0 ? rng() % (raw.size() + 64) : raw.size();
        std::string ours, theirs(cap + 1, '\0');
        Lz4Block::Status s = decode(block, cap, ours, rng, rng() % 2 ? 0 : 200);
        int n = lib().decompress(block.data(), theirs.data(), int(block.size()), int(cap));
        if (s == Lz4Block::Status::done) {
            ASSERT_EQ(n, int(ours.size())) << "round " << round;
            ASSERT_EQ(0, std::memcmp(theirs.data(), ours.data(), ours.size())) << "round " << round;
            ours_ok++;
        } else if (n < 0) {
            both_failed++;
        } else {
            theirs_only++;  // e.g. a match at offset 0, which liblz4 does not refuse
        }
    }
    EXPECT_GT(ours_ok, 100);
    EXPECT_GT(both_failed, 1000);
    EXPECT_LT(theirs_only, 200) << ours_ok << " both ok, " << both_failed << " both refused";
}

TEST(Lz4Block, EdgeCases)
{
    char out[64];
    Lz4Block d;
    d.start("", 0, out, sizeof out);
    EXPECT_EQ(d.status(), Lz4Block::Status::corrupt);  // no input
    d.start("\0", 1, out, 0);
    EXPECT_EQ(d.status(), Lz4Block::Status::done);  // the empty block
    d.start("\x10", 1, out, 0);
    EXPECT_EQ(d.status(), Lz4Block::Status::corrupt);
    // One literal "a", the whole block.
    d.start("\x10" "a", 2, out, 1);
    EXPECT_EQ(d.decode_until(1), Lz4Block::Status::done);
    EXPECT_EQ(d.produced(), 1u);
    EXPECT_EQ(out[0], 'a');
    // Literals that do not end at the input's end while reaching its last bytes.
    d.start("\x30" "ab", 3, out, sizeof out);
    EXPECT_EQ(d.decode_until(64), Lz4Block::Status::corrupt);
    // More literals than room.
    d.start("\x20" "ab", 3, out, 1);
    EXPECT_EQ(d.decode_until(64), Lz4Block::Status::corrupt);
    // 8 literals, a match at offset 0, then 5 literals.
    const char zero_offset[] = "\x80" "abcdefgh" "\x00\x00" "\x50" "12345";
    d.start(zero_offset, sizeof zero_offset - 1, out, sizeof out);
    EXPECT_EQ(d.decode_until(64), Lz4Block::Status::corrupt);
    // A match reaching before the output's start.
    const char far[] = "\x80" "abcdefgh" "\x09\x00" "\x50" "12345";
    d.start(far, sizeof far - 1, out, sizeof out);
    EXPECT_EQ(d.decode_until(64), Lz4Block::Status::corrupt);
    // The same at offset 8: "abcdefgh" + "abcd" + "12345".
    const char good[] = "\x80" "abcdefgh" "\x08\x00" "\x50" "12345";
    d.start(good, sizeof good - 1, out, sizeof out);
    EXPECT_EQ(d.decode_until(1), Lz4Block::Status::more);  // paused after the first sequence
    EXPECT_EQ(d.produced(), 12u);
    EXPECT_EQ(d.decode_until(64), Lz4Block::Status::done);
    EXPECT_EQ(d.produced(), 17u);
    EXPECT_EQ(std::string(out, 17), "abcdefghabcd12345");
    // A match that starts less than 12 bytes before the end of the room.
    d.start(good, sizeof good - 1, out, 17);
    EXPECT_EQ(d.decode_until(64), Lz4Block::Status::corrupt);
    // A 19-byte match (an extension byte) at offset 8 into the last 5 bytes of the room.
    const char longer[] = "\x8f" "abcdefgh" "\x08\x00" "\x00" "\x50" "12345";
    d.start(longer, sizeof longer - 1, out, 30);
    EXPECT_EQ(d.decode_until(64), Lz4Block::Status::corrupt);
    d.start(longer, sizeof longer - 1, out, sizeof out);
    EXPECT_EQ(d.decode_until(64), Lz4Block::Status::done);
    EXPECT_EQ(std::string(out, d.produced()), "abcdefghabcdefghabcdefghabc12345");
}
