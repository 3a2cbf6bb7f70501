#include "core/shard_partial.hpp"

#include "core/count_sum.hpp"
#include "core/error.hpp"
#include "core/filters.hpp"
#include "core/number.hpp"

#include "core/shard_partial_wire.hpp"

#include <algorithm>
#include <cstring>

namespace ducache::core {

using namespace shard_wire;

ShardPartial::ShardPartial(PartialKind kind, std::pmr::memory_resource *mr)
    : kind_(kind), mr_(mr), keys_(mr), extra_(mr), users_(mr), part_users_(mr), seen_(mr), buf_(mr), stamp_(mr),
      summary_(mr)
{
}

void ShardPartial::offer_top(std::string_view user, const DecimalSum &cost)
{
    Summary &m = summary_;
    if (m.has_top) {
        int c = cost.compare(m.top_cost);
        if (c < 0 || (c == 0 && !(user < m.top_user)))
            return;
    }
    m.has_top = true;
    m.top_user = keys_.store(user.data(), user.size());
    m.top_cost = cost;
}

void ShardPartial::add_totals(size_t i, const Totals &t)
{
    Slot &s = slot(i);
    const FixedLabel where("the shards' partials");
    add_counts_or_throw(s.totals.counts, t.counts, "the shards' partials", s.key_view(), where);
    s.totals.cost.add(t.cost);
    extra_[i].row = true;
}

size_t ShardPartial::index_of(std::string_view key)
{
    Slot &s = keys_.find_or_insert(key.data(), key.size());
    size_t i = size_t(&s - keys_.slots().data());
    while (extra_.size() <= i) {
        extra_.emplace_back(mr_);
        stamp_.push_back(0);
    }
    return i;
}

void ShardPartial::add_usage(size_t i, const EntryValues &v, int32_t base, std::string_view column,
                             std::string_view key, const RowLabel &where)
{
    slot(i).totals.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, column, key, where);
    extra_[i].row = true;
    extra_[i].days.add(base, v.days);
}

void ShardPartial::saw_field(size_t i, int32_t day, std::string_view provider)
{
    Extra &x = extra_[i];
    if (x.field_day > day || (x.field_day == day && x.field <= provider))
        return;
    x.field_day = day;
    if (x.field != provider)
        x.field = keys_.store(provider.data(), provider.size());
}

bool ShardPartial::first_pair(size_t i, char tag, std::string_view member)
{
    buf_.assign(reinterpret_cast<const char *>(&i), sizeof i);
    buf_.push_back(tag);
    buf_.append(member.data(), member.size());
    Slot &s = seen_.find_or_insert(buf_.data(), buf_.size());
    if (s.totals.active_days)
        return false;
    s.totals.active_days = 1;
    return true;
}

void ShardPartial::add_user_id(size_t i, uint32_t id)
{
    Extra &x = extra_[i];
    x.has_users = true;
    size_t word = id / 64;
    if (word >= x.user_bits.size())
        x.user_bits.resize(word + 1, 0);
    uint64_t bit = uint64_t(1) << (id % 64);
    if (x.user_bits[word] & bit)
        return;
    x.user_bits[word] |= bit;
    x.users.push_back(id);
}

void ShardPartial::add_user(size_t i, std::string_view user)
{
    Slot &s = users_.find_or_insert(user.data(), user.size());
    add_user_id(i, uint32_t(&s - users_.slots().data()));
}

void ShardPartial::begin_object_users(size_t i)
{
    extra_[i].this_object.clear();
    extra_[i].last_at = 0;
}

void ShardPartial::add_object_user(size_t i, std::string_view name)
{
    Extra &x = extra_[i];
    // JSONB's key order: shorter first, then bytes. A user before `name` in the previous
    // object is absent from this one: step over it. (Objects in another order only miss the
    // walk and take the lookup: the set is right either way.)
    auto before = [](std::string_view a, std::string_view b) {
        return a.size() != b.size() ? a.size() < b.size() : std::memcmp(a.data(), b.data(), a.size()) < 0;
    };
    while (x.last_at < x.last_object.size()) {
        uint32_t id = x.last_object[x.last_at];
        std::string_view seen = user(id);
        if (before(seen, name)) {
            x.last_at++;
            continue;
        }
        if (seen == name) {
            x.last_at++;
            x.this_object.push_back(id);
            add_user_id(i, id);
            return;
        }
        break;
    }
    Slot &s = users_.find_or_insert(name.data(), name.size());
    uint32_t id = uint32_t(&s - users_.slots().data());
    x.this_object.push_back(id);
    add_user_id(i, id);
}

void ShardPartial::end_object_users(size_t i)
{
    Extra &x = extra_[i];
    x.last_object.swap(x.this_object);
}

void ShardPartial::add_model(size_t i, std::string_view model)
{
    if (first_pair(i, 'm', model))
        extra_[i].models.push_back(keys_.store(model.data(), model.size()));
}

void ShardPartial::finish()
{
    for (size_t i = 0; i < extra_.size(); i++) {
        std::sort(extra_[i].models.begin(), extra_[i].models.end());
        slot(i).totals.active_days = extra_[i].days.count();
    }
}

std::string ShardPartial::encode()
{
    finish();
    std::string out(kMagic, 4);
    put<uint8_t>(out, kShardPartialVersion);
    put<uint8_t>(out, uint8_t(kind_));
    put<uint16_t>(out, 0);
    // The user dictionary in byte order; a key's users are their positions in it.
    const std::pmr::vector<Slot> &users = users_.slots();
    std::vector<uint32_t> order(users.size()), rank(users.size());
    for (uint32_t u = 0; u < order.size(); u++)
        order[u] = u;
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return users[a].key_view() < users[b].key_view(); });
    put<uint32_t>(out, uint32_t(order.size()));
    for (uint32_t pos = 0; pos < order.size(); pos++) {
        rank[order[pos]] = pos;
        put_bytes(out, users[order[pos]].key_view());
    }
    std::vector<uint32_t> ranks;
    put<uint32_t>(out, uint32_t(keys_.size()));
    for (size_t i = 0; i < keys_.size(); i++) {
        const Slot &s = slot(i);
        const Extra &x = extra_[i];
        put_bytes(out, s.key_view());
        put<uint8_t>(out, uint8_t((x.row ? kRow : 0) | (x.field_day >= 0 ? kField : 0) | (x.has_users ? kUsers : 0)));
        if (x.row) {
            for (int m = 0; m < kCountMetrics; m++)
                put<int64_t>(out, s.totals.counts[m]);
            put_bytes(out, s.totals.cost.to_string());
            put_days(out, x.days);
        }
        if (x.field_day >= 0) {
            put<int32_t>(out, x.field_day);
            put_bytes(out, x.field);
        }
        ranks.clear();
        for (uint32_t u : x.users)
            ranks.push_back(rank[u]);
        std::sort(ranks.begin(), ranks.end());
        put<uint32_t>(out, uint32_t(ranks.size()));
        int64_t prev = -1;
        for (uint32_t pos : ranks) {
            put_varint(out, uint32_t(pos - prev - 1));
            prev = pos;
        }
        put<uint32_t>(out, uint32_t(x.models.size()));
        for (std::string_view m : x.models)
            put_bytes(out, m);
    }
    if (kind_ == PartialKind::summary) {
        const Summary &m = summary_;
        put<int64_t>(out, m.active_users);
        for (int c = 0; c < kCountMetrics; c++)
            put<int64_t>(out, m.all.counts[c]);
        put_bytes(out, m.all.cost.to_string());
        put_days(out, m.cached);
        put<uint8_t>(out, m.has_top ? 1 : 0);
        if (m.has_top) {
            put_bytes(out, m.top_user);
            put_bytes(out, m.top_cost.to_string());
        }
    }
    return out;
}

void ShardPartial::merge_encoded(const char *data, size_t len, int part)
{
    Reader r(data, len, part);
    r.need(4, "the header");
    if (std::memcmp(data, kMagic, 4) != 0)
        r.fail("it does not start with the ducache shard partial mark");
    r.get<uint32_t>("the header");
    uint8_t version = r.get<uint8_t>("the header");
    if (version != kShardPartialVersion)
        r.fail("version " + std::to_string(version) + " is not the supported version " +
               std::to_string(kShardPartialVersion));
    uint8_t kind = r.get<uint8_t>("the header");
    if (kind != uint8_t(kind_))
        r.fail("kind " + std::to_string(kind) + " where kind " + std::to_string(uint8_t(kind_)) + " was asked for");
    if (r.get<uint16_t>("the header") != 0)
        r.fail("the reserved header bytes are not zero");
    part_users_.clear();
    read_set(r, "the dictionary's users", [&](std::string_view u) {
        Slot &s = users_.find_or_insert(u.data(), u.size());
        part_users_.push_back(uint32_t(&s - users_.slots().data()));
    });
    uint32_t n = r.get<uint32_t>("the key count");
    // Each key takes at least 4 + 1 + 4 + 4 bytes.
    r.need(uint64_t(n) * 13, "the keys");
    const FixedLabel where("the shards' partials");
    Decimal cost;
    EntryValues v{};
    for (uint32_t k = 0; k < n; k++) {
        std::string_view key = r.bytes("a key");
        uint8_t flags = r.get<uint8_t>("a key's flags");
        if (flags & ~(kRow | kField | kUsers))
            r.fail("key " + std::to_string(k) + " has unknown flags " + std::to_string(flags));
        size_t i = index_of(key);
        if (stamp_[i] == part + 1)
            r.fail("key " + std::to_string(k) + " repeats an earlier key");
        stamp_[i] = part + 1;
        Extra &x = extra_[i];
        if (flags & kRow) {
            for (int m = 0; m < kCountMetrics; m++)
                v.counts[m] = r.get<int64_t>("a key's counts");
            std::string_view cost_text = r.bytes("a key's cost");
            if (!parse_json_number(cost_text, cost))
                r.fail("key " + std::to_string(k) + " has a cost that is not a number");
            slot(i).totals.add_or_throw(v.counts, &cost, "the shards' partials", key, where);
            x.row = true;
            read_days(r, x.days, "key " + std::to_string(k));
        }
        if (flags & kField) {
            int32_t day = r.get<int32_t>("a key's provider field");
            std::string_view provider = r.bytes("a key's provider field");
            if (day < 0)
                r.fail("key " + std::to_string(k) + " has a negative provider field day");
            saw_field(i, day, provider);
        }
        if (flags & kUsers)
            x.has_users = true;
        uint32_t users = r.get<uint32_t>("the users");
        if (users > 0 && !(flags & kUsers))
            r.fail("key " + std::to_string(k) + " lists users without its users flag");
        r.need(users, "the users");  // each at least one byte
        uint64_t pos = 0;  // the next position a user may have
        for (uint32_t u = 0; u < users; u++) {
            pos += r.varint("the users");
            if (pos >= part_users_.size())
                r.fail("key " + std::to_string(k) + " names user " + std::to_string(pos) + " of a dictionary of " +
                       std::to_string(part_users_.size()));
            add_user_id(i, part_users_[pos]);
            pos++;
        }
        read_set(r, "the models", [&](std::string_view m) { add_model(i, m); });
    }
    if (kind_ == PartialKind::summary) {
        Summary &m = summary_;
        int64_t users = r.get<int64_t>("the summary");
        if (users < 0 || __builtin_add_overflow(m.active_users, users, &m.active_users))
            r.fail("the summary's active users are out of range");
        for (int c = 0; c < kCountMetrics; c++)
            v.counts[c] = r.get<int64_t>("the summary");
        if (!parse_json_number(r.bytes("the summary"), cost))
            r.fail("the summary's cost is not a number");
        m.all.add_or_throw(v.counts, &cost, "the shards' partials", "the period's totals", where);
        read_days(r, m.cached, "the summary");
        uint8_t has_top = r.get<uint8_t>("the summary");
        if (has_top > 1)
            r.fail("the summary's top user flag is " + std::to_string(has_top));
        if (has_top) {
            std::string_view user = r.bytes("the top user");
            DecimalSum top(mr_);
            if (!parse_json_number(r.bytes("the top user"), cost))
                r.fail("the top user's cost is not a number");
            top.add(cost);
            offer_top(user, top);
        }
    }
    if (r.left() != 0)
        r.fail(std::to_string(r.left()) + " bytes follow the " + (kind_ == PartialKind::summary ? "summary" : "last key"));
}

std::string_view ShardPartial::model_provider(size_t i) const
{
    const Extra &x = extra_[i];
    return x.field_day >= 0 ? x.field : provider_from_name(slot(i).key_view());
}

void ShardPartial::group_by_provider(ShardPartial &out) const
{
    const FixedLabel where("the sums by provider");
    for (size_t i = 0; i < keys_.size(); i++) {
        const Extra &x = extra_[i];
        if (!x.row)
            continue;
        const Slot &m = slot(i);
        size_t p = out.index_of(model_provider(i));
        Slot &ps = out.slot(p);
        add_counts_or_throw(ps.totals.counts, m.totals.counts, "the sums by provider", m.key_view(), where);
        ps.totals.cost.add(m.totals.cost);
        Extra &px = out.extra(p);
        px.row = true;
        px.days.merge(x.days);
        out.add_model(p, m.key_view());
        px.has_users = true;
        for (uint32_t u : x.users)
            out.add_user(p, user(u));
    }
    out.finish();
}

}  // namespace ducache::core
