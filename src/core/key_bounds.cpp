#include "core/key_bounds.hpp"
#include "core/same_bytes.hpp"

namespace ducache::core {

namespace {
unsigned __int128 magnitude(int64_t v)
{
    return v < 0 ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)(v);
}

std::string u128_text(unsigned __int128 v)
{
    if (v == 0)
        return "0";
    std::string s;
    while (v != 0) {
        s.push_back(char('0' + int(v % 10)));
        v /= 10;
    }
    return std::string(s.rbegin(), s.rend());
}
}  // namespace

void UserKeyBound::add(const Totals &pair)
{
    if (!any || pair.cost.compare(max_cost) > 0)
        max_cost = pair.cost;
    any = true;
    for (int m = 0; m < kCountMetrics; m++)
        mag[m] += magnitude(pair.counts[m]);  // at most 2^63 a pair: no wrap below 2^64 pairs
}

std::string UserKeyBound::cost_text() const
{
    DecimalSum zero;
    if (!any || max_cost.compare(zero) <= 0)
        return "0";
    return max_cost.to_string();
}

std::string UserKeyBound::mag_text() const
{
    unsigned __int128 most = 0;
    for (int m = 0; m < kCountMetrics; m++)
        most = mag[m] > most ? mag[m] : most;
    return u128_text(most);
}

void KeyMagnitude::add_values(const int64_t counts[kCountMetrics])
{
    unsigned __int128 most = 0;
    for (int m = 0; m < kCountMetrics; m++) {
        unsigned __int128 v = magnitude(counts[m]);
        most = v > most ? v : most;
    }
    add(most);
}

KeyBounds::KeyBounds(std::pmr::memory_resource *mr)
    : mr_(mr), names_(mr), users_(mr), by_index_(mr), walked_(mr), heap_(mr)
{
}

KeyBounds::User &KeyBounds::user(std::string_view name, uint32_t position)
{
    const Slot &s = position == UINT32_MAX ? names_.find_or_insert(name.data(), name.size())
                                           : names_.find_or_insert_at(name.data(), name.size(), position);
    size_t i = size_t(&s - names_.slots().data());
    while (users_.size() <= i)
        users_.emplace_back(mr_);
    return users_[i];
}

void KeyBounds::add_bound(std::string_view name, const Decimal &keycost, uint32_t position)
{
    user(name, position).bound.add(keycost);
}

void KeyBounds::expect_users(size_t n)
{
    if (!users_.empty())
        return;
    names_.reserve(n);
    users_.reserve(n);
    by_index_.reserve(n);
}

void KeyBounds::add_bound_at(uint32_t index, std::string_view name, const Decimal &keycost)
{
    if (index < by_index_.size() && by_index_[index] != UINT32_MAX) {
        User &u = users_[by_index_[index]];
        std::string_view known = names_.slots()[by_index_[index]].key_view();
        if (known.size() == name.size() && same_bytes(known.data(), name.data(), name.size())) {
            u.bound.add(keycost);
            return;
        }
    }
    User &u = user(name, UINT32_MAX);
    if (index != UINT32_MAX) {
        if (by_index_.size() <= index)
            by_index_.resize(size_t(index) + 1, UINT32_MAX);
        by_index_[index] = uint32_t(&u - users_.data());
    }
    u.bound.add(keycost);
}

bool KeyBounds::add_bound_columns(const uint32_t *index, const std::string_view *names, const int64_t *keycost,
                                  const uint8_t *dscale, int scale, uint32_t n)
{
    const uint32_t *by_index = by_index_.data();
    size_t known = by_index_.size();
    for (uint32_t i = 0; i < n; i++) {
        const bool none = dscale[i] == kColumnNoCost;
        const int64_t m = none ? 0 : keycost[i];
        const int s = none ? 0 : scale, ds = none ? 0 : dscale[i];
        const uint32_t at = index[i];
        if (at < known && by_index[at] != UINT32_MAX) {  // met before: its user (see above)
            users_[by_index[at]].bound.add_scaled(m, s, ds);
            continue;
        }
        if (names == nullptr)
            return false;
        Decimal d;
        d.mantissa = m;
        d.scale = s;
        d.dscale = ds;
        add_bound_at(at, names[i], d);
        by_index = by_index_.data();  // add_bound_at() may have grown it
        known = by_index_.size();
    }
    return true;
}

bool KeyBounds::first_bound_columns(const UserRun &run, const int64_t *keycost, const uint8_t *dscale, int scale)
{
    if (!run.ordered || !users_.empty() || names_.size() != 0 || !by_index_.empty())
        return false;
    names_.reserve(run.n);
    users_.reserve(run.n);
    by_index_.resize(run.n);
    for (uint32_t i = 0; i < run.n; i++) {
        const uint32_t at = names_.append_new(run.names[i].data(), uint32_t(run.names[i].size()), run.hashes[i]);
        users_.emplace_back(mr_);
        by_index_[i] = at;
        const bool none = dscale[i] == kColumnNoCost;
        Decimal d;  // add_bound_at()'s Decimal
        d.mantissa = none ? 0 : keycost[i];
        d.scale = none ? 0 : scale;
        d.dscale = none ? 0 : dscale[i];
        users_[at].bound.add(d);
    }
    return true;
}

void KeyBounds::add_walked_pair(std::string_view name, const DecimalSum &cost, uint32_t slot)
{
    User &u = user(name, UINT32_MAX);
    if (!u.has_walked || cost.compare(u.walked_max) > 0)
        u.walked_max = cost;
    u.has_walked = true;
    walked_.emplace_back(uint32_t(&u - users_.data()), slot);
}

bool KeyBounds::probed(std::string_view name) const
{
    const Slot *s = names_.find(name.data(), name.size());
    return s != nullptr && users_[size_t(s - names_.slots().data())].probed;
}

void KeyBounds::prepare()
{
    DecimalSum zero(mr_);
    for (User &u : users_)
        if (u.has_walked && u.walked_max.compare(zero) > 0)
            u.bound.add(u.walked_max);  // U_u = max(0, max S^F) + B_u
    std::stable_sort(walked_.begin(), walked_.end(),
                     [](const auto &a, const auto &b) { return a.first < b.first; });
    heap_.clear();
    for (uint32_t i = 0; i < users_.size(); i++)
        heap_.push_back(i);
    std::make_heap(heap_.begin(), heap_.end(), [&](uint32_t a, uint32_t b) {
        return users_[a].bound.compare(users_[b].bound) < 0;
    });
}

bool KeyBounds::pop(uint32_t &index)
{
    if (heap_.empty())
        return false;
    std::pop_heap(heap_.begin(), heap_.end(), [&](uint32_t a, uint32_t b) {
        return users_[a].bound.compare(users_[b].bound) < 0;
    });
    index = heap_.back();
    heap_.pop_back();
    return true;
}

}  // namespace ducache::core
