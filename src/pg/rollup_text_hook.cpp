// Test-only (make DUCACHE_TEST_HOOKS=1): ducache_test_rollup_text(first, last) -> text[6], the
// rollup documents of the cached days [first, last] as the builder's JSON text (JsonTextSink),
// in the order of the rollup columns (providers NULL when no day had stored providers). This
// is what the refresh wrote before it built jsonb directly (the text, cast to jsonb by
// jsonb_in): sql/78_rollup_jsonb compares the stored rollups with it byte for byte. Days are
// numbered from the month of `first`, as the refresh numbers them; it reads as the caller.
#ifdef DUCACHE_TEST_HOOKS

#include "core/error.hpp"
#include "core/rollup_builder.hpp"

#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/cache_table.hpp"
#include "pg/context_resource.hpp"
#include "pg/date_text.hpp"
#include "pg/rollup_refresh.hpp"
#include "pg/rollup_refresh_feed.hpp"

#include <string>

namespace {

using namespace ducache;
using namespace ducache::pg;

// The builder over the days; the documents as text in `out` (empty: NULL).
void rollup_text(const char *table, DateADT first, DateADT last, std::pmr::memory_resource *memory,
                 std::string out[core::kRollupDocuments])
{
    DateADT month = month_start(first);
    core::RollupBuilder b(memory, date_text(first));
    feed_rollup_span(b, table, month, first, last);
    b.end_days();
    for (int d = 0; d < core::kRollupDocuments; d++) {
        if (!b.has(core::RollupDocument(d)))
            continue;
        core::JsonTextSink sink;
        b.write(core::RollupDocument(d), sink);
        out[d] = sink.take();
    }
}

}  // namespace

DUCACHE_FUNCTION(ducache_test_rollup_text)
{
    DateADT first = PG_GETARG_DATEADT(0), last = PG_GETARG_DATEADT(1);
    const char *table = cache_table_name(fcinfo);
    MemoryContext work = new_work_context("ducache rollup text");
    std::string docs[core::kRollupDocuments];
    {
        ContextResource memory(work);
        rollup_text(table, first, last, &memory, docs);
    }
    delete_context(work);
    return pg_call([&] {
        Datum elems[core::kRollupDocuments];
        bool nulls[core::kRollupDocuments];
        for (int d = 0; d < core::kRollupDocuments; d++) {
            nulls[d] = docs[d].empty();
            elems[d] = nulls[d] ? (Datum)0 : PointerGetDatum(cstring_to_text_with_len(docs[d].data(), int(docs[d].size())));
        }
        int dims[1] = {core::kRollupDocuments}, lbs[1] = {1};
        return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
    });
}

#endif  // DUCACHE_TEST_HOOKS
