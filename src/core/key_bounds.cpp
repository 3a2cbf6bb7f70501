#include "core/key_bounds.hpp"

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
    : mr_(mr), names_(mr), acc_(mr), exact_(mr), probed_(mr), by_index_(mr), lookup_(mr, 2), walked_max_(mr),
      walked_max_at_(mr), walked_(mr), heap_(mr)
{
}

uint32_t KeyBounds::new_user(std::string_view kept_name)
{
    const uint32_t u = uint32_t(users());
    names_.push_back(kept_name);
    if (slow_)
        exact_.emplace_back(mr_);
    else
        acc_.push_back(0);
    probed_.push_back(0);
    return u;
}

uint32_t KeyBounds::new_user_at(uint32_t index, std::string_view name)
{
    const uint32_t u = new_user(lookup_.store(name.data(), name.size()));
    if (by_index_.size() <= index)
        by_index_.resize(size_t(index) + 1, UINT32_MAX);
    by_index_[index] = u;
    index_is_user_ = index_is_user_ && index == u && by_index_.size() == users();
    return u;
}

uint32_t KeyBounds::lookup(std::string_view name) const
{
    for (; looked_up_ < users(); looked_up_++) {  // the names kept since the last lookup
        std::string_view k = name_of(uint32_t(looked_up_));
        lookup_.append_new(k.data(), uint32_t(k.size()), KeyAggregator::hash_bytes(k.data(), k.size()));
    }
    const Slot *s = lookup_.find(name.data(), name.size());
    return s == nullptr ? UINT32_MAX : uint32_t(s - lookup_.slots().data());
}

uint32_t KeyBounds::find_user(std::string_view name)
{
    const uint32_t u = lookup(name);
    if (u != UINT32_MAX)
        return u;
    const Slot &s = lookup_.find_or_insert(name.data(), name.size());  // copies the name
    looked_up_++;
    index_is_user_ = false;  // a user without an index: user_at() by by_index_
    return new_user(s.key_view());
}

bool KeyBounds::raise_scale(int s)
{
    if (s > kMaxFastScale)
        return false;
    const __int128 f = pow10_128(s - scale_);
    __int128 scaled;
    for (const __int128 &a : acc_)  // every bound first, so a refusal changes none
        if (__builtin_mul_overflow(a, f, &scaled))
            return false;
    for (__int128 &a : acc_)
        a *= f;
    scale_ = s;
    unsigned __int128 raised;
    cap_ = __builtin_mul_overflow(cap_, (unsigned __int128)(f), &raised) || raised > kCapSaturated ? kCapSaturated : raised;
    return true;
}

void KeyBounds::to_exact()
{
    exact_.clear();
    exact_.reserve(users());
    for (size_t u = 0; u < users(); u++) {
        exact_.emplace_back(mr_);
        exact_.back().add_parts(acc_[u], scale_, 0);  // the dscale is never read: bounds are compared only
    }
    acc_.clear();
    slow_ = true;
}

void KeyBounds::add_value(uint32_t u, __int128 m, int scale)
{
    if (!slow_) {
        __int128 scaled, next;
        if ((scale <= scale_ || raise_scale(scale)) && !__builtin_mul_overflow(m, pow10_128(scale_ - scale), &scaled) &&
            !__builtin_add_overflow(acc_[u], scaled, &next)) {
            acc_[u] = next;
            grow_cap(scaled < 0 ? (unsigned __int128)(-(scaled + 1)) + 1 : (unsigned __int128)(scaled));
            return;
        }
        to_exact();  // (a failed raise_scale left the bounds as they were, or some raised: redone exactly below)
    }
    exact_[u].add_parts(m, scale, 0);
}

void KeyBounds::add_decimal(uint32_t u, const Decimal &v)
{
    if (v.big) {
        if (!slow_)
            to_exact();
        exact_[u].add(v);
        return;
    }
    add_value(u, v.mantissa, v.scale);
}

void KeyBounds::add_sum(uint32_t u, const DecimalSum &v)
{
    __int128 acc;
    int scale, dscale;
    if (v.fast_parts(acc, scale, dscale)) {
        add_value(u, acc, scale);
        return;
    }
    if (!slow_)
        to_exact();
    exact_[u].add(v);
}

int KeyBounds::compare_bound(uint32_t u, const DecimalSum &v) const
{
    if (slow_)
        return exact_[u].compare(v);
    DecimalSum b(mr_);
    b.add_parts(acc_[u], scale_, 0);
    return b.compare(v);
}

void KeyBounds::add_bound(std::string_view name, const Decimal &keycost, uint32_t)
{
    add_decimal(find_user(name), keycost);
}

void KeyBounds::expect_users(size_t n)
{
    if (users() != 0)
        return;
    names_.reserve(n);
    acc_.reserve(n);
    probed_.reserve(n);
    by_index_.reserve(n);
}

void KeyBounds::add_bound_at(uint32_t index, std::string_view name, const Decimal &keycost)
{
    if (index == UINT32_MAX) {  // no index: by name
        add_decimal(find_user(name), keycost);
        return;
    }
    uint32_t u = user_at(index);
    if (u == UINT32_MAX)
        u = new_user_at(index, name);
    add_decimal(u, keycost);
}

bool KeyBounds::add_bound_columns(const uint32_t *index, const std::string_view *names, const int64_t *keycost,
                                  const uint8_t *dscale, int scale, uint32_t n)
{
    if (!slow_ && ((scale > scale_ && !raise_scale(scale)) || scale_ - scale > 18))
        to_exact();  // (scales 10^18 apart: never met; the exact path)
    uint32_t i = 0;
    if (!slow_) {  // B_u += keycost * 10^(scale_ - scale): a multiply and a 128-bit add an entry
        const int64_t f = DecimalSum::kPow10_64[scale_ - scale];
        // Each bound gains at most n x f x 2^63 in this row (|keycost| <= 2^63; n x f < 2^92).
        const unsigned __int128 nf = (unsigned __int128)(n) * uint64_t(f);
        const unsigned __int128 step = nf >= ((unsigned __int128)(1) << 63) ? kCapSaturated : nf << 63;
        if (f == 1 && index_is_user_ && cap_ < kCapSaturated - step) {
            // the common row: its scale, users by their own index, no bound can pass 2^126:
            // a load, an add and a store an entry
            const uint32_t known = uint32_t(users());
            __int128 *acc = acc_.data();
            for (; i < n; i++) {
                const uint32_t u = index[i];
                if (u >= known)
                    break;  // a new user: below
                acc[u] += dscale[i] == kColumnNoCost ? 0 : keycost[i];
            }
        }
        grow_cap(step);
        if (f == 1 && index_is_user_ && i < n) {  // the same, checked (a bound may be near 2^126)
            const uint32_t known = uint32_t(users());
            __int128 *acc = acc_.data();
            for (; i < n; i++) {
                const uint32_t u = index[i];
                if (u >= known)
                    break;  // a new user: below
                const int64_t m = dscale[i] == kColumnNoCost ? 0 : keycost[i];
                __int128 next;
                if (__builtin_add_overflow(acc[u], __int128(m), &next))
                    break;  // past 128 bits: below
                acc[u] = next;
            }
        }
        for (; i < n; i++) {
            uint32_t u = user_at(index[i]);
            if (u == UINT32_MAX) {
                if (names == nullptr)
                    return false;
                u = new_user_at(index[i], names[i]);
            }
            const int64_t m = dscale[i] == kColumnNoCost ? 0 : keycost[i];
            __int128 next;
            if (__builtin_add_overflow(acc_[u], __int128(m) * f, &next))
                break;  // past 128 bits: this entry and the rest exactly
            acc_[u] = next;
        }
        if (i == n)
            return true;
        to_exact();
    }
    for (; i < n; i++) {
        uint32_t u = user_at(index[i]);
        if (u == UINT32_MAX) {
            if (names == nullptr)
                return false;
            u = new_user_at(index[i], names[i]);
        }
        const bool none = dscale[i] == kColumnNoCost;
        exact_[u].add_scaled(none ? 0 : keycost[i], none ? 0 : scale, none ? 0 : dscale[i]);
    }
    return true;
}

bool KeyBounds::first_bound_columns(const UserRun &run, const int64_t *keycost, const uint8_t *dscale, int scale)
{
    if (!run.ordered || users() != 0 || !by_index_.empty() || slow_)
        return false;
    run_names_ = run.names;  // (not copied)
    run_n_ = run.n;
    probed_.assign(run.n, 0);
    by_index_.resize(run.n);
    for (uint32_t i = 0; i < run.n; i++)
        by_index_[i] = i;
    if (scale > kMaxFastScale) {  // the exact path from the start
        acc_.assign(run.n, 0);
        to_exact();
        for (uint32_t i = 0; i < run.n; i++) {
            const bool none = dscale[i] == kColumnNoCost;
            exact_[i].add_scaled(none ? 0 : keycost[i], none ? 0 : scale, none ? 0 : dscale[i]);
        }
        return true;
    }
    if (scale > scale_)
        scale_ = scale;  // no bound yet: nothing to raise
    const __int128 f = pow10_128(scale_ - scale);  // (|keycost| <= 2^63 and f <= 10^36: checked below)
    grow_cap(scale_ - scale <= 18 ? (unsigned __int128)(f) << 63 : kCapSaturated);
    acc_.reserve(run.n);  // (empty: no user yet) each bound written once, not zeroed first
    for (uint32_t i = 0; i < run.n; i++) {
        const int64_t m = dscale[i] == kColumnNoCost ? 0 : keycost[i];
        __int128 v;
        if (__builtin_mul_overflow(__int128(m), f, &v)) {
            acc_.resize(run.n, 0);
            to_exact();
            for (uint32_t j = i; j < run.n; j++) {
                const bool none = dscale[j] == kColumnNoCost;
                exact_[j].add_scaled(none ? 0 : keycost[j], none ? 0 : scale, none ? 0 : dscale[j]);
            }
            return true;
        }
        acc_.push_back(v);
    }
    return true;
}

void KeyBounds::add_walked_pair(std::string_view name, const DecimalSum &cost, uint32_t slot)
{
    const uint32_t u = find_user(name);
    if (walked_max_at_.size() < users())
        walked_max_at_.resize(users(), 0);
    uint32_t &at = walked_max_at_[u];
    if (at == 0) {
        walked_max_.emplace_back(u, cost);
        at = uint32_t(walked_max_.size());
    } else if (cost.compare(walked_max_[at - 1].second) > 0) {
        walked_max_[at - 1].second = cost;
    }
    walked_.emplace_back(u, slot);
}

bool KeyBounds::probed(std::string_view name) const
{
    const uint32_t u = lookup(name);
    return u != UINT32_MAX && probed_[u] != 0;
}

void KeyBounds::prepare()
{
    DecimalSum zero(mr_);
    for (const auto &[u, most] : walked_max_)
        if (most.compare(zero) > 0)
            add_sum(u, most);  // U_u = max(0, max S^F) + B_u
    std::stable_sort(walked_.begin(), walked_.end(),
                     [](const auto &a, const auto &b) { return a.first < b.first; });
    heap_.clear();
    for (uint32_t i = 0; i < users(); i++)
        heap_.push_back(i);
    std::make_heap(heap_.begin(), heap_.end(), [&](uint32_t a, uint32_t b) { return less(a, b); });
}

bool KeyBounds::pop(uint32_t &index)
{
    if (heap_.empty())
        return false;
    std::pop_heap(heap_.begin(), heap_.end(), [&](uint32_t a, uint32_t b) { return less(a, b); });
    index = heap_.back();
    heap_.pop_back();
    return true;
}

}  // namespace ducache::core
