#include "core/shard_split.hpp"

#include "core/count_sum.hpp"

#include <utility>

namespace ducache::core {

void MetricSums::add(const EntryValues &v, std::string_view what, std::string_view key, const RowLabel &where)
{
    add_counts_or_throw(counts, v.counts, what, key, where);
    if (v.cost_seen)
        cost.add(v.cost);
    used = true;
}

std::string MetricSums::value_text(Metric m) const
{
    return m == kCost ? cost.to_string() : std::to_string(counts[m]);
}

const char *shard_metric_key(Metric m)
{
    switch (m) {
    case kRequests: return "api_requests";
    case kTotalTokens: return "total_tokens";
    case kPromptTokens: return "prompt_tokens";
    case kCompletionTokens: return "completion_tokens";
    case kSuccessfulRequests: return "successful_requests";
    case kFailedRequests: return "failed_requests";
    case kCost: return "spend";
    case kMetricCount: break;
    }
    return "";
}

ShardSplit::ShardSplit(int shards, std::vector<SplitModel> models) : models_(std::move(models)), shards_(shards)
{
    for (Shard &s : shards_)
        s.models.resize(models_.size());
}

void ShardSplit::add_user(int shard, std::string_view user, const EntryValues &own, const RowLabel &where)
{
    shards_[shard].total.add(own, "the total metrics of a shard", user, where);
}

void ShardSplit::add_cell(int shard, int model, std::string_view user, const EntryValues &cell,
                          const RowLabel &where)
{
    shards_[shard].models[model].add(cell, "a model on a shard", models_[model].name, where);
}

std::map<std::string, MetricSums> ShardSplit::providers(int shard, const RowLabel &where) const
{
    std::map<std::string, MetricSums> out;
    const Shard &s = shards_[shard];
    for (size_t m = 0; m < models_.size(); m++) {
        const MetricSums &ms = s.models[m];
        if (!ms.used)
            continue;
        MetricSums &p = out[models_[m].provider];
        add_counts_or_throw(p.counts, ms.counts, "a provider on a shard", models_[m].provider, where);
        p.cost.add(ms.cost);
        p.used = true;
    }
    return out;
}

}  // namespace ducache::core
