// See shard_split_day.hpp. Reading walks JSONB in place and may throw core::Error (a metrics
// field holding a string that is not a number); building the shard documents
// (pushJsonbValue) runs in pg_call blocks, with every text they need prepared beforehand.
#include "core/entry_rules.hpp"
#include "core/error.hpp"
#include "core/error_text.hpp"
#include "core/number.hpp"
#include "core/object_view.hpp"
#include "core/shard_split.hpp"

#include "pg/shard_split_day.hpp"

#include "pg/boundary.hpp"
#include "pg/date_text.hpp"
#include "pg/jsonb_view.hpp"
#include "pg/numeric_decode.hpp"

#include <set>
#include <string>
#include <string_view>
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
const JsonbContainer *container(const JsonbItem &it) { return reinterpret_cast<const JsonbContainer *>(it.data); }
std::string_view text(const JsonbItem &it) { return std::string_view(it.data, it.len); }

// Member `name` of an object item.
bool member(const JsonbContainer *obj, std::string_view name, JsonbItem &out)
{
    ObjectWalker w(obj);
    JsonbItem k;
    while (w.next(k, out))
        if (text(k) == name)
            return true;
    return false;
}

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
        v.val.binary.data = const_cast<JsonbContainer *>(container(it));
        v.val.binary.len = int(it.len);
    }
    return v;
}

JsonbValue string_value(const char *s, size_t len)
{
    JsonbValue v;
    v.type = jbvString;
    v.val.string.val = const_cast<char *>(s);
    v.val.string.len = int(len);
    return v;
}

// A metrics object's sums as palloc'd texts (prepared before pg_call: no std::string may be
// alive when PostgreSQL raises). value NULL = JSON null.
struct FieldText {
    const char *name;
    int name_len;
    const char *value;
};
struct SumsText {
    FieldText *fields;
    int n;
};

char *pstrdup_or_throw(const std::string &s)
{
    char *p = static_cast<char *>(palloc_or_throw(CurrentMemoryContext, s.size() + 1, "a shard's share of a day (text)"));
    memcpy(p, s.c_str(), s.size() + 1);
    return p;
}

SumsText text_of(const core::FieldSums &sums)
{
    SumsText t{nullptr, int(sums.fields().size())};
    t.fields = static_cast<FieldText *>(palloc_or_throw(CurrentMemoryContext, sizeof(FieldText) * (t.n + 1), "the fields of a shard's share of a day"));
    int i = 0;
    for (const auto &f : sums.fields()) {
        t.fields[i].name = f.first.data();  // the FieldSums outlive the pg_call that reads this
        t.fields[i].name_len = int(f.first.size());
        t.fields[i].value = f.second.any ? pstrdup_or_throw(core::FieldSums::text(f.second)) : nullptr;
        i++;
    }
    return t;
}

// In pg_call: pushes the metrics object; returns what the closing push returns.
JsonbValue *push_sums(JsonbParseState **st, const SumsText &t)
{
    pushJsonbValue(st, WJB_BEGIN_OBJECT, nullptr);
    for (int i = 0; i < t.n; i++) {
        JsonbValue k = string_value(t.fields[i].name, t.fields[i].name_len);
        pushJsonbValue(st, WJB_KEY, &k);
        JsonbValue v;
        if (t.fields[i].value == nullptr) {
            v.type = jbvNull;
        } else {
            v.type = jbvNumeric;
            v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(t.fields[i].value),
                                                                ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
        }
        pushJsonbValue(st, WJB_VALUE, &v);
    }
    return pushJsonbValue(st, WJB_END_OBJECT, nullptr);
}

Datum to_datum(JsonbValue *v) { return JsonbPGetDatum(JsonbValueToJsonb(v)); }

Datum empty_object()
{
    JsonbParseState *st = nullptr;
    pushJsonbValue(&st, WJB_BEGIN_OBJECT, nullptr);
    return to_datum(pushJsonbValue(&st, WJB_END_OBJECT, nullptr));
}

struct Member {
    JsonbItem key, value;
};

class DaySplit {
public:
    DaySplit(int shards, const Jsonb *users, const Jsonb *models, const Jsonb *providers, DateADT date)
        : split_(shards), users_(users), models_(models), providers_(providers), date_(date), members_(shards)
    {
    }

    // docs/scale-out.md "Cell-split day", conditions 1-3.
    bool cell_split() const
    {
        if (!is_object(users_))
            return false;
        std::set<std::string_view> used;
        ObjectWalker u(&users_->root);
        JsonbItem k, v, ms;
        while (u.next(k, v)) {
            if (!item_is_object(v) || !member(container(v), "models", ms) || !item_is_object(ms))
                return false;
            ObjectWalker m(container(ms));
            JsonbItem mk, mv;
            while (m.next(mk, mv)) {
                if (!item_is_object(mv))
                    return false;
                used.insert(text(mk));
            }
        }
        if (providers_ != nullptr && !(is_object(providers_) && JsonContainerSize(&providers_->root) == 0))
            return false;
        if (models_ == nullptr)
            return true;
        if (!is_object(models_) || JsonContainerSize(&models_->root) != used.size())
            return false;
        ObjectWalker m(&models_->root);
        while (m.next(k, v))
            if (!item_is_object(v) || used.count(text(k)) == 0)
                return false;
        return true;
    }

    // The users by shard; on a cell-split day also their sums. Throws on a bad number string.
    void read(bool cells)
    {
        if (!is_object(users_))
            return;
        ObjectWalker u(&users_->root);
        JsonbItem k, v;
        uint32 n = 0;
        while (u.next(k, v)) {
            if ((++n & 1023) == 0)
                check_for_interrupts();
            int shard = shard_of_key(k.data, int(k.len), split_.shards());
            members_[shard].push_back({k, v});
            if (!cells)
                continue;
            core::ShardSums &s = split_.shard(shard);
            JsonbItem mx, ms;
            if (member(container(v), "metrics", mx))
                add_metrics(s.total, mx, text(k), "metrics");
            member(container(v), "models", ms);
            ObjectWalker m(container(ms));
            JsonbItem mk, mv;
            while (m.next(mk, mv)) {
                core::FieldSums &f = split_.use_model(shard, text(mk));
                if (member(container(mv), "metrics", mx))
                    add_metrics(f, mx, text(k), text(mk));
            }
        }
    }

    const core::ShardSplit &split() const { return split_; }

    // In pg_call: shard k's aggregated_by_user.
    Datum users_doc(int k) const
    {
        JsonbParseState *st = nullptr;
        pushJsonbValue(&st, WJB_BEGIN_OBJECT, nullptr);
        for (const Member &m : members_[k]) {
            JsonbValue key = value_of(m.key), val = value_of(m.value);
            pushJsonbValue(&st, WJB_KEY, &key);
            pushJsonbValue(&st, WJB_VALUE, &val);
        }
        return to_datum(pushJsonbValue(&st, WJB_END_OBJECT, nullptr));
    }

    // In pg_call: shard k's aggregated_by_model on a cell-split day: the input entry of every
    // model its users used, "metrics" replaced by their sums, an object "users" cut to them.
    // texts: the models of split().shard(k).models, in its order.
    Datum models_doc(int k, const SumsText *texts) const
    {
        JsonbParseState *st = nullptr;
        pushJsonbValue(&st, WJB_BEGIN_OBJECT, nullptr);
        int i = 0;
        for (const auto &model : split_.shard(k).models) {
            JsonbValue key = string_value(model.first.data(), model.first.size());
            pushJsonbValue(&st, WJB_KEY, &key);
            pushJsonbValue(&st, WJB_BEGIN_OBJECT, nullptr);
            JsonbItem entry;
            member(&models_->root, model.first, entry);  // there: the key sets are equal
            ObjectWalker w(container(entry));
            JsonbItem fk, fv;
            while (w.next(fk, fv)) {
                if (text(fk) == "metrics")
                    continue;
                JsonbValue kv = value_of(fk);
                pushJsonbValue(&st, WJB_KEY, &kv);
                if (text(fk) == "users" && item_is_object(fv)) {
                    pushJsonbValue(&st, WJB_BEGIN_OBJECT, nullptr);
                    ObjectWalker uw(container(fv));
                    JsonbItem uk, uv;
                    while (uw.next(uk, uv))
                        if (shard_of_key(uk.data, int(uk.len), split_.shards()) == k) {
                            JsonbValue a = value_of(uk), b = value_of(uv);
                            pushJsonbValue(&st, WJB_KEY, &a);
                            pushJsonbValue(&st, WJB_VALUE, &b);
                        }
                    pushJsonbValue(&st, WJB_END_OBJECT, nullptr);
                } else {
                    JsonbValue vv = value_of(fv);
                    pushJsonbValue(&st, WJB_VALUE, &vv);
                }
            }
            JsonbValue mkey = string_value("metrics", 7);
            pushJsonbValue(&st, WJB_KEY, &mkey);
            push_sums(&st, texts[i++]);
            pushJsonbValue(&st, WJB_END_OBJECT, nullptr);
        }
        return to_datum(pushJsonbValue(&st, WJB_END_OBJECT, nullptr));
    }

private:
    // Adds one "metrics" object (anything else adds nothing) field by field: numbers and
    // number strings count, other values leave the field null. A string that is no number
    // is 22P02, as the cast to numeric would be.
    void add_metrics(core::FieldSums &sums, const JsonbItem &obj, std::string_view user, std::string_view where)
    {
        if (!item_is_object(obj))
            return;
        ObjectWalker w(container(obj));
        JsonbItem fk, fv;
        while (w.next(fk, fv)) {
            core::Decimal d;
            bool number = false;
            if (fv.type == JENTRY_ISNUMERIC)
                number = decode_numeric(fv.data, d);
            else if (fv.type == JENTRY_ISSTRING) {
                if (!core::parse_json_number(text(fv), d)) {
                    core::FixedLabel row(date_text(date_));
                    std::string column = "aggregated_by_user (" + std::string(where) + ")";
                    core::EntrySite site{column, row, user};
                    core::throw_bad_value(site, text(fk), "22P02",
                                          "the string " + core::quoted(text(fv)) +
                                              " is not a number (the coordinator sums it to split the day)");
                }
                number = true;
            }
            sums.add(text(fk), number ? &d : nullptr);
        }
    }

    core::ShardSplit split_;
    const Jsonb *users_, *models_, *providers_;
    DateADT date_;
    std::vector<std::vector<Member>> members_;
};

Datum *new_datums(int n) { return static_cast<Datum *>(palloc_or_throw(CurrentMemoryContext, sizeof(Datum) * n, "the values of a shard's batch")); }
bool *new_nulls(int n)
{
    bool *b = static_cast<bool *>(palloc_or_throw(CurrentMemoryContext, sizeof(bool) * n, "the null flags of a shard's batch"));
    memset(b, 0, sizeof(bool) * n);
    return b;
}

}  // namespace

// docs/scale-out.md "How a day is split", column by column (test/reference/shard_split.sql
// states the same in SQL).
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
        DaySplit day(shards, users, models, providers, DatumGetDateADT(dates[r]));
        bool cells = day.cell_split();
        day.read(cells);  // throws on a bad number string
        for (int k = 0; k < shards; k++) {
            SplitColumns &o = out[k];
            // Texts first (C++ work), then the documents (PostgreSQL work).
            const core::ShardSums &sums = day.split().shard(k);
            std::vector<SumsText> model_texts;
            SumsText total_text{nullptr, 0};
            if (cells) {
                for (const auto &m : sums.models)
                    model_texts.push_back(text_of(m.second));
                total_text = text_of(sums.total);
            }
            auto put = [&](int c, Datum v, bool isnull) {
                if (!o.present[c])
                    return;
                o.values[c][r] = v;
                o.nulls[c][r] = isnull;
            };
            // Whole on shard 0; the others get {} (or NULL: others_null), NULL stays NULL.
            auto home = [&](int c, const Jsonb *orig, bool others_null) {
                if (orig == nullptr)
                    put(c, (Datum)0, true);
                else if (k == 0)
                    put(c, in.values[c][r], false);
                else
                    put(c, empty, others_null);
            };
            pg_call([&] {
                home(kRaw, jsonb_of(in, kRaw, r), false);
                put(kUsers, users != nullptr ? day.users_doc(k) : (Datum)0, users == nullptr);
                if (!cells) {
                    home(kModels, models, false);
                    home(kProviders, providers, false);
                    home(kTotal, total, true);
                    return;
                }
                put(kModels, models != nullptr ? day.models_doc(k, model_texts.data()) : (Datum)0, models == nullptr);
                put(kProviders, providers != nullptr ? PointerGetDatum(providers) : (Datum)0, providers == nullptr);
                if (total != nullptr) {
                    JsonbParseState *st = nullptr;
                    put(kTotal, to_datum(push_sums(&st, total_text)), false);
                } else {
                    put(kTotal, (Datum)0, true);
                }
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
