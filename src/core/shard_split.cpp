#include "core/shard_split.hpp"

namespace ducache::core {

void FieldSums::add(std::string_view field, const Decimal *v)
{
    auto it = fields_.find(field);
    if (it == fields_.end())
        it = fields_.emplace(std::string(field), Sum()).first;
    if (v != nullptr) {
        it->second.value.add(*v);
        it->second.any = true;
    }
}

std::string FieldSums::text(const Sum &s)
{
    return s.any ? s.value.to_string() : "null";
}

FieldSums &ShardSplit::use_model(int k, std::string_view model)
{
    auto &models = shards_[k].models;
    auto it = models.find(model);
    if (it == models.end())
        it = models.emplace(std::string(model), FieldSums()).first;
    return it->second;
}

}  // namespace ducache::core
