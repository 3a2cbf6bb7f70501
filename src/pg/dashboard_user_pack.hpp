// The dashboard's reader of one rollup row's user_pack (core/user_pack.hpp): the pack checked,
// its arrays decoded into memory of the call's context, its users' names walked once (the
// builder then takes its columns: core/user_columns.hpp).
#pragma once

#include "core/metrics.hpp"
#include "core/user_columns.hpp"
#include "core/user_pack.hpp"

#include "pg/context_resource.hpp"
#include "pg/postgres.hpp"

#include <cstring>
#include <memory_resource>
#include <string>
#include <string_view>

namespace ducache::pg {

// A rollup row's user_pack (core/user_pack.hpp), checked and decoded: its users in user_totals'
// order with the values the readers decode from that user_totals. The arrays' memory is reused
// from row to row.
class PackRow {
public:
    // The arrays come from cxt (the call's context), as every container of a call's reading.
    explicit PackRow(MemoryContext cxt) : memory_(cxt), values_(&memory_) {}
    // False when the row has no usable pack (NULL, malformed, a value past its header's largest).
    // bounds: the keycost and keymag arrays are read too (the range's rows; each() then hands
    // them in).
    // A row whose user count and names and identities blocks are byte-identical to the previous
    // pack row's of the same period (repeats(): the months and blocks of a period list the same users) is not
    // walked again: those blocks passed check_blocks(), and the row's users are that row's, in
    // the same order, so its index() is still theirs.
    bool read(const bytea *b, bool bounds)
    {
        if (b == nullptr || !view_.parse(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), false))
            return false;
        const std::string_view names = view_.names_block(), idents = view_.identities_block();
        repeats_ = known_ && known_period_ == bounds && view_.users() == known_users_ && names_copy_.same(names) &&
                   idents_copy_.same(idents);
        if (!repeats_) {
            known_ = false;
            if (!view_.check_blocks())
                return false;
            names_copy_.keep(memory_, names);
            idents_copy_.keep(memory_, idents);
            known_ = true;
            known_period_ = bounds;
            known_users_ = view_.users();
        }
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
    // The row repeats the previous pack row's users (read()): index() holds their slots, and
    // each user's identity record is the one that row handed in.
    bool repeats() const { return repeats_; }
    // A row of another kind came between (a day row): the next pack row is walked.
    void forget() { known_ = false; }
    // The users' names and (records: also) identity records, in order, into names() and
    // records(): the bytes the column path needs of the two blocks (parse() checked them).
    void walk_names(bool records)
    {
        const uint32 n = view_.users();
        names_.resize(n);
        index_.resize(n);
        records_.resize(records ? n : 0);
        core::UserPackView::Cursor c(view_);
        std::string_view record;
        for (uint32 i = 0; i < n; i++)
            c.next(names_[i], records ? records_[i] : record);
    }
    const std::string_view *names() const { return names_.data(); }
    const std::string_view *records() const { return records_.data(); }
    // Room for the users' indexes (the builder's slots), users() of them.
    uint32 *index() { return index_.data(); }
    // The counts and cost (core/user_columns.hpp).
    core::UserColumns columns() const { return core::pack_columns(view_, arrays_); }
    // The bounds (read with bounds, and the pack has them): "~keycost" at keycost_scale() with
    // its display scales, "~keymag".
    bool has_bounds() const { return bounds_ && view_.has_bounds(); }
    const int64_t *keycost() const { return arrays_[core::kPackKeyCost]; }
    const uint8_t *keycost_dscales() const { return view_.keycost_dscales(); }
    int keycost_scale() const { return view_.keycost_scale(); }
    const int64_t *keymag() const { return arrays_[core::kPackKeyMag]; }

private:
    core::UserPackView view_;
    bool bounds_ = false;
    ContextResource memory_;
    std::pmr::vector<int64_t> values_;
    const int64_t *arrays_[core::kUserPackArrays] = {};
    std::pmr::vector<std::string_view> names_{&memory_}, records_{&memory_};
    std::pmr::vector<uint32> index_{&memory_};
    // The blocks of the last row walked (known_), read with bounds (known_period_: the range).
    struct Copy {  // bytes kept (a buffer reused while large enough)
        char *bytes = nullptr;
        size_t len = 0, room = 0;
        void keep(ContextResource &mr, std::string_view from)
        {
            if (from.size() > room) {
                if (bytes != nullptr)
                    mr.deallocate(bytes, room, 8);
                room = from.size() + from.size() / 4;
                bytes = static_cast<char *>(mr.allocate(room, 8));  // freed with the call's context
            }
            if (!from.empty())
                std::memcpy(bytes, from.data(), from.size());
            len = from.size();
        }
        bool same(std::string_view b) const { return b.size() == len && (len == 0 || std::memcmp(b.data(), bytes, len) == 0); }
    };
    Copy names_copy_, idents_copy_;
    bool known_ = false, known_period_ = false, repeats_ = false;
    uint32 known_users_ = 0;
};

}  // namespace ducache::pg
