// The layout of a result row (core/row_layout.hpp) against layouts worked out by hand from
// PostgreSQL 15's heaptuple.c (heap_compute_data_size, heap_fill_tuple) and htup_details.h:
// a header of 23 bytes + the null bitmap when a column is NULL, MAXALIGNed; fixed-width values
// at their alignment; a varlena of a packable column whose data + 1 byte fits 127 bytes with a
// 1-byte header, unaligned; any other varlena with its 4-byte header at its alignment.
#include "core/row_layout.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace ut_row_layout_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

const RowColumn kText{-1, 4, true};      // text: attlen -1, 'i', extended
const RowColumn kNumeric{-1, 4, true};   // numeric: attlen -1, 'i', main
const RowColumn kPlain{-1, 4, false};    // a varlena of plain storage (int4[] is not; e.g. a domain over one)
const RowColumn kInt8{8, 8, true};
const RowColumn kInt4{4, 4, true};
const RowColumn kDate{4, 4, true};
const RowColumn kInt2{2, 2, true};
const RowColumn kBool{1, 1, true};

TEST(RowLayout, HeaderWithAndWithoutTheNullBitmap)
{
    EXPECT_EQ(row_header_bytes(13, false), 24u);  // 23 -> 24
    EXPECT_EQ(row_header_bytes(13, true), 32u);   // 23 + 2 -> 32
    EXPECT_EQ(row_header_bytes(8, true), 24u);    // 23 + 1 = 24: no padding
    EXPECT_EQ(row_header_bytes(9, true), 32u);
    EXPECT_EQ(row_header_bytes(72, true), 32u);   // 23 + 9
    EXPECT_EQ(row_header_bytes(73, true), 40u);
    EXPECT_EQ(row_header_bytes(1, false), 24u);
    EXPECT_EQ(row_bitmap_bytes(16), 2u);
    EXPECT_EQ(row_bitmap_bytes(17), 3u);
}

// The user breakdown's row: user_id text, username/email/role text (NULL here), four bigints,
// total_cost numeric, two bigints, active_days integer, last_active date.
TEST(RowLayout, TheUserBreakdownRow)
{
    const RowColumn cols[13] = {kText, kText, kText, kText, kInt8, kInt8, kInt8, kInt8, kNumeric,
                                kInt8, kInt8, kInt4, kDate};
    uint32_t payload[13] = {10, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0};
    bool nulls[13] = {false, true, true, true, false, false, false, false, false, false, false, false, false};
    uint32_t at[13] = {};
    bool shrt[13] = {};
    RowPlacement p = place_row(cols, 13, payload, nulls, at, shrt);
    // key: 1 + 10 bytes at 0; the bigints from 16; numeric 1 + 8 at 48 (unaligned); bigints
    // from 64; integer 80, date 84.
    const uint32_t want[13] = {0, 0, 0, 0, 16, 24, 32, 40, 48, 64, 72, 80, 84};
    for (int i = 0; i < 13; i++) {
        if (!nulls[i]) {
            EXPECT_EQ(at[i], want[i]) << "column " << i;
        }
    }
    EXPECT_TRUE(shrt[0]);
    EXPECT_TRUE(shrt[8]);
    EXPECT_TRUE(p.has_nulls);
    EXPECT_EQ(p.data_len, 88u);
    EXPECT_EQ(p.header, 32u);
    EXPECT_EQ(p.total, 120u);

    // With identity: username 5 bytes, email 17, role 4; no NULL, so a 24-byte header.
    payload[1] = 5, payload[2] = 17, payload[3] = 4;
    nulls[1] = nulls[2] = nulls[3] = false;
    p = place_row(cols, 13, payload, nulls, at, shrt);
    // 0: 11 bytes; 11: 6; 17: 18; 35: 5 -> 40; bigints 40..72; numeric 72 + 9 = 81; bigints
    // 88, 96; integer 104; date 108.
    const uint32_t want2[13] = {0, 11, 17, 35, 40, 48, 56, 64, 72, 88, 96, 104, 108};
    for (int i = 0; i < 13; i++)
        EXPECT_EQ(at[i], want2[i]) << "column " << i;
    EXPECT_FALSE(p.has_nulls);
    EXPECT_EQ(p.header, 24u);
    EXPECT_EQ(p.data_len, 112u);
    EXPECT_EQ(p.total, 136u);
}

TEST(RowLayout, ShortHeaderUpTo126DataBytes)
{
    bool shrt = false;
    RowCursor c;
    c.off = 1;  // after a 1-byte value
    EXPECT_EQ(c.varlena(kText, 126, shrt), 1u);  // 127 bytes with its 1-byte header
    EXPECT_TRUE(shrt);
    EXPECT_EQ(c.off, 128u);

    c.off = 1;
    EXPECT_EQ(c.varlena(kText, 127, shrt), 4u);  // 4-byte header, int-aligned
    EXPECT_FALSE(shrt);
    EXPECT_EQ(c.off, 4u + 4 + 127);

    c.off = 1;
    EXPECT_EQ(c.varlena(kPlain, 3, shrt), 4u);  // plain storage: never packed
    EXPECT_FALSE(shrt);
    EXPECT_EQ(c.off, 11u);

    c.off = 5;
    EXPECT_EQ(c.varlena(kText, 0, shrt), 5u);  // the empty text: one byte
    EXPECT_TRUE(shrt);
    EXPECT_EQ(c.off, 6u);
}

TEST(RowLayout, FixedWidthAlignment)
{
    RowCursor c;
    EXPECT_EQ(c.fixed(kBool), 0u);
    EXPECT_EQ(c.fixed(kInt2), 2u);
    EXPECT_EQ(c.fixed(kBool), 4u);
    EXPECT_EQ(c.fixed(kInt4), 8u);
    EXPECT_EQ(c.fixed(kBool), 12u);
    EXPECT_EQ(c.fixed(kInt8), 16u);
    EXPECT_EQ(c.off, 24u);
}

// A run of k columns of one shape lands where k single columns would, from any offset.
TEST(RowLayout, FixedRunEqualsSingleColumns)
{
    for (RowColumn c : {kBool, kInt2, kInt4, kInt8}) {
        for (uint32_t start = 0; start < 24; start++) {
            for (uint32_t k = 1; k <= 8; k++) {
                RowCursor run, one;
                run.off = one.off = start;
                uint32_t at = run.fixed_run(c, k);
                for (uint32_t j = 0; j < k; j++) {
                    uint32_t a = one.fixed(c);
                    ASSERT_EQ(a, at + j * uint32_t(c.len)) << c.len << " " << start << " " << k;
                }
                ASSERT_EQ(run.off, one.off);
            }
        }
    }
}

// A NULL takes no bytes and does not align: the next value goes where it would have gone.
TEST(RowLayout, NullsTakeNoBytes)
{
    const RowColumn cols[4] = {kBool, kInt8, kInt4, kText};
    const uint32_t payload[4] = {0, 0, 0, 3};
    const bool nulls[4] = {false, true, false, false};
    uint32_t at[4] = {};
    bool shrt[4] = {};
    RowPlacement p = place_row(cols, 4, payload, nulls, at, shrt);
    EXPECT_EQ(at[0], 0u);
    EXPECT_EQ(at[2], 4u);
    EXPECT_EQ(at[3], 8u);
    EXPECT_EQ(p.data_len, 12u);
    EXPECT_EQ(p.header, 24u);  // 23 + 1 bitmap byte
    EXPECT_EQ(p.total, 36u);
}

// The cursor column by column and place_row over the whole row agree on random rows.
TEST(RowLayout, CursorAndWholeRowAgree)
{
    const RowColumn kinds[] = {kText, kPlain, kInt8, kInt4, kInt2, kBool};
    uint64_t seed = 12345;
    auto next = [&seed] {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        return uint32_t(seed >> 33);
    };
    for (int round = 0; round < 2000; round++) {
        uint32_t n = 1 + next() % 16;
        std::vector<RowColumn> cols(n);
        std::vector<uint32_t> payload(n), at(n);
        std::vector<char> nulls(n), shrt(n);
        for (uint32_t i = 0; i < n; i++) {
            cols[i] = kinds[next() % 6];
            payload[i] = next() % 300;
            nulls[i] = next() % 4 == 0;
        }
        bool *nb = reinterpret_cast<bool *>(nulls.data());
        bool *sb = reinterpret_cast<bool *>(shrt.data());
        RowPlacement p = place_row(cols.data(), n, payload.data(), nb, at.data(), sb);
        RowCursor c;
        bool any_null = false;
        for (uint32_t i = 0; i < n; i++) {
            if (nb[i]) {
                any_null = true;
                continue;
            }
            bool s = false;
            uint32_t a = cols[i].len > 0 ? c.fixed(cols[i]) : c.varlena(cols[i], payload[i], s);
            ASSERT_EQ(a, at[i]);
            if (cols[i].len > 0) {
                ASSERT_EQ(a % cols[i].align, 0u);
            } else {
                ASSERT_EQ(s, sb[i]);
                ASSERT_EQ(s, cols[i].packable && payload[i] <= 126);
                if (!s) {
                    ASSERT_EQ(a % cols[i].align, 0u);
                }
            }
        }
        ASSERT_EQ(p.data_len, c.off);
        ASSERT_EQ(p.has_nulls, any_null);
        ASSERT_EQ(p.total, p.header + p.data_len);
    }
}

}  // namespace ut_row_layout_test
