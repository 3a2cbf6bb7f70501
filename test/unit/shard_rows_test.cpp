// The shards' binary rows (core/shard_rows): the layout as the header documents it, written
// here byte by byte; values and NULLs read back; malformed buffers refused with 22P03.
#include "core/error.hpp"
#include "core/shard_rows.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ut_shard_rows_test {  // one per test file: the unity build (CMakeLists.txt)

using namespace ducache::core;

namespace {

template <typename T>
void put(std::string &out, T v)
{
    for (size_t b = 0; b < sizeof v; b++)
        out.push_back(char(uint64_t(v) >> (8 * b) & 0xff));
}

const std::vector<ColumnKind> kCols = {ColumnKind::text, ColumnKind::int8, ColumnKind::numeric, ColumnKind::int4,
                                       ColumnKind::date};

std::string two_rows()
{
    RowsWriter w(kCols);
    w.text("u1");
    w.int8(-5);
    w.numeric("0.0012345678911");
    w.int4(7);
    w.int4(9190);
    w.end_row();
    w.null();
    w.int8(INT64_MAX);
    w.null();
    w.null();
    w.int4(-1);
    w.end_row();
    return w.finish();
}

void expect_22p03(const std::string &bytes, const std::string &part_of_detail)
{
    try {
        RowsReader r(bytes.data(), bytes.size(), 3);
        std::string_view s;
        int64_t i;
        for (uint32_t row = 0; row < r.rows(); row++)
            for (ColumnKind k : r.columns())
                r.next(k, s, i);
        r.finish();
        FAIL() << "accepted: " << part_of_detail;
    } catch (const Error &e) {
        EXPECT_STREQ(e.sqlstate, "22P03");
        EXPECT_NE(e.detail.find("Partial 3"), std::string::npos) << e.detail;
        EXPECT_NE(e.detail.find(part_of_detail), std::string::npos) << e.detail;
    }
}

}  // namespace

TEST(ShardRows, WritesTheDocumentedLayout)
{
    std::string expected = "DUSR";
    put<uint8_t>(expected, 1);
    put<uint8_t>(expected, 5);
    for (uint8_t k : {1, 3, 4, 2, 5})
        put<uint8_t>(expected, k);
    put<uint32_t>(expected, 2);
    put<uint8_t>(expected, 0), put<uint32_t>(expected, 2), expected += "u1";
    put<uint8_t>(expected, 0), put<int64_t>(expected, -5);
    put<uint8_t>(expected, 0), put<uint32_t>(expected, 15), expected += "0.0012345678911";
    put<uint8_t>(expected, 0), put<int32_t>(expected, 7);
    put<uint8_t>(expected, 0), put<int32_t>(expected, 9190);
    put<uint8_t>(expected, 1);
    put<uint8_t>(expected, 0), put<int64_t>(expected, INT64_MAX);
    put<uint8_t>(expected, 1);
    put<uint8_t>(expected, 1);
    put<uint8_t>(expected, 0), put<int32_t>(expected, -1);
    EXPECT_EQ(two_rows(), expected);
}

TEST(ShardRows, ReadsBackValuesAndNulls)
{
    std::string b = two_rows();
    RowsReader r(b.data(), b.size(), 1);
    ASSERT_EQ(r.columns(), kCols);
    ASSERT_EQ(r.rows(), 2u);
    std::string_view s;
    int64_t i = 0;
    ASSERT_TRUE(r.next(ColumnKind::text, s, i));
    EXPECT_EQ(s, "u1");
    ASSERT_TRUE(r.next(ColumnKind::int8, s, i));
    EXPECT_EQ(i, -5);
    ASSERT_TRUE(r.next(ColumnKind::numeric, s, i));
    EXPECT_EQ(s, "0.0012345678911");
    ASSERT_TRUE(r.next(ColumnKind::int4, s, i));
    EXPECT_EQ(i, 7);
    ASSERT_TRUE(r.next(ColumnKind::date, s, i));
    EXPECT_EQ(i, 9190);
    EXPECT_FALSE(r.next(ColumnKind::text, s, i));
    ASSERT_TRUE(r.next(ColumnKind::int8, s, i));
    EXPECT_EQ(i, INT64_MAX);
    EXPECT_FALSE(r.next(ColumnKind::numeric, s, i));
    EXPECT_FALSE(r.next(ColumnKind::int4, s, i));
    ASSERT_TRUE(r.next(ColumnKind::date, s, i));
    EXPECT_EQ(i, -1);
    r.finish();
}

TEST(ShardRows, MalformedBuffersAreRefused)
{
    std::string good = two_rows();
    for (size_t n = 0; n < good.size(); n++)
        expect_22p03(good.substr(0, n), "the buffer ends inside");
    expect_22p03("DUSP" + good.substr(4), "ducache shard rows mark");
    std::string v = good;
    v[4] = 2;
    expect_22p03(v, "version 2 is not the supported version 1");
    std::string k = good;
    k[6] = 9;
    expect_22p03(k, "column 1 has unknown kind 9");
    expect_22p03(good + "z", "1 bytes follow the last row");
    expect_22p03(std::string("DUSR\x01\x00\xff\xff\xff\xff", 10), "it has no columns");
    std::string flag = good;
    flag[4 + 1 + 1 + 5 + 4] = 2;  // the first value's NULL flag
    expect_22p03(flag, "a NULL flag is 2");
    RowsWriter w({ColumnKind::numeric});
    w.numeric("12 apples");
    w.end_row();
    expect_22p03(w.finish(), "a numeric value is not a number");
}

}  // namespace ut_shard_rows_test
