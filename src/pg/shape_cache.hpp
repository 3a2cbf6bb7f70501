// The layout a breakdown's entry objects share, remembered (issue 13): the core's plan of an
// entry object, kept per layout and reused while the next object's header, key JEntries and key
// bytes are the same bytes; its direct reads, its program (dense5, dense7, nested, general) and
// LiteMaaS' two layouts known at compile time. Split from pg/entry_fast.hpp (its reader) to keep
// each file to one job.
#pragma once

#include "core/entry_rules.hpp"
#include "core/metrics.hpp"
#include "core/same_bytes.hpp"

#include "pg/jsonb_object_view.hpp"

#include <cstring>

namespace ducache::pg::entry_fast {


// Entries of one breakdown almost always share their key set. Classifying keys is a switch per
// key; comparing the object's key bytes with the previous object's is one memcmp, so the core's
// plan is remembered per object layout and reused while the bytes match.
// LiteMaaS' "metrics" counts in member order (JSONB's key order: "api_requests",
// "total_tokens", "prompt_tokens", "failed_requests", "completion_tokens",
// "successful_requests", after "spend"): a dense7 layout with this order adds its counts at
// constant places of the slot (round 13 of issue 13).
inline constexpr core::Metric kLiteMaaSCounts[6] = {core::kRequests, core::kTotalTokens, core::kPromptTokens,
                                                    core::kFailedRequests, core::kCompletionTokens,
                                                    core::kSuccessfulRequests};
// Those names' key bytes: "spend", then the six above.
inline constexpr uint32 kLiteMaaSMetricsKeys = 5 + 12 + 12 + 13 + 15 + 17 + 19;
// LiteMaaS' user entry: its six keys' bytes in JSONB's key order, and its members' indexes.
inline constexpr char kLiteMaaSEntryKeyBytes[] = "roleemailmodelsuserIdmetricsusername";
inline constexpr uint32 kLiteMaaSEntryMembers = 6, kLiteMaaSEntryKeys = sizeof kLiteMaaSEntryKeyBytes - 1;
// A LiteMaaS user id's length (a UUID's text): the breakdown's hint compare at that size.
constexpr size_t kLiteMaaSKeyLen = 36;
struct LiteMaaSEntry {
    static constexpr int32 role = 0, email = 1, metrics = 4, username = 5;
};

class ShapeCache {
public:
    const core::EntryPlan &plan(const JsonbObjectView &view)
    {
        const ObjectWalker &walk = view.walker();
        uint32 n = walk.size(), keys_len = walk.key_bytes_len();
        if (head_[0] == (JB_FOBJECT | n) && keys_len == keys_len_ &&
            core::same_bytes(walk.key_entries(), head_ + 1, n * sizeof(JEntry)) &&
            core::same_bytes(walk.key_bytes(), bytes_, keys_len))
            return plan_;
        if (n > kMaxKeys || keys_len > sizeof bytes_) {
            core::plan_entry(view, scratch_);  // too big to remember: planned for this object only
            return scratch_;
        }
        core::plan_entry(view, plan_);
        head_[0] = JB_FOBJECT | n;
        std::memcpy(head_ + 1, walk.key_entries(), n * sizeof(JEntry));
        std::memcpy(bytes_, walk.key_bytes(), keys_len);
        count_ = n;
        keys_len_ = keys_len;
        head_copy_.set(head_, (n + 1) * sizeof(uint32));
        keys_copy_.set(bytes_, keys_len);
        split_direct_reads();
        return plan_;
    }

    // Whether object c has the remembered layout (then plan_ is its plan): its header, then its
    // header and key JEntries (back to back: one compare), then its key bytes, compared without
    // building a view (no pass over the JEntries). Each compare reads only what the one before
    // showed to be c's: the member count its JEntries, the key JEntries where its key bytes end.
    __attribute__((always_inline)) bool matches(const JsonbContainer *c) const
    {
        return c->header == head_[0] && core::same_bytes_likely(c, head_, (count_ + 1) * sizeof(uint32)) &&
               core::same_bytes_likely(reinterpret_cast<const char *>(&c->children[2 * count_]), bytes_, keys_len_);
    }
    // matches() for a remembered layout of kN members (program() dense5 / dense7), by its
    // aligned copies (core::RememberedBytes, round 13 of issue 13): its header and key JEntries,
    // 4 * (kN + 1) bytes, at that size (no jump, no length test), then its key bytes (one jump
    // into ceil(n / 16) compares: a nested entry's "metrics", 93 bytes, is 6 where
    // same_bytes_likely's halves are 8).
    template <uint32 kN>
    __attribute__((always_inline)) bool matches_n(const JsonbContainer *c) const
    {
        return c->header == head_[0] && head_copy_.same_n<4 * (kN + 1)>(c) &&
               keys_copy_.same(reinterpret_cast<const char *>(&c->children[2 * kN]));
    }
    // matches_n() when the key bytes are known to be kKeys long too (a LiteMaaS layout).
    template <uint32 kN, uint32 kKeys>
    __attribute__((always_inline)) bool matches_nk(const JsonbContainer *c) const
    {
        return c->header == head_[0] && head_copy_.same_n<4 * (kN + 1)>(c) &&
               keys_copy_.same_n<kKeys>(reinterpret_cast<const char *>(&c->children[2 * kN]));
    }
    const core::EntryPlan &remembered() const { return plan_; }
    // plan_'s direct reads split for the fast path: the counts' members and metrics, the cost's
    // member (-1: none); direct_ is false when the layout has no direct reads.
    struct DirectReads {
        bool direct = false;
        int32 count_members = 0;
        int32 member[core::kCountMetrics];
        core::Metric metric[core::kCountMetrics];
        int32 cost_member = -1;
        // Every member is a direct read (direct_count == count_: a flat entry, a nested entry's
        // "metrics"): metric_at[j] is member j's metric, read in one pass (read_direct_dense).
        bool dense = false;
        core::Metric metric_at[core::kMetricCount];
    };
    const DirectReads &direct_reads() const { return direct_; }
    // What the fast read does with the remembered layout, chosen when it is remembered (round 12
    // of issue 13: the per-entry tests of `dense`, the member count and the cost's place go):
    // dense5 / dense7, a dense layout of 5 / 7 members with the cost first (a flat entry's
    // "totalCost", a nested "metrics"' "spend": the shortest key) and 4 / 6 counts after it
    // (count_metrics()); nested, a layout with a "metrics" object; general, any other.
    enum class Program : uint8_t { general, dense5, dense7, nested };
    Program program() const { return program_; }
    // The dense program of N members (the dense loops' template argument: 5 or 7).
    template <int N>
    static constexpr Program dense_program()
    {
        static_assert(N == 5 || N == 7, "the dense programs");
        return N == 5 ? Program::dense5 : Program::dense7;
    }
    // A dense program's count members' metrics, in member order (distinct: core::plan_direct_reads).
    const core::Metric *count_metrics() const { return direct_.metric_at + 1; }
    // LiteMaaS' user entry layout (kLiteMaaSEntryKeyBytes, planned as LiteMaaSEntry's indexes,
    // no "~days"): the nested program with its member indexes and sizes known at compile time.
    bool litemaas_entry() const { return litemaas_entry_; }
    // A dense7 layout with LiteMaaS' "metrics" names: its counts in their order
    // (kLiteMaaSCounts), its key bytes kLiteMaaSMetricsKeys long.
    bool litemaas_metrics() const { return litemaas_metrics_; }
    // The remembered layout has a username, email or role member.
    bool has_identity() const { return identity_; }
    uint32 count() const { return count_; }
    uint32 keys_len() const { return keys_len_; }

private:
    void split_direct_reads()
    {
        direct_ = DirectReads();
        identity_ = plan_.username >= 0 || plan_.email >= 0 || plan_.role >= 0;
        direct_.direct = plan_.direct_count >= 0;
        for (int32_t r = 0; r < plan_.direct_count; r++) {
            if (plan_.direct[r].metric == core::kCost) {
                direct_.cost_member = plan_.direct[r].member;
            } else {
                direct_.member[direct_.count_members] = plan_.direct[r].member;
                direct_.metric[direct_.count_members++] = plan_.direct[r].metric;
            }
        }
        // plan_.direct lists the members in order: all of them when there are count_.
        direct_.dense = plan_.direct_count >= 1 && uint32(plan_.direct_count) == count_;
        for (int32_t r = 0; direct_.dense && r < plan_.direct_count; r++)
            direct_.metric_at[r] = plan_.direct[r].metric;
        program_ = Program::general;
        if (direct_.dense && direct_.metric_at[0] == core::kCost && (count_ == 5 || count_ == 7))
            program_ = count_ == 5 ? Program::dense5 : Program::dense7;
        else if (plan_.metrics_object >= 0)
            program_ = Program::nested;
        litemaas_entry_ = program_ == Program::nested && count_ == kLiteMaaSEntryMembers &&
                          keys_len_ == kLiteMaaSEntryKeys &&
                          std::memcmp(bytes_, kLiteMaaSEntryKeyBytes, kLiteMaaSEntryKeys) == 0 &&
                          plan_.role == LiteMaaSEntry::role && plan_.email == LiteMaaSEntry::email &&
                          plan_.metrics_object == LiteMaaSEntry::metrics &&
                          plan_.username == LiteMaaSEntry::username && plan_.days_mask < 0;
        litemaas_metrics_ = program_ == Program::dense7 && keys_len_ == kLiteMaaSMetricsKeys &&
                            std::equal(kLiteMaaSCounts, kLiteMaaSCounts + 6, direct_.metric_at + 1);
    }

    static constexpr uint32 kMaxKeys = 32;
    uint32 count_ = 0, keys_len_ = 0;
    // The container's first 4 * (count_ + 1) bytes: its header (JB_FOBJECT | count_; 0, which
    // matches no object, until a layout is remembered) and its key JEntries (the same key bytes
    // split differently would be another key set).
    uint32 head_[kMaxKeys + 1] = {};
    char bytes_[512];
    core::RememberedBytes head_copy_, keys_copy_;  // head_ and bytes_ for matches_n(), matches_nk()
    core::EntryPlan plan_, scratch_;
    DirectReads direct_;
    bool identity_ = false, litemaas_entry_ = false, litemaas_metrics_ = false;
    Program program_ = Program::general;
};

}  // namespace ducache::pg::entry_fast
