// The split of one day over user-hash shards (CONTRACT §8; docs/scale-out.md "How a day is
// split", the rule shared with the readers and test/reference/shard_split.sql): which shard
// holds a user, and on a cell-split day the sums each shard's model entries and total_metrics
// get from its own users' cells: per field of the "metrics" objects, summed exactly as
// sum(numeric) does (display scale included), a field with no number in it written as null.
//
// The adapter walks the day's JSONB and feeds fields in; this file only groups and adds, so it
// is tested without PostgreSQL. The user's hash is PostgreSQL's hashtext, computed by the adapter.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/decimal.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ducache::core {

// Shard of a user: (hashtext(user_id)::bigint & 4294967295) % shards, i.e. the hash read as
// an unsigned 32-bit number.
inline int shard_of_hash(int32_t hash, int shards)
{
    return int(uint32_t(hash) % uint32_t(shards));
}

// Per-field sums of a set of metrics objects.
class FieldSums {
public:
    struct Sum {
        DecimalSum value;
        bool any = false;  // at least one number went in (else the field prints as null)
    };
    // One field of one object: v is its number, or nullptr when the value is not a number.
    void add(std::string_view field, const Decimal *v);
    // The sum's JSON text: the decimal as sum(numeric) prints it, or "null".
    static std::string text(const Sum &s);
    const std::map<std::string, Sum, std::less<>> &fields() const { return fields_; }

private:
    std::map<std::string, Sum, std::less<>> fields_;
};

// What one shard gets on a cell-split day.
struct ShardSums {
    FieldSums total;                                       // of its users' "metrics"
    std::map<std::string, FieldSums, std::less<>> models;  // models its users used: their cells' "metrics"
};

class ShardSplit {
public:
    explicit ShardSplit(int shards) : shards_(shards) {}
    int shards() const { return int(shards_.size()); }
    ShardSums &shard(int k) { return shards_[k]; }
    const ShardSums &shard(int k) const { return shards_[k]; }
    // The model's sums on shard k, created (empty) on first use: a model counts as used by the
    // shard as soon as one of its users has a cell of it, numbers or not.
    FieldSums &use_model(int k, std::string_view model);

private:
    std::vector<ShardSums> shards_;
};

}  // namespace ducache::core
