// The packed users column of a rollup row (user_pack bytea: docs/rollups.md "Round 14: the
// packed users column"): what the unfiltered dashboard reads of each user entry of the row's
// user_totals, as narrow fixed-width arrays, so a call no longer detoasts and walks the JSONB.
//
// Self-describing: a pack names its own users (no dictionary table), in user_totals' object
// order. Written by the same code that derives user_totals (pg/rollup_derived.cpp), from the
// values the dashboard's readers decode from that user_totals, so it cannot disagree with it.
// When a value does not fit exactly (a cost of arbitrary precision, a scaled cost past int64, a
// display scale past 254) there is no pack (NULL): the dashboard then reads user_totals.
//
// Format, version 1 (integers little-endian; every length checked by UserPackView::parse):
//   0   "DUP" 0x01                       magic and version
//   4   u8 flags                         bit 0: the bounds (keycost, keymag) are present
//   5   u8 cost scale                    costs are stored as integers times 10^scale
//   6   u8 keycost scale
//   7   u8 reserved (0)
//   8   u32 users                        n
//   12  u32 names bytes, u32 identities bytes
//   20  9 array descriptors of 16 bytes: u8 width (0, 1, 2, 4, 8), 7 bytes 0, i64 the largest
//       absolute value of the array (its values are checked against it when decoded)
//   164 names block: per user, varint length + the user id's bytes
//       identities block: per user, varint length + record (empty: no identity strings;
//       else varint length + username, varint length + email, the rest role)
//       u8[n] cost display scales (255: the entry had no cost), u8[n] keycost display scales
//       (only with the bounds), then the 9 arrays (n x width bytes each, signed): requests,
//       the five other counts (core::Metric order 0..5), cost, keycost, keymag (-1: a magnitude
//       the reader does not take: the call then takes the full walk of the top key).
// Width 0: every value is 0. Nothing may follow the last array.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/decimal.hpp"
#include "core/metrics.hpp"
#include "core/user_columns.hpp"

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <string>
#include <string_view>
#include <vector>

namespace ducache::core {

enum UserPackArray : int {
    kPackCost = kCountMetrics,  // 0..5: the counts in Metric order
    kPackKeyCost,
    kPackKeyMag,
    kUserPackArrays
};

constexpr uint8_t kUserPackVersion = 1;
constexpr size_t kUserPackHeader = 20 + 16 * kUserPackArrays;
constexpr uint8_t kPackNoCost = 255;
static_assert(kPackNoCost == kColumnNoCost, "the columns read the pack's display scales");

// One user entry's identity strings (a rollup entry's "~identity": core/rollup_identity.hpp).
struct PackIdentity {
    std::string_view username, email, role;
    bool empty() const { return username.empty() && email.empty() && role.empty(); }
};

class UserPackWriter {
public:
    explicit UserPackWriter(std::pmr::memory_resource *mr);
    // One user entry, in the row's object order: its values as the readers decoded them (counts,
    // cost when cost_seen), its bound members (keycost; keymag < 0: one the reader does not
    // take), its identity strings.
    void add(std::string_view user, const EntryValues &v, const Decimal *keycost, int64_t keymag,
             const PackIdentity &identity);
    // Some entry of the row lacks the bound members: the pack carries none (the reader then
    // takes the full walk of the top key, as for such a row's user_totals).
    void no_bounds() { bounds_ = false; }
    // The pack into out; false when a value does not fit exactly (the column is then NULL).
    bool finish(std::string &out);

private:
    struct Scaled {
        __int128 mantissa = 0;
        int scale = 0, dscale = 0;
        bool seen = false;
    };
    bool take(const Decimal *d, Scaled &out);
    std::pmr::memory_resource *mr_;
    bool bounds_ = true, fits_ = true;
    uint32_t users_ = 0;
    std::pmr::string names_, idents_;
    std::pmr::vector<int64_t> counts_;  // users x kCountMetrics
    std::pmr::vector<Scaled> costs_, keycosts_;
    std::pmr::vector<int64_t> keymags_;
};

// A pack's bytes, checked: parse() is false for anything malformed (never reads out of bounds).
// The views point into the bytes, which must outlive the view.
class UserPackView {
public:
    // blocks false: the names and identities blocks' items are not walked (their lengths are):
    // the caller then checks them with check_blocks(), or knows them byte-identical to blocks
    // that passed it (a pack row repeating the previous row's users).
    bool parse(const char *data, size_t len, bool blocks = true);
    bool check_blocks() const;
    // check_blocks() and the Cursor's walk in one pass: false exactly when check_blocks() is;
    // else names[i] and records[i] (room for users() each) are what the Cursor gives.
    bool walk_blocks(std::string_view *names, std::string_view *records) const;
    uint32_t users() const { return users_; }
    bool has_bounds() const { return bounds_; }
    int cost_scale() const { return cost_scale_; }
    int keycost_scale() const { return keycost_scale_; }
    int width(int array) const { return width_[array]; }
    int64_t max_abs(int array) const { return max_[array]; }
    // The names block (per user: varint length + bytes): byte-identical blocks name the same
    // users in the same order.
    std::string_view names_block() const { return {names_, names_len_}; }
    std::string_view identities_block() const { return {idents_, idents_len_}; }
    // Array `array` into out[0..users()): false when a value exceeds the header's largest.
    bool decode(int array, int64_t *out) const;
    uint8_t cost_dscale(uint32_t i) const { return uint8_t(cost_dscales_[i]); }
    uint8_t keycost_dscale(uint32_t i) const { return uint8_t(keycost_dscales_[i]); }
    // All users' display scales (keycost: with the bounds only, else nullptr).
    const uint8_t *cost_dscales() const { return reinterpret_cast<const uint8_t *>(cost_dscales_); }
    const uint8_t *keycost_dscales() const { return reinterpret_cast<const uint8_t *>(keycost_dscales_); }

    // The users in order: name and identity record (bytes that determine the identity).
    class Cursor {
    public:
        explicit Cursor(const UserPackView &v) : name_(v.names_), ident_(v.idents_) {}
        // Over a copy of a checked pack's two blocks (core/user_directory.hpp).
        Cursor(const char *names_block, const char *identities_block) : name_(names_block), ident_(identities_block) {}
        void next(std::string_view &name, std::string_view &identity_record);

    private:
        const char *name_, *ident_;
    };
    // An identity record's strings (a record from this view's Cursor).
    static PackIdentity identity(std::string_view record);

private:
    uint32_t users_ = 0;
    bool bounds_ = false;
    int cost_scale_ = 0, keycost_scale_ = 0;
    int width_[kUserPackArrays] = {};
    int64_t max_[kUserPackArrays] = {};
    const char *names_ = nullptr, *idents_ = nullptr, *cost_dscales_ = nullptr, *keycost_dscales_ = nullptr;
    size_t names_len_ = 0, idents_len_ = 0;
    const char *arrays_[kUserPackArrays] = {};
};

// A user's values from a decoded pack (arrays[a][i]: UserPackView::decode of array a): what the
// readers decoded from the entry (counts, cost with its display scale; the bounds apart).
void pack_entry_values(const UserPackView &view, const int64_t *const arrays[kUserPackArrays], uint32_t i,
                       EntryValues &out);
// The decoded arrays (as for pack_entry_values) as the dashboard's columns: every user's
// pack_entry_values, column by column (core/user_columns.hpp).
UserColumns pack_columns(const UserPackView &view, const int64_t *const arrays[kUserPackArrays]);
// The user's keycost as a Decimal (with the bounds only).
void pack_keycost(const UserPackView &view, const int64_t *const arrays[kUserPackArrays], uint32_t i, Decimal &out);

}  // namespace ducache::core
