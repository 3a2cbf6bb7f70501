// The dashboard's reader of one rollup row's user_pack (core/user_pack.hpp): the pack checked,
// its arrays decoded into memory of the call's context, its users handed on one by one.
#pragma once

#include "core/metrics.hpp"
#include "core/user_pack.hpp"

#include "pg/context_resource.hpp"
#include "pg/postgres.hpp"

#include <memory_resource>
#include <string_view>

namespace ducache::pg {

#ifdef DUCACHE_TEST_HOOKS
// Test builds: the packs PackRow::decode decoded in this backend (ducache_test_pack_decodes).
inline uint64_t pack_decodes_for_tests = 0;
#endif

// A rollup row's user_pack (core/user_pack.hpp), checked and decoded: its users in user_totals'
// order with the values the readers decode from that user_totals. The arrays' memory is reused
// from row to row.
class PackRow {
public:
    // The arrays come from cxt (the call's context), as every container of a call's reading.
    explicit PackRow(MemoryContext cxt) : memory_(cxt), values_(&memory_) {}
    // The pack's header and lengths checked, nothing decoded: false when the row has no usable
    // pack (NULL, malformed). Then has_bounds() tells whether it carries the top key's bounds.
    bool parse(const bytea *b) { return b != nullptr && view_.parse(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b)); }
    bool has_bounds() const { return view_.has_bounds(); }
    // The parsed pack's arrays: false when a value is past its header's largest. bounds: the
    // keycost and keymag arrays are read too (the range's rows; each() then hands them in).
    bool decode(bool bounds)
    {
#ifdef DUCACHE_TEST_HOOKS
        pack_decodes_for_tests++;
#endif
        const size_t n = view_.users();
        values_.resize(n * core::kUserPackArrays);
        bounds_ = bounds;
        for (int a = 0; a < (bounds ? core::kUserPackArrays : core::kPackKeyCost); a++) {
            arrays_[a] = values_.data() + size_t(a) * n;
            if (!view_.decode(a, values_.data() + size_t(a) * n))
                return false;
        }
        return true;
    }
    uint32 users() const { return view_.users(); }
    // f(index, user, identity record, values, keycost (nullptr: no bounds), keymag) per user.
    template <typename F>
    void each(F &&f)
    {
        core::UserPackView::Cursor c(view_);
        const bool bounds = bounds_ && view_.has_bounds();
        for (uint32 i = 0; i < view_.users(); i++) {
            std::string_view user, identity;
            c.next(user, identity);
            core::pack_entry_values(view_, arrays_, i, values_in_);
            if (bounds)
                core::pack_keycost(view_, arrays_, i, keycost_);
            f(i, user, identity, values_in_, bounds ? &keycost_ : nullptr, bounds ? arrays_[core::kPackKeyMag][i] : -1);
        }
    }

private:
    core::UserPackView view_;
    bool bounds_ = false;
    ContextResource memory_;
    std::pmr::vector<int64_t> values_;
    const int64_t *arrays_[core::kUserPackArrays] = {};
    core::EntryValues values_in_{};
    core::Decimal keycost_;
};

}  // namespace ducache::pg
