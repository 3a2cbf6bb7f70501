// How the user breakdown's identity lookup reads the users table (round 14 of issue 13): the
// rows of its keys only (`u.id::text = ANY($1)`, all keys as one text[]), or the whole table,
// each row matched to a key in the aggregator.
//
// Why: the filter is not free when the keys are many. The text cast keeps it off any index on
// id, so the executor reads every row of the table either way and hashes each id against the
// array; on top, the planner estimates the filter's selectivity once per array element
// (scalararraysel: ~1,900 instructions a key) and the array is built key by key. With 10,000
// keys and a 10,000-row table that was ~6,850 instructions an output key, ~5 ms of a ~33 ms
// call. Read whole, the table costs its scan and one hash lookup a row in the aggregator.
// The filter stays where the table is much larger than the keys (a day's few users against a
// large directory): there it keeps the rows handed over few, and with them the memory SPI
// holds. An estimate of -1 (never vacuumed or analyzed) says nothing: filter.
// Either way the same rows reach the aggregator (a row whose id is no key is skipped).
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include <cstddef>

namespace ducache::core {

// Rows of the users table a key may bring along before the lookup filters by the keys.
constexpr double kUsersWholeTableRowsPerKey = 4;

// The users table's rows now, as the planner estimates them (estimate_rel_size): the density of
// its last VACUUM/ANALYZE (reltuples over relpages) times its pages now, so a table grown far since
// its statistics is not taken for the small one it was. -1: unknown (never vacuumed or analyzed,
// or no pages then but some now). A relation without storage passes pages_now = relpages.
constexpr double users_table_rows_now(double reltuples, double relpages, double pages_now)
{
    if (reltuples < 0)
        return -1;
    if (relpages > 0)
        return reltuples / relpages * pages_now;
    return pages_now > 0 ? -1 : reltuples;
}

// table_rows: the table's row estimate (pg_class.reltuples; -1 unknown); keys: the keys to look up.
constexpr bool users_lookup_reads_whole_table(double table_rows, size_t keys)
{
    return keys > 0 && table_rows >= 0 && table_rows <= kUsersWholeTableRowsPerKey * double(keys);
}

}  // namespace ducache::core
