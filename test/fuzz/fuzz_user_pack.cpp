// libFuzzer target: the packed users column (core/user_pack.hpp) from arbitrary bytes. parse()
// refuses or accepts, never reads out of bounds; what it accepts decodes (or refuses a value past
// its header's largest), and a pack written again from the decoded values reads back the same
// values. Seeds: test/fuzz/corpus/fuzz_user_pack.
#include "core/decimal.hpp"
#include "core/user_pack.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    using namespace ducache::core;
    UserPackView view;
    if (!view.parse(reinterpret_cast<const char *>(data), size))
        return 0;
    const uint32_t n = view.users();
    std::vector<std::vector<int64_t>> arrays(kUserPackArrays, std::vector<int64_t>(n));
    const int64_t *ptrs[kUserPackArrays];
    for (int a = 0; a < kUserPackArrays; a++) {
        if (!view.decode(a, arrays[a].data()))
            return 0;
        ptrs[a] = arrays[a].data();
    }
    UserPackWriter w(std::pmr::get_default_resource());
    UserPackView::Cursor c(view);
    std::vector<std::string> names(n);
    std::vector<EntryValues> values(n);
    std::vector<Decimal> keycosts(n);
    for (uint32_t i = 0; i < n; i++) {
        std::string_view name, rec;
        c.next(name, rec);
        names[i] = std::string(name);
        PackIdentity id = UserPackView::identity(rec);
        pack_entry_values(view, ptrs, i, values[i]);
        if (view.has_bounds())
            pack_keycost(view, ptrs, i, keycosts[i]);
        w.add(name, values[i], view.has_bounds() ? &keycosts[i] : nullptr, ptrs[kPackKeyMag][i], id);
    }
    std::string again;
    if (!w.finish(again))
        return 0;  // e.g. a value scaled past int64 at a larger scale
    UserPackView v2;
    if (!v2.parse(again.data(), again.size()) || v2.users() != n)
        abort();
    UserPackView::Cursor c2(v2);
    for (int a = 0; a < kUserPackArrays; a++) {
        std::vector<int64_t> b(n);
        if (!v2.decode(a, b.data()))
            abort();
    }
    for (uint32_t i = 0; i < n; i++) {
        std::string_view name, rec;
        c2.next(name, rec);
        if (name != names[i])
            abort();
    }
    return 0;
}
