// The documents of a month rollup, written from a RollupBuilder's sums into a JsonSink (the
// adapter's builds JSONB directly; JsonTextSink gives the same documents as JSON text).
#include "core/cell_reducers.hpp"
#include "core/rollup_builder_impl.hpp"

namespace ducache::core {

using rollup_detail::DayFigures;
using rollup_detail::Extra;
using rollup_detail::kNone;
using rollup_detail::Level;

namespace {

// {U: 1, ...} over the second halves of the pair keys chained from `first`.
void write_set(JsonSink &w, Level &pairs, uint32_t first)
{
    w.begin_object();
    for (uint32_t p = first; p != kNone; p = pairs.extra[p].next) {
        w.key(split_pair(pairs.agg.slots()[p].key_view()).second);
        w.integer(1);
    }
    w.end_object();
}

}  // namespace

void RollupBuilder::Impl::users_document(JsonSink &w)
{
    w.begin_object();
    for (uint32_t u = 0; u < users.agg.size(); u++) {
        const Slot &s = users.agg.slots()[u];
        write_entry(w, users, u, s.key_view(), [&] {
            auto ident = [&](const char *name, std::string_view v) {
                if (!v.empty())
                    w.key(name), w.string(v);
            };
            ident("username", s.totals.username);
            ident("email", s.totals.email);
            ident("role", s.totals.role);
            idents.write_user(w, u);
            if (!users.extra[u].flag)
                return;
            w.key("models");
            w.begin_object();
            for (uint32_t c = users.extra[u].first; c != kNone; c = cells.extra[c].next) {
                std::string_view model = split_pair(cells.agg.slots()[c].key_view()).second;
                write_entry(w, cells, c, model, [&] {
                    if (!cells.extra[c].flag)
                        return;
                    w.key("api_keys");
                    w.begin_object();
                    for (uint32_t k = cells.extra[c].first; k != kNone; k = keys.extra[k].next) {
                        const Extra &x = keys.extra[k];
                        // key = user \0 model \0 alias: the alias follows the last NUL.
                        std::string_view kk = keys.agg.slots()[k].key_view();
                        std::string_view alias = kk.substr(kk.rfind('\0') + 1);
                        write_entry(w, keys, k, alias, [&] {
                            if (x.has_a) {
                                w.key("keyAlias");
                                w.string(x.a);
                            }
                            if (x.has_b) {
                                w.key("keyName");
                                w.string(x.b);
                            }
                        });
                    }
                    w.end_object();
                });
            }
            w.end_object();
        });
    }
    w.end_object();
}

void RollupBuilder::Impl::models_document(JsonSink &w)
{
    w.begin_object();
    for (uint32_t m = 0; m < models.agg.size(); m++) {
        const Extra &x = models.extra[m];
        write_entry(w, models, m, models.agg.slots()[m].key_view(), [&] {
            if (x.has_a) {
                w.key("provider");
                w.string(x.a);
            }
            if (x.flag) {
                w.key("users");
                write_set(w, model_users, x.first);
            }
            idents.write_model(w, m);
        });
    }
    w.end_object();
}

void RollupBuilder::Impl::simple_document(JsonSink &w, Level &level)
{
    w.begin_object();
    for (uint32_t i = 0; i < level.agg.size(); i++)
        write_entry(w, level, i, level.agg.slots()[i].key_view(), [] {});
    w.end_object();
}

void RollupBuilder::Impl::derived_document(JsonSink &w)
{
    w.begin_object();
    for (uint32_t p = 0; p < derived.agg.size(); p++) {
        const Extra &x = derived.extra[p];
        write_entry(w, derived, p, derived.agg.slots()[p].key_view(), [&] {
            w.key("models");
            write_set(w, derived_models, x.first);
            if (x.flag) {
                w.key("users");
                write_set(w, derived_users, x.first2);
            }
        });
    }
    w.end_object();
}

// {"<day>": {"users": n, "metrics": {...}, "models": {M: {"metrics": {...}}}}}: each model's
// own entry of that day, canonical.
void RollupBuilder::Impl::daily_document(JsonSink &w)
{
    auto metrics = [&](const int64_t *counts, std::string_view cost) {
        w.begin_object();
        for (int m = 0; m < kCountMetrics; m++) {
            w.key(canonical_metric_name(Metric(m)));
            w.integer(counts[m]);
        }
        w.key(canonical_metric_name(kCost));
        w.decimal(cost);
        w.end_object();
    };
    w.begin_object();
    for (const DayFigures &d : daily) {
        w.key(std::to_string(d.day));
        w.begin_object();
        w.key("users");
        w.integer(d.users);
        w.key("metrics");
        metrics(d.counts, d.cost);
        w.key("models");
        w.begin_object();
        for (uint32_t i = d.first; i < d.end; i++) {
            w.key(models.agg.slots()[day_models[i].model].key_view());
            w.begin_object();
            w.key("metrics");
            metrics(day_models[i].counts, day_models[i].cost);
            w.end_object();
        }
        w.end_object();
        w.end_object();
    }
    w.end_object();
}

bool RollupBuilder::has(RollupDocument d) const
{
    return d != RollupDocument::providers || impl_->any_stored;
}

void RollupBuilder::write(RollupDocument d, JsonSink &out)
{
    Impl &s = *impl_;
    switch (d) {
    case RollupDocument::users: s.users_document(out); break;
    case RollupDocument::models: s.models_document(out); break;
    case RollupDocument::providers: s.simple_document(out, s.providers); break;
    case RollupDocument::providers_derived: s.derived_document(out); break;
    case RollupDocument::models_unprovided: s.simple_document(out, s.unprovided); break;
    case RollupDocument::daily: s.daily_document(out); break;
    }
}

RollupDocuments RollupBuilder::finish()
{
    RollupDocuments d;
    d.days = end_days();
    auto text = [&](RollupDocument doc) {
        JsonTextSink w;
        write(doc, w);
        return w.take();
    };
    d.users = text(RollupDocument::users);
    d.models = text(RollupDocument::models);
    if (has(RollupDocument::providers))
        d.providers = text(RollupDocument::providers);
    d.providers_derived = text(RollupDocument::providers_derived);
    d.models_unprovided = text(RollupDocument::models_unprovided);
    d.daily = text(RollupDocument::daily);
    return d;
}

}  // namespace ducache::core
