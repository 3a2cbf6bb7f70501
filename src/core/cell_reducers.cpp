#include "core/cell_reducers.hpp"

namespace ducache::core {

std::string_view pair_key(std::pmr::string &buf, std::string_view a, std::string_view b)
{
    buf.assign(a.data(), a.size());
    buf.push_back('\0');
    buf.append(b.data(), b.size());
    return buf;
}

std::pair<std::string_view, std::string_view> split_pair(std::string_view key)
{
    size_t at = key.find('\0');
    return {key.substr(0, at), key.substr(at + 1)};
}

void DaySet::add(int32_t base, uint32_t mask)
{
    if (base < 0) {
        mask = base <= -32 ? 0 : mask >> -base;
        base = 0;
    }
    if (mask == 0)
        return;
    // mask << (base % 64) spans at most two words.
    size_t word = size_t(base) / 64;
    unsigned shift = unsigned(base) % 64;
    if (word + 1 >= bits_.size())
        bits_.resize(word + 2, 0);
    uint64_t m = mask;
    bits_[word] |= m << shift;
    if (shift > 32)
        bits_[word + 1] |= m >> (64 - shift);
}

void DaySet::merge(const DaySet &o)
{
    if (o.bits_.size() > bits_.size())
        bits_.resize(o.bits_.size(), 0);
    for (size_t i = 0; i < o.bits_.size(); i++)
        bits_[i] |= o.bits_[i];
}

int32_t DaySet::count() const
{
    int32_t n = 0;
    for (uint64_t w : bits_)
        n += __builtin_popcountll(w);
    return n;
}

void ProviderNames::saw(std::string_view model, std::string_view provider)
{
    Slot &s = names_.find_or_insert(model.data(), model.size());
    size_t i = size_t(&s - names_.slots().data());
    if (i >= own_.size())
        own_.resize(i + 1);
    if (own_[i] != provider)
        own_[i] = names_.store(provider.data(), provider.size());
    s.totals.active_days = 1;  // marks "has an own provider"
}

std::string_view ProviderNames::provider_of(std::string_view model) const
{
    const Slot *s = names_.find(model.data(), model.size());
    if (s)
        return own_[size_t(s - names_.slots().data())];
    return provider_from_name(model);
}

void ModelUsage::add(std::string_view model, std::string_view user, const EntryValues &v, int32_t base,
                     std::string_view column, const RowLabel &where)
{
    Slot &m = models.find_or_insert(model.data(), model.size());
    size_t i = size_t(&m - models.slots().data());
    if (i >= users.size()) {
        users.resize(i + 1, 0);
        while (days.size() <= i)
            days.emplace_back(mr_);
    }
    m.totals.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, column, model, where);
    m.totals.mark_days(base, v.days);
    days[i].add(base, v.days);
    std::string_view k = pair_key(buf_, model, user);
    Slot &p = pairs.find_or_insert(k.data(), k.size());
    if (p.totals.active_days == 0) {
        p.totals.active_days = 1;
        users[i]++;
    }
}

void ModelUsage::group_by_provider(const ProviderNames &names, KeyAggregator &out, std::pmr::vector<int32_t> &models_out,
                                   std::pmr::vector<int32_t> &users_out) const
{
    const FixedLabel where("the sums by provider");
    std::pmr::vector<DaySet> pdays(mr_);
    auto index_of = [&](std::string_view provider) {
        Slot &s = out.find_or_insert(provider.data(), provider.size());
        size_t i = size_t(&s - out.slots().data());
        if (i >= models_out.size()) {
            models_out.resize(i + 1, 0);
            users_out.resize(i + 1, 0);
            while (pdays.size() <= i)
                pdays.emplace_back(mr_);
        }
        return i;
    };
    for (const Slot &m : models.slots()) {
        size_t i = index_of(names.provider_of(m.key_view()));
        Slot &p = out.slots()[i];
        p.totals.add_or_throw(m.totals.counts, nullptr, "the sums by provider", m.key_view(), where);
        p.totals.cost.add(m.totals.cost);
        pdays[i].merge(days[size_t(&m - models.slots().data())]);
        models_out[i]++;
    }
    for (size_t i = 0; i < pdays.size(); i++)
        out.slots()[i].totals.active_days = pdays[i].count();
    // Distinct users per provider: pairs provider\0user.
    KeyAggregator seen(mr_);
    std::pmr::string buf(mr_);
    for (const Slot &pr : pairs.slots()) {
        auto [model, user] = split_pair(pr.key_view());
        std::string_view provider = names.provider_of(model);
        std::string_view k = pair_key(buf, provider, user);
        Slot &s = seen.find_or_insert(k.data(), k.size());
        if (s.totals.active_days == 0) {
            s.totals.active_days = 1;
            const Slot *p = out.find(provider.data(), provider.size());
            users_out[size_t(p - out.slots().data())]++;
        }
    }
}

}  // namespace ducache::core
