// libFuzzer target: the coordinator's binary partials (core/dashboard_partial.hpp, the
// dashboard's, and core/filter_options_partial.cpp's) from arbitrary bytes. Reading must throw
// core::Error (22P03) or succeed, never read out of bounds; what succeeds round-trips
// (serialize -> deserialize -> serialize is the identity), merges into a state, and renders a
// document. The first byte picks the kind. Seeds: test/fuzz/corpus/fuzz_dashboard_partial.
#include "core/dashboard.hpp"
#include "core/dashboard_partial.hpp"
#include "core/error.hpp"
#include "core/filter_options.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace ducache::core;
    if (size == 0)
        return 0;
    const char *bytes = reinterpret_cast<const char *>(data + 1);
    size_t len = size - 1;
    auto *mr = std::pmr::get_default_resource();
    if (data[0] & 1) {
        FilterOptionsBuilder b(mr);
        try {
            b.merge_partial(bytes, len);
        } catch (const Error &e) {
            if (std::strcmp(e.sqlstate, "22P03") != 0)
                abort();
            return 0;
        }
        std::string again = b.partial();
        FilterOptionsBuilder c(mr);
        c.merge_partial(again.data(), again.size());
        if (c.partial() != again || c.document() != b.document())
            abort();
        return 0;
    }
    DashboardState s(mr);
    try {
        deserialize_dashboard_state(bytes, len, s);
    } catch (const Error &e) {
        if (std::strcmp(e.sqlstate, "22P03") != 0)
            abort();
        return 0;
    }
    std::string again = serialize_dashboard_state(s);
    DashboardState t(mr);
    deserialize_dashboard_state(again.data(), again.size(), t);
    if (serialize_dashboard_state(t) != again)
        abort();
    // Merged twice (as two shards' partials) and rendered: a count may overflow (22003).
    DashboardBuilder b(mr, DashboardOptions{});
    try {
        b.merge_partial(again.data(), again.size());
        b.merge_partial(again.data(), again.size());
        b.document("2025-03-01", "2025-03-31");
    } catch (const Error &e) {
        if (std::strcmp(e.sqlstate, "22003") != 0)
            abort();
    }
    return 0;
}
