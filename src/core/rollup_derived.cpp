#include "core/rollup_derived.hpp"

namespace ducache::core {

// The bound members are the derived column's own (written from key_totals): a stored one is dropped.
bool user_totals_keeps(std::string_view member)
{
    return member != "models" && member != kKeyCostMember && member != kKeyMagMember;
}

bool model_totals_keeps(std::string_view member) { return member != "users" && member != "~named"; }

KeyTotalsWriter::KeyTotalsWriter(JsonSink &out, std::pmr::memory_resource *mr) : out_(out), mr_(mr), aliases_(mr)
{
    out_.begin_object();
}

void KeyTotalsWriter::add(std::string_view user, std::string_view alias, const EntryValues &cell,
                          const RowLabel &where)
{
    // A user's cells come together; a new user (compared by position: the views point into the
    // one document) writes the one before.
    if (!have_user_ || user.data() != user_.data() || user.size() != user_.size()) {
        flush_user();
        user_ = user;
        have_user_ = true;
    }
    AliasSum *sum = nullptr;
    for (AliasSum &s : aliases_)
        if (s.alias == alias)
            sum = &s;
    if (sum == nullptr)
        sum = &aliases_.emplace_back(AliasSum{alias, Totals(mr_), false});
    sum->totals.add_or_throw(cell.counts, cell.cost_seen ? &cell.cost : nullptr, "a rollup's key totals", alias, where);
    sum->cost_seen |= cell.cost_seen;
}

void KeyTotalsWriter::flush_user()
{
    if (aliases_.empty())
        return;
    out_.key(user_);
    out_.begin_object();
    UserKeyBound *bound = nullptr;
    if (bounds_ != nullptr) {
        bound = &bounds_->emplace_back();
        bound->user = user_;
    }
    for (const AliasSum &s : aliases_) {
        if (bound != nullptr)
            bound->add(s.totals);
        out_.key(s.alias);
        out_.begin_object();
        out_.key("metrics");
        out_.begin_object();
        for (int m = 0; m < kCountMetrics; m++) {
            out_.key(canonical_metric_name(Metric(m)));
            out_.integer(s.totals.counts[m]);
        }
        if (s.cost_seen) {
            out_.key(canonical_metric_name(kCost));
            out_.decimal_sum(s.totals.cost);
        }
        out_.end_object();
        out_.end_object();
    }
    out_.end_object();
    aliases_.clear();
}

void KeyTotalsWriter::finish()
{
    flush_user();
    out_.end_object();
}

}  // namespace ducache::core
