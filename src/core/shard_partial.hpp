// The binary partial a shard returns for a model or provider read (docs/scale-out.md), built
// on the shard and merged on the coordinator by this code: per key the exact sums, the day set
// (bits over day offsets from the range's start), the own "provider" field with its day, and
// the distinct users (and, for providers, models). Sets are united when partials merge: the
// same user may sit in a home day's entry on shard 0 and in a split day's entry on its shard.
//
// Wire layout (little-endian, version 2):
//   "DUSP" | uint8 version | uint8 kind | uint16 0 |
//   uint32 user count, bytes users (strictly increasing: the partial's user dictionary) |
//   uint32 key count |
//   per key: bytes key | uint8 flags (1 row, 2 field, 4 users) |
//            row:   six int64 counts, bytes cost (JSON number text), uint32 first word,
//                   uint32 word count, the words (uint64; bit b of word w = day 64 w + b) |
//            field: int32 day, bytes provider |
//            uint32 user count, the users as positions in the dictionary, increasing, each
//                   written as a varint (LEB128) of its distance to the previous one minus 1
//                   (the first: its position) |
//            uint32 model count, bytes models (strictly increasing) |
//   summary only: int64 active users, six int64 counts, bytes cost, the cached days (uint32
//            first word, uint32 word count, the words), uint8 has top user,
//            [bytes top user, bytes its cost]
// Each user id is written once (version 1 wrote it under every key: 4x the bytes, and the
// coordinator hashed every (key, user) pair instead of every user).
// where "bytes" is uint32 length + the bytes. Decoding checks every length against what is
// left and throws Error 22P03 naming the partial and what is wrong; it never reads out of
// bounds. A new field means a new version: partials only travel between one ducache version.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/aggregator.hpp"
#include "core/error_text.hpp"
#include "core/metrics.hpp"

#include <cstdint>
#include <memory_resource>
#include <string>
#include <string_view>

namespace ducache::core {

constexpr uint8_t kShardPartialVersion = 2;

// model: keys are models (rows of a model breakdown, or of a filtered provider breakdown,
// grouped on the coordinator). provider: keys are providers. summary: one period's totals
// (the Summary block) and, when the top model is asked for, the models' sums as keys.
enum class PartialKind : uint8_t { model = 1, provider = 2, summary = 3 };

// Days as bits over day offsets, stored from the first word that has one.
struct DayBits {
    explicit DayBits(std::pmr::memory_resource *mr) : words(mr) {}
    uint32_t first = 0;  // word index of words[0]
    std::pmr::vector<uint64_t> words;

    void set_word(uint32_t word, uint64_t bits);
    // The days base + b >= 0 for every bit b of mask.
    void add(int32_t base, uint32_t mask);
    void merge(const DayBits &o);
    int32_t count() const;
    int32_t last() const;  // the latest day, -1 when none
};

class ShardPartial {
public:
    struct Extra {
        explicit Extra(std::pmr::memory_resource *mr)
            : days(mr), users(mr), user_bits(mr), last_object(mr), this_object(mr), models(mr) {}
        bool row = false;        // has usage (a result row); else it only carries a field
        bool has_users = false;  // some entry had per-user detail (else users prints NULL)
        int32_t field_day = -1;  // the own provider field's day offset; -1: none
        std::string_view field;
        DayBits days;
        std::pmr::vector<uint32_t> users;      // distinct user ids (ShardPartial::user), in first-seen order
        std::pmr::vector<uint64_t> user_bits;  // bit id: the user is in `users`
        // The ids of the key's previous users object, in its order, and of the one being read
        // (add_object_user), with the read position in the previous one.
        std::pmr::vector<uint32_t> last_object, this_object;
        size_t last_at = 0;
        std::pmr::vector<std::string_view> models;  // distinct; sorted by finish()
    };

    // A period's totals (ducache_period_summary): users are disjoint across shards, so active
    // users and the totals add; cached days are united; the top user is the best of the tops.
    struct Summary {
        explicit Summary(std::pmr::memory_resource *mr) : all(mr), cached(mr), top_cost(mr) {}
        int64_t active_users = 0;
        Totals all;
        DayBits cached;
        bool has_top = false;
        std::string_view top_user;
        DecimalSum top_cost;
    };

    ShardPartial(PartialKind kind, std::pmr::memory_resource *mr);
    PartialKind kind() const { return kind_; }

    size_t index_of(std::string_view key);
    const KeyAggregator &keys() const { return keys_; }
    Slot &slot(size_t i) { return keys_.slots()[i]; }
    const Slot &slot(size_t i) const { return keys_.slots()[i]; }
    Extra &extra(size_t i) { return extra_[i]; }
    const Extra &extra(size_t i) const { return extra_[i]; }

    // One entry's usage on the days base + bit of v.days; column/key/where name it on overflow.
    void add_usage(size_t i, const EntryValues &v, int32_t base, std::string_view column, std::string_view key,
                   const RowLabel &where);
    // The own "provider" field seen on `day`: the latest day wins (on one day, the bytewise
    // smaller value, so that the merge does not depend on the order of the shards).
    void saw_field(size_t i, int32_t day, std::string_view provider);
    void add_user(size_t i, std::string_view user);
    // The same for the keys of one users object of key i, in the object's order (a JSONB
    // object's: by length, then bytes), between begin_object_users and end_object_users. The
    // key's previous object lists mostly the same users in the same order, so a walk along it
    // finds most users with one comparison instead of a hash lookup.
    void begin_object_users(size_t i);
    void add_object_user(size_t i, std::string_view user);
    void end_object_users(size_t i);
    void add_user_id(size_t i, uint32_t id);
    std::string_view user(uint32_t id) const { return users_.slots()[id].key_view(); }
    void add_model(size_t i, std::string_view model);
    // A key's whole totals (a summary's models).
    void add_totals(size_t i, const Totals &t);
    Summary &summary() { return summary_; }
    // Keeps (user, cost) as the summary's top user when it beats the top so far: cost DESC,
    // then user in byte order (a one-node user breakdown's first row).
    void offer_top(std::string_view user, const DecimalSum &cost);
    const Summary &summary() const { return summary_; }

    // Sorts the sets and sets every slot's active_days from its day bits.
    void finish();
    std::string encode();
    // Adds one encoded partial (the `part`-th, for messages) into this one.
    void merge_encoded(const char *data, size_t len, int part);

    // The provider a model's row prints: its own field, else the rule by name.
    std::string_view model_provider(size_t i) const;
    // A model partial's rows summed by model_provider (filtered provider breakdowns).
    void group_by_provider(ShardPartial &out) const;

private:
    bool first_pair(size_t i, char tag, std::string_view member);

    PartialKind kind_;
    std::pmr::memory_resource *mr_;
    KeyAggregator keys_;
    std::pmr::vector<Extra> extra_;
    KeyAggregator users_;  // the user dictionary: a user's id is its slot index
    std::pmr::vector<uint32_t> part_users_;  // merge_encoded: dictionary position -> user id
    KeyAggregator seen_;  // (key index, tag, member) already in a set
    std::pmr::string buf_;
    std::pmr::vector<int32_t> stamp_;  // by slot: the last part that named the key
    Summary summary_;
};

}  // namespace ducache::core
