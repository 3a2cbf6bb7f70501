// See shard_split_day.hpp. Reading (metrics, keys) walks JSONB in place and may throw
// core::Error; building the shard documents (pushJsonbValue) runs in pg_call blocks that
// throw nothing of their own.
#include "core/aggregator.hpp"
#include "core/entry_rules.hpp"
#include "core/filters.hpp"
#include "core/shard_split.hpp"

#include "pg/shard_split_day.hpp"

#include "pg/boundary.hpp"
#include "pg/entry_reader.hpp"
#include "pg/jsonb_view.hpp"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

extern "C" {
#include "common/hashfn.h"
}

namespace ducache::pg {

namespace {

enum { kRaw = 0, kUsers, kModels, kProviders, kTotal };

const Jsonb *jsonb_of(const SplitColumns &c, int col, int r)
{
    if (!c.present[col] || c.nulls[col][r])
        return nullptr;
    return reinterpret_cast<const Jsonb *>(DatumGetPointer(c.values[col][r]));
}

bool is_object(const Jsonb *j) { return j && JsonContainerIsObject(&j->root) && !JsonContainerIsScalar(&j->root); }

JsonbValue value_of(const JsonbItem &it)
{
    JsonbValue v;
    switch (it.type) {
    case JENTRY_ISSTRING:
        v.type = jbvString;
        v.val.string.val = const_cast<char *>(it.data);
        v.val.string.len = int(it.len);
        break;
    case JENTRY_ISNUMERIC:
        v.type = jbvNumeric;
        v.val.numeric = reinterpret_cast<Numeric>(const_cast<char *>(it.data));
        break;
    case JENTRY_ISBOOL_FALSE:
    case JENTRY_ISBOOL_TRUE:
        v.type = jbvBool;
        v.val.boolean = it.type == JENTRY_ISBOOL_TRUE;
        break;
    case JENTRY_ISNULL:
        v.type = jbvNull;
        break;
    default:
        v.type = jbvBinary;
        v.val.binary.data = reinterpret_cast<JsonbContainer *>(const_cast<char *>(it.data));
        v.val.binary.len = int(it.len);
    }
    return v;
}

JsonbValue string_value(const std::string &s)
{
    JsonbValue v;
    v.type = jbvString;
    v.val.string.val = const_cast<char *>(s.data());
    v.val.string.len = int(s.size());
    return v;
}

// The seven values of a MetricSums as numeric_in input, palloc'd before any pg_call (no
// std::string may be alive when PostgreSQL raises).
struct SumsText {
    const char *v[core::kMetricCount];
};

SumsText text_of(const core::MetricSums &sums)
{
    SumsText t;
    for (int m = 0; m < core::kMetricCount; m++) {
        std::string s = sums.value_text(core::Metric(m));
        char *p = static_cast<char *>(palloc_or_throw(CurrentMemoryContext, s.size() + 1));
        memcpy(p, s.c_str(), s.size() + 1);
        t.v[m] = p;
    }
    return t;
}

// Inside pg_call: pushes {"api_requests": .., ..., "spend": ..}; returns what the closing push
// returns (the whole value at top level).
JsonbValue *push_metrics(JsonbParseState **st, const SumsText &t)
{
    pushJsonbValue(st, WJB_BEGIN_OBJECT, nullptr);
    for (int m = 0; m < core::kMetricCount; m++) {
        const char *key = core::shard_metric_key(core::Metric(m));
        JsonbValue k;
        k.type = jbvString;
        k.val.string.val = const_cast<char *>(key);
        k.val.string.len = int(strlen(key));
        pushJsonbValue(st, WJB_KEY, &k);
        Datum num = DirectFunctionCall3(numeric_in, CStringGetDatum(t.v[m]), ObjectIdGetDatum(InvalidOid),
                                        Int32GetDatum(-1));
        JsonbValue v;
        v.type = jbvNumeric;
        v.val.numeric = DatumGetNumeric(num);
        pushJsonbValue(st, WJB_VALUE, &v);
    }
    return pushJsonbValue(st, WJB_END_OBJECT, nullptr);
}

Datum finish(JsonbParseState **st)
{
    JsonbValue *res = pushJsonbValue(st, WJB_END_OBJECT, nullptr);
    return JsonbPGetDatum(JsonbValueToJsonb(res));
}

Datum empty_object()
{
    JsonbParseState *st = nullptr;
    pushJsonbValue(&st, WJB_BEGIN_OBJECT, nullptr);
    return finish(&st);
}

struct Member {
    JsonbItem key, value;
};

// One day, cell mode: every user entry has a "models" object and aggregated_by_model is an
// object of objects, so model sums can follow the users.
class DaySplit {
public:
    DaySplit(int shards, const Jsonb *users, const Jsonb *models, DateADT date)
        : shards_(shards), users_(users), models_(models), day_{date, 0, "aggregated_by_user"}, label_(day_)
    {
    }

    // False when the day's model sums cannot follow the users (flat entries, odd shapes).
    bool cell_mode() const
    {
        if (!is_object(users_) || !is_object(models_))
            return false;
        ObjectWalker w(&models_->root);
        JsonbItem k, v;
        while (w.next(k, v))
            if (!item_is_object(v))
                return false;
        ObjectWalker u(&users_->root);
        while (u.next(k, v)) {
            if (!item_is_object(v))
                return false;  // read_entry names it below
            JsonbItem m;
            if (!member(v, "models", m) || !item_is_object(m))
                return false;
        }
        return true;
    }

    // Reads users (and, in cell mode, their cells) into the split and the per-shard members.
    void read(bool cells)
    {
        std::vector<core::SplitModel> infos;
        std::unordered_map<std::string_view, int> index;
        if (cells) {
            ObjectWalker w(&models_->root);
            JsonbItem k, v;
            while (w.next(k, v)) {
                std::string_view name(k.data, k.len);
                JsonbItem p;
                std::string provider = member(v, "provider", p) && p.type == JENTRY_ISSTRING
                                           ? std::string(p.data, p.len)
                                           : std::string(core::provider_from_name(name));
                index.emplace(name, int(infos.size()));
                infos.push_back({std::string(name), provider});
                model_members_.push_back({k, v});
            }
        }
        split_ = std::make_unique<core::ShardSplit>(shards_, std::move(infos));
        user_members_.assign(shards_, {});
        if (!is_object(users_))
            return;
        for_each_entry_item(users_, day_, false, [&](std::string_view key, const EntryValues &own, uint32,
                                                     const JsonbItem &item) {
            int k = shard_of_key(key.data(), int(key.size()), shards_);
            split_->add_user(k, key, own, label_);
            JsonbItem kitem{JENTRY_ISSTRING, key.data(), uint32(key.size())};
            user_members_[k].push_back({kitem, item});
            if (!cells)
                return;
            JsonbItem ms;
            member(item, "models", ms);
            ObjectWalker cw(reinterpret_cast<const JsonbContainer *>(ms.data));
            JsonbItem mk, mv;
            while (cw.next(mk, mv)) {
                auto at = index.find(std::string_view(mk.data, mk.len));
                if (at == index.end())
                    continue;  // a model the day's aggregated_by_model does not list
                core::EntrySite site{"aggregated_by_user", label_, key};
                EntryValues cell;
                read_cell_entry(mv, site, 1, cell);
                split_->add_cell(k, at->second, key, cell, label_);
            }
        });
    }

    // In pg_call: shard k's aggregated_by_user.
    Datum users_doc(int k) const
    {
        JsonbParseState *st = nullptr;
        pushJsonbValue(&st, WJB_BEGIN_OBJECT, nullptr);
        for (const Member &m : user_members_[k]) {
            JsonbValue key = value_of(m.key), val = value_of(m.value);
            pushJsonbValue(&st, WJB_KEY, &key);
            pushJsonbValue(&st, WJB_VALUE, &val);
        }
        return finish(&st);
    }

    // In pg_call: shard k's aggregated_by_model: each model with cells there, its own members
    // kept except the metrics (replaced by the shard's sums) and "users" (only the shard's).
    // Outside pg_call: the texts of shard k's model sums (index m; unused models get none).
    std::vector<SumsText> model_texts(int k) const
    {
        std::vector<SumsText> out(split_->models());
        for (int m = 0; m < split_->models(); m++)
            if (split_->model(k, m).used)
                out[m] = text_of(split_->model(k, m));
        return out;
    }

    Datum models_doc(int k, const std::vector<SumsText> &texts) const
    {
        JsonbParseState *st = nullptr;
        pushJsonbValue(&st, WJB_BEGIN_OBJECT, nullptr);
        for (int m = 0; m < split_->models(); m++) {
            const core::MetricSums &sums = split_->model(k, m);
            if (!sums.used)
                continue;
            JsonbValue key = value_of(model_members_[m].key);
            pushJsonbValue(&st, WJB_KEY, &key);
            pushJsonbValue(&st, WJB_BEGIN_OBJECT, nullptr);
            ObjectWalker w(reinterpret_cast<const JsonbContainer *>(model_members_[m].value.data));
            JsonbItem mk, mv;
            while (w.next(mk, mv)) {
                std::string_view name(mk.data, mk.len);
                core::KeyClass kc = core::classify_key(mk.data, mk.len);
                if (kc.kind == core::KeyKind::metric || kc.kind == core::KeyKind::metrics_object)
                    continue;
                JsonbValue kv = value_of(mk);
                pushJsonbValue(&st, WJB_KEY, &kv);
                if (name == "users" && item_is_object(mv)) {
                    pushJsonbValue(&st, WJB_BEGIN_OBJECT, nullptr);
                    ObjectWalker uw(reinterpret_cast<const JsonbContainer *>(mv.data));
                    JsonbItem uk, uv;
                    while (uw.next(uk, uv))
                        if (shard_of_key(uk.data, int(uk.len), shards_) == k) {
                            JsonbValue a = value_of(uk), b = value_of(uv);
                            pushJsonbValue(&st, WJB_KEY, &a);
                            pushJsonbValue(&st, WJB_VALUE, &b);
                        }
                    pushJsonbValue(&st, WJB_END_OBJECT, nullptr);
                } else {
                    JsonbValue vv = value_of(mv);
                    pushJsonbValue(&st, WJB_VALUE, &vv);
                }
            }
            JsonbValue mkey = string_value("metrics");
            pushJsonbValue(&st, WJB_KEY, &mkey);
            push_metrics(&st, texts[m]);
            pushJsonbValue(&st, WJB_END_OBJECT, nullptr);
        }
        return finish(&st);
    }

    // Outside pg_call (may throw): shard k's providers, grouped.
    std::map<std::string, core::MetricSums> providers(int k) const { return split_->providers(k, label_); }

    const core::MetricSums &total(int k) const { return split_->total(k); }

private:
    static bool member(const JsonbItem &obj, std::string_view name, JsonbItem &out)
    {
        ObjectWalker w(reinterpret_cast<const JsonbContainer *>(obj.data));
        JsonbItem k;
        while (w.next(k, out))
            if (std::string_view(k.data, k.len) == name)
                return true;
        return false;
    }

    int shards_;
    const Jsonb *users_, *models_;
    InputRow day_;
    DayLabel label_;
    std::unique_ptr<core::ShardSplit> split_;
    std::vector<Member> model_members_;
    std::vector<std::vector<Member>> user_members_;
};

// In pg_call: {P: {"metrics": sums}} for the shard's providers.
struct ProviderText {
    const std::string *name;
    SumsText sums;
};

Datum providers_doc(const std::vector<ProviderText> &providers)
{
    JsonbParseState *st = nullptr;
    pushJsonbValue(&st, WJB_BEGIN_OBJECT, nullptr);
    for (const ProviderText &p : providers) {
        JsonbValue key = string_value(*p.name);
        pushJsonbValue(&st, WJB_KEY, &key);
        pushJsonbValue(&st, WJB_BEGIN_OBJECT, nullptr);
        JsonbValue mkey = string_value("metrics");
        pushJsonbValue(&st, WJB_KEY, &mkey);
        push_metrics(&st, p.sums);
        pushJsonbValue(&st, WJB_END_OBJECT, nullptr);
    }
    return finish(&st);
}

Datum metrics_doc(const SumsText &t)
{
    JsonbParseState *st = nullptr;
    return JsonbPGetDatum(JsonbValueToJsonb(push_metrics(&st, t)));
}

Datum *new_datums(int n) { return static_cast<Datum *>(palloc_or_throw(CurrentMemoryContext, sizeof(Datum) * n)); }
bool *new_nulls(int n)
{
    bool *b = static_cast<bool *>(palloc_or_throw(CurrentMemoryContext, sizeof(bool) * n));
    memset(b, 0, sizeof(bool) * n);
    return b;
}

}  // namespace

// Every column of every shard for day r. Rules (docs/scale-out-writes.md):
//  raw_data       shard 0 keeps it whole, the others get {};
//  users          by hash; NULL stays NULL everywhere;
//  models         cell mode: each shard's models from its users' cells; otherwise whole on
//                 shard 0 and {} (NULL stays NULL) on the others;
//  providers      NULL stays NULL; {} stays {}; cell mode: grouped from the shard's models;
//                 otherwise whole on shard 0, {} on the others;
//  total_metrics  NULL stays NULL; with users: the sums of the shard's users; otherwise whole
//                 on shard 0, NULL on the others.
void split_batch(int shards, int n, const Datum *dates, const SplitColumns &in, SplitColumns *out)
{
    for (int k = 0; k < shards; k++)
        for (int c = 0; c < kSplitColumns; c++) {
            out[k].present[c] = in.present[c];
            out[k].values[c] = in.present[c] ? new_datums(n) : nullptr;
            out[k].nulls[c] = in.present[c] ? new_nulls(n) : nullptr;
        }
    Datum empty = pg_call([] { return empty_object(); });
    for (int r = 0; r < n; r++) {
        check_for_interrupts();
        const Jsonb *users = jsonb_of(in, kUsers, r), *models = jsonb_of(in, kModels, r);
        const Jsonb *providers = jsonb_of(in, kProviders, r), *total = jsonb_of(in, kTotal, r);
        DaySplit day(shards, users, models, DatumGetDateADT(dates[r]));
        bool cells = day.cell_mode();
        day.read(cells);  // throws on a bad usage value
        for (int k = 0; k < shards; k++) {
            SplitColumns &o = out[k];
            auto put = [&](int c, Datum v, bool isnull) {
                if (!o.present[c])
                    return;
                o.values[c][r] = v;
                o.nulls[c][r] = isnull;
            };
            auto whole_on_first = [&](int c, const Jsonb *orig, bool others_empty) {
                if (orig == nullptr)
                    put(c, (Datum)0, true);
                else if (k == 0)
                    put(c, in.values[c][r], false);
                else
                    put(c, empty, !others_empty);
            };
            whole_on_first(kRaw, jsonb_of(in, kRaw, r), true);
            std::vector<SumsText> model_texts = cells ? day.model_texts(k) : std::vector<SumsText>();
            std::vector<ProviderText> provider_texts;
            auto grouped = day.providers(k);
            for (const auto &p : grouped)
                provider_texts.push_back({&p.first, text_of(p.second)});
            SumsText total_text = text_of(day.total(k));
            pg_call([&] {
                if (users != nullptr)
                    put(kUsers, day.users_doc(k), false);
                else
                    put(kUsers, (Datum)0, true);
                if (cells)
                    put(kModels, day.models_doc(k, model_texts), false);
                else
                    whole_on_first(kModels, models, true);
                if (providers == nullptr)
                    put(kProviders, (Datum)0, true);
                else if (cells && is_object(providers) && JsonContainerSize(&providers->root) > 0)
                    put(kProviders, providers_doc(provider_texts), false);
                else if (cells)
                    put(kProviders, empty, false);
                else
                    whole_on_first(kProviders, providers, true);
                if (total == nullptr)
                    put(kTotal, (Datum)0, true);
                else if (is_object(users))
                    put(kTotal, metrics_doc(total_text), false);
                else
                    whole_on_first(kTotal, total, false);
            });
        }
    }
}

int shard_of_key(const char *key, int len, int shards)
{
    uint32 h = hash_bytes(reinterpret_cast<const unsigned char *>(key), len);
    return core::shard_of_hash(int32_t(h), shards);
}

}  // namespace ducache::pg
