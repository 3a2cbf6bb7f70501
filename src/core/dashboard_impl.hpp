// DashboardBuilder's state between the calls that hand usage in (core/dashboard.cpp, and
// core/dashboard_columns.cpp column by column) and document(), which writes it
// (core/dashboard_document.cpp). Private to those files.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/dashboard.hpp"
#include "core/dashboard_state.hpp"
#include "core/error_text.hpp"
#include "core/filters.hpp"
#include "core/json_sink.hpp"
#include "core/ordered_lookup.hpp"
#include "core/period_users.hpp"

#include <iterator>
#include <memory>
#include <optional>
#include <string>

namespace ducache::core {

// An entry's cost for the checked adds: none when the entry had no cost.
inline const Decimal *cost_of(const EntryValues &v) { return v.cost_seen ? &v.cost : nullptr; }

// The day being read, as FixedLabel(date) names it, without copying it per entry.
class DateLabel final : public RowLabel {
public:
    explicit DateLabel(const std::string &date) : date_(date) {}
    std::string text() const override { return date_; }

private:
    const std::string &date_;
};

// The summaries (a model, a user, a day: LiteMaaS's snake_case metric names) are handed over
// whole (JsonSink::flat_object). A sink that orders members itself (JSONB) gets them in JSONB's
// key order (shorter first, then bytewise), so it finds each object sorted instead of sorting
// ~1,000 of them (dailyModelUsage); test/unit/json_sink_test holds both orders to one document
// and this one to JSONB's.

struct DashboardBuilder::Impl : DashboardState {
    Impl(std::pmr::memory_resource *mr, DashboardOptions o)
        : DashboardState(mr), options(o), users_order(users, jsonb_key_compare, mr),
          prev_users_order(prev_users, jsonb_key_compare, mr), idents_order(idents, jsonb_key_compare, mr),
          keys_order(keys, key_pair_compare, mr), prev_period(mr), user_ident(mr), user_ident_key(mr),
          run_slot_of(mr), run_order(mr), run(mr)
    {
    }
    DashboardOptions options;
    // Lookups of keys handed in with a position, i.e. in their object's order
    // (core/ordered_lookup.hpp): every row lists its users (key_totals its pairs) in one order.
    OrderedLookup users_order, prev_users_order, idents_order, keys_order;
    // previous_user_usage()'s users; settle_previous() adds their count to prev_users_counted
    // (once: document() and partial() call it).
    PeriodUsers prev_period;
    bool prev_settled = false;
    void settle_previous()
    {
        if (!prev_settled)
            prev_users_counted += prev_period.nonzero_requests();
        prev_settled = true;
    }
    // By users slot index (identity_of()): the user's idents slot index + 1 (0: none yet), and
    // the identity key of its last identity_of() (kept in idents' arena; data() nullptr: none).
    std::pmr::vector<uint32_t> user_ident;
    std::pmr::vector<std::string_view> user_ident_key;
    // DashboardBuilder::run_slots(): the run (its names array and size) the range's slots come
    // from, by run index the slot + 1 (0: none yet), and how many slots it made. While
    // users.size() == run_made every range slot came from the run (so a run user without one
    // has none: appended without a probe). users_order does not know the slots made since
    // run_order_stale was set: sync_users_order() hands it them, in the run's (key) order,
    // before anything else uses it.
    const std::string_view *run_names = nullptr;
    uint32_t run_n = 0;
    size_t run_made = 0;
    bool run_order_stale = false;
    std::pmr::vector<uint32_t> run_slot_of, run_order;
    void sync_users_order()
    {
        if (!run_order_stale)
            return;
        run_order_stale = false;
        if (users.size() != run_made)
            return;  // slots made another way: users_order keeps what it has (a hint)
        run_order.clear();
        for (uint32_t j = 0; j < run_n; j++)
            if (run_slot_of[j] != 0)
                run_order.push_back(run_slot_of[j] - 1);
        users_order.adopt_order(run_order.data(), run_order.size());
    }

    // The column rows' bound per period ([0] the comparison period, [1] the range), and the run
    // of rows summed entry-wise before their accumulators (core/user_columns.hpp, round 17):
    // flush_run() before anything reads or adds the users' sums another way.
    CountBound bound[2];
    enum RunKind : int { kRunRangeSlots = 1, kRunPreviousSlots = 2, kRunPreviousIds = 3 };
    ColumnRun run;
    void flush_run();

    // The day being read (its row goes to `days` when the next day begins). day_sums: usage
    // handed in also counts for the day (a day row; not a rollup, whose days come whole).
    bool in_day = false, current = false, day_sums = false;
    std::string date;
    std::optional<Totals> day_total;
    std::unique_ptr<KeyAggregator> day_models;
    std::string key_buf;  // key_usage()'s pair key
    // dailyUsage's and dailyModelUsage's elements.
    void write_daily(JsonSink &w) const;
    void write_daily_models(JsonSink &w) const;

    FixedLabel where() const { return FixedLabel(date); }
    void end_day();
    std::string_view provider_of(std::string_view model) const
    {
        auto it = model_provider.find(model);
        return it == model_provider.end() ? provider_from_name(model) : std::string_view(it->second.provider);
    }
    void open_day(std::string_view day, bool cur)
    {
        end_day();
        in_day = true;
        current = cur;
        date.assign(day);
        (cur ? has_current : has_previous) = true;
        day_total.emplace(mr);
        day_models = std::make_unique<KeyAggregator>(mr, kDayModelsTable);
        for (OrderedLookup *o : {&users_order, &prev_users_order, &idents_order, &keys_order})
            o->begin();
        prev_period.begin_row();
    }
    // byProvider: every model's (or unprovided model's) sums under its provider.
    void group_by_provider(const KeyAggregator &from)
    {
        const FixedLabel where("the range");
        for (const Slot &m : from.slots()) {
            std::string_view p = provider_of(m.key_view());
            Totals &t = providers.find_or_insert(p.data(), p.size()).totals;
            add_counts_or_throw(t.counts, m.totals.counts, "the dashboard's providers", p, where);
            t.cost.add(m.totals.cost);
        }
    }
    void model_summary(JsonSink &w, std::string_view model, const Totals &t) const
    {
        using M = FlatMember;
        const std::string_view provider = provider_of(model);
        if (w.orders_members()) {  // JSONB's key order
            M m[] = {M::of("cost", t.cost),
                     M::of("tokens", t.counts[kTotalTokens]),
                     M::of("modelId", model),
                     M::of("provider", provider),
                     M::of("requests", t.counts[kRequests]),
                     M::of("modelName", model),
                     M::of("prompt_tokens", t.counts[kPromptTokens]),
                     M::of("completion_tokens", t.counts[kCompletionTokens])};
            w.flat_object(m, std::size(m));
        } else {
            M m[] = {M::of("modelId", model),
                     M::of("modelName", model),
                     M::of("provider", provider),
                     M::of("requests", t.counts[kRequests]),
                     M::of("tokens", t.counts[kTotalTokens]),
                     M::of("prompt_tokens", t.counts[kPromptTokens]),
                     M::of("completion_tokens", t.counts[kCompletionTokens]),
                     M::of("cost", t.cost)};
            w.flat_object(m, std::size(m));
        }
    }
    void user_summary(JsonSink &w, std::string_view user, const Totals &t) const
    {
        using M = FlatMember;
        const Slot *id = idents.find(user.data(), user.size());
        auto ident = [&](const char *key, std::string_view Totals::*field) {
            return M::of(key, id ? id->totals.*field : "", id && !(id->totals.*field).empty());
        };
        if (w.orders_members()) {  // JSONB's key order
            M m[] = {M::of("cost", t.cost),
                     ident("role", &Totals::role),
                     ident("email", &Totals::email),
                     M::of("tokens", t.counts[kTotalTokens]),
                     M::of("userId", user),
                     M::of("requests", t.counts[kRequests]),
                     ident("username", &Totals::username),
                     M::of("prompt_tokens", t.counts[kPromptTokens]),
                     M::of("completion_tokens", t.counts[kCompletionTokens])};
            w.flat_object(m, std::size(m));
        } else {
            M m[] = {M::of("userId", user),
                     ident("username", &Totals::username),
                     ident("email", &Totals::email),
                     ident("role", &Totals::role),
                     M::of("requests", t.counts[kRequests]),
                     M::of("tokens", t.counts[kTotalTokens]),
                     M::of("prompt_tokens", t.counts[kPromptTokens]),
                     M::of("completion_tokens", t.counts[kCompletionTokens]),
                     M::of("cost", t.cost)};
            w.flat_object(m, std::size(m));
        }
    }
    void trends(JsonSink &w, int64_t cur_users, int64_t prev_users_n) const;
};

}  // namespace ducache::core
