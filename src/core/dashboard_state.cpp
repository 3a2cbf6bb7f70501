#include "core/dashboard_state.hpp"

#include "core/count_sum.hpp"
#include "core/error.hpp"

#include <algorithm>

namespace ducache::core {

namespace {

// year (negative before Christ: 1 BC = 0), month, day of a date text; unknown text sorts first.
void date_parts(std::string_view s, int64_t out[3])
{
    out[0] = out[1] = out[2] = 0;
    int part = 0;
    for (char c : s) {
        if (c >= '0' && c <= '9') {
            if (out[part] < 100000000)  // longer numbers are not dates: stop growing
                out[part] = out[part] * 10 + (c - '0');
        } else if (c == '-' && part < 2) {
            part++;
        } else {
            break;
        }
    }
    if (s.size() >= 3 && s.substr(s.size() - 3) == " BC")
        out[0] = 1 - out[0];
}

void add_totals(Totals &to, const Totals &from, std::string_view what, std::string_view key)
{
    const FixedLabel where("the merge of the shards' partials");
    add_counts_or_throw(to.counts, from.counts, what, key, where);
    to.cost.add(from.cost);
}

}  // namespace

int compare_date_text(std::string_view a, std::string_view b)
{
    int64_t x[3], y[3];
    date_parts(a, x);
    date_parts(b, y);
    for (int i = 0; i < 3; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return a < b ? -1 : (a == b ? 0 : 1);
}

void DashboardState::note_provider(std::string_view model, std::string_view provider, int32_t day,
                                   bool replace_on_tie)
{
    auto it = model_provider.find(model);
    if (it == model_provider.end()) {
        OwnProvider p{std::pmr::string(provider, mr), day};
        model_provider.emplace(std::pmr::string(model, mr), std::move(p));
        return;
    }
    if (day > it->second.day || (replace_on_tie && day == it->second.day)) {
        if (it->second.provider != provider)
            it->second.provider.assign(provider);
        it->second.day = day;
    }
}

void DashboardState::merge(const DashboardState &o)
{
    users.merge(o.users);
    prev_users.merge(o.prev_users);
    idents.merge(o.idents);
    models.merge(o.models);
    providers.merge(o.providers);
    unprovided.merge(o.unprovided);
    keys.merge(o.keys);
    if (__builtin_add_overflow(prev_users_counted, o.prev_users_counted, &prev_users_counted))
        throw Error("22003", "the count of the comparison period's users is out of range");
    for (const auto &[model, p] : o.model_provider)
        note_provider(model, p.provider, p.day, false);
    add_totals(total, o.total, "the dashboard's totals", "");
    add_totals(prev_total, o.prev_total, "the dashboard's totals", "");
    has_current = has_current || o.has_current;
    has_previous = has_previous || o.has_previous;
    // Days: both lists are in date order; the result is their ordered union, sums added.
    std::vector<Day> out;
    out.reserve(days.size() + o.days.size());
    size_t i = 0, j = 0;
    while (i < days.size() || j < o.days.size()) {
        int c = i == days.size() ? 1 : j == o.days.size() ? -1 : compare_date_text(days[i].date, o.days[j].date);
        if (c < 0) {
            out.push_back(std::move(days[i++]));
            continue;
        }
        if (c > 0)
            out.emplace_back(o.days[j].date, mr);
        else
            out.push_back(std::move(days[i++]));
        Day &d = out.back();
        add_totals(d.total, o.days[j].total, "the dashboard's daily usage", d.date);
        d.models->merge(*o.days[j].models);
        j++;
    }
    days = std::move(out);
}

}  // namespace ducache::core
