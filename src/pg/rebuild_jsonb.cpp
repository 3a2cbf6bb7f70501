#include "pg/rebuild_jsonb.hpp"

#include "pg/boundary.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory_resource>
#include <string>

namespace ducache::pg {

namespace {

// A document is built as one in-memory JsonbValue tree whose objects already hold their pairs
// in JSONB's key order (shorter first, then bytewise; keys are unique: they come from maps),
// then encoded by one JsonbValueToJsonb call. pushJsonbValue, used before, copied every value
// into growing parse-state arrays and sorted each object again as it closed: two thirds of a
// rebuild that changes nothing went into building its documents that way.

bool jsonb_key_less(std::string_view a, std::string_view b)
{
    return a.size() != b.size() ? a.size() < b.size() : memcmp(a.data(), b.data(), a.size()) < 0;
}

// The metrics in JSONB's key order.
const std::array<core::Metric, core::kMetricCount> &metrics_in_jsonb_order()
{
    static const std::array<core::Metric, core::kMetricCount> order = [] {
        std::array<core::Metric, core::kMetricCount> o{};
        for (int m = 0; m < core::kMetricCount; m++)
            o[m] = core::Metric(m);
        std::sort(o.begin(), o.end(), [](core::Metric a, core::Metric b) {
            return jsonb_key_less(core::nested_metric_name(a), core::nested_metric_name(b));
        });
        return o;
    }();
    return order;
}

// A count as a numeric. Most counts of a day are small and repeat in every object, so the
// small ones are converted once per backend and shared: the encoder only copies their bytes.
// Called inside pg_call.
Numeric count_numeric(int64 n)
{
    constexpr int64 kCached = 8192;
    static Numeric small[kCached];
    if (n < 0 || n >= kCached)
        return int64_to_numeric(n);
    if (small[n] == nullptr) {
        Numeric v = int64_to_numeric(n);
        Numeric kept = static_cast<Numeric>(MemoryContextAlloc(TopMemoryContext, VARSIZE(v)));
        memcpy(kept, v, VARSIZE(v));
        small[n] = kept;
    }
    return small[n];
}

class Tree {
public:
    // The tree lives in mr (the day's arena); the encoded document in CurrentMemoryContext.
    explicit Tree(std::pmr::memory_resource *mr) : mr_(mr) {}

    JsonbPair *pairs(size_t n)
    {
        return static_cast<JsonbPair *>(mr_->allocate((n ? n : 1) * sizeof(JsonbPair), alignof(JsonbPair)));
    }

    static void object(JsonbValue &v, JsonbPair *pairs, size_t n)
    {
        v.type = jbvObject;
        v.val.object.nPairs = int(n);
        v.val.object.pairs = pairs;
    }
    static void string(JsonbValue &v, std::string_view s)
    {
        v.type = jbvString;
        v.val.string.val = const_cast<char *>(s.data());
        v.val.string.len = int(s.size());
    }
    // Pair i of an object: its key, and its place for the encoder.
    static JsonbValue &at(JsonbPair *pairs, uint32_t i, std::string_view key)
    {
        string(pairs[i].key, key);
        pairs[i].order = i;
        return pairs[i].value;
    }
    static void string_or_null(JsonbValue &v, std::string_view s, bool present)
    {
        if (present)
            string(v, s);
        else
            v.type = jbvNull;
    }

    // {api_requests, ..., spend} into v.
    void metrics(JsonbValue &v, const core::Totals &t)
    {
        std::string cost = t.cost.to_string();
        const char *cost_text = cost.c_str();
        const auto &order = metrics_in_jsonb_order();
        JsonbPair *p = pairs(order.size());
        pg_call([&] {  // holds no C++ object of its own
            for (uint32_t i = 0; i < order.size(); i++) {
                core::Metric m = order[i];
                JsonbValue &value = at(p, i, core::nested_metric_name(m));
                value.type = jbvNumeric;
                value.val.numeric =
                    m == core::kCost ? DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(cost_text),
                                                                           ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)))
                                     : count_numeric(t.counts[m]);
            }
        });
        object(v, p, order.size());
    }

    // The entries of a name map in JSONB's key order (the map's own order is bytewise).
    template <typename Map>
    const typename Map::value_type **in_key_order(const Map &map)
    {
        using Entry = typename Map::value_type;
        auto **entries = static_cast<const Entry **>(mr_->allocate((map.size() + 1) * sizeof(Entry *), alignof(Entry *)));
        size_t n = 0;
        for (const auto &e : map)
            entries[n++] = &e;
        auto less = [](const Entry *a, const Entry *b) { return jsonb_key_less(a->first, b->first); };
        if (!std::is_sorted(entries, entries + n, less))
            std::sort(entries, entries + n, less);
        return entries;
    }

    static Datum encode(JsonbValue &root)
    {
        return pg_call([&] { return JsonbPGetDatum(JsonbValueToJsonb(&root)); });
    }

private:
    std::pmr::memory_resource *mr_;
};

// {keyName, metrics, keyAlias} (JSONB order)
void key_cell(Tree &tree, JsonbValue &v, std::string_view alias, const core::KeyCell &cell)
{
    JsonbPair *p = tree.pairs(3);
    Tree::string_or_null(Tree::at(p, 0, "keyName"), cell.key_name, cell.has_key_name);
    tree.metrics(Tree::at(p, 1, "metrics"), cell.metrics);
    Tree::string(Tree::at(p, 2, "keyAlias"), alias);
    Tree::object(v, p, 3);
}

// {metrics, api_keys, modelName}
void user_model(Tree &tree, JsonbValue &v, std::string_view model, const core::UserModelDoc &doc)
{
    JsonbPair *p = tree.pairs(3);
    tree.metrics(Tree::at(p, 0, "metrics"), doc.metrics);
    auto **keys = tree.in_key_order(doc.api_keys);
    JsonbPair *kp = tree.pairs(doc.api_keys.size());
    for (uint32_t i = 0; i < doc.api_keys.size(); i++)
        key_cell(tree, Tree::at(kp, i, keys[i]->first), keys[i]->first, keys[i]->second);
    Tree::object(Tree::at(p, 1, "api_keys"), kp, doc.api_keys.size());
    Tree::string(Tree::at(p, 2, "modelName"), model);
    Tree::object(v, p, 3);
}

// {role, email, models, userId, metrics, username}
void user(Tree &tree, JsonbValue &v, std::string_view uid, const core::UserDoc &doc)
{
    const core::Owner &who = *doc.owner;
    JsonbPair *p = tree.pairs(6);
    Tree::string_or_null(Tree::at(p, 0, "role"), who.role, who.has_role);
    Tree::string_or_null(Tree::at(p, 1, "email"), who.email, who.has_email);
    auto **models = tree.in_key_order(doc.models);
    JsonbPair *mp = tree.pairs(doc.models.size());
    for (uint32_t i = 0; i < doc.models.size(); i++)
        user_model(tree, Tree::at(mp, i, models[i]->first), models[i]->first, models[i]->second);
    Tree::object(Tree::at(p, 2, "models"), mp, doc.models.size());
    Tree::string(Tree::at(p, 3, "userId"), uid);
    tree.metrics(Tree::at(p, 4, "metrics"), doc.metrics);
    Tree::string_or_null(Tree::at(p, 5, "username"), who.username, who.has_username);
    Tree::object(v, p, 6);
}

// {email, userId, metrics, username}
void model_user(Tree &tree, JsonbValue &v, std::string_view uid, const core::ModelUserDoc &doc)
{
    const core::Owner &who = *doc.user->owner;
    JsonbPair *p = tree.pairs(4);
    Tree::string_or_null(Tree::at(p, 0, "email"), who.email, who.has_email);
    Tree::string(Tree::at(p, 1, "userId"), uid);
    tree.metrics(Tree::at(p, 2, "metrics"), doc.metrics);
    Tree::string_or_null(Tree::at(p, 3, "username"), who.username, who.has_username);
    Tree::object(v, p, 4);
}

// {users, metrics}
void model(Tree &tree, JsonbValue &v, const core::ModelDoc &doc)
{
    JsonbPair *p = tree.pairs(2);
    auto **users = tree.in_key_order(doc.users);
    JsonbPair *up = tree.pairs(doc.users.size());
    for (uint32_t i = 0; i < doc.users.size(); i++)
        model_user(tree, Tree::at(up, i, users[i]->first), users[i]->first, users[i]->second);
    Tree::object(Tree::at(p, 0, "users"), up, doc.users.size());
    tree.metrics(Tree::at(p, 1, "metrics"), doc.metrics);
    Tree::object(v, p, 2);
}

}  // namespace

Datum users_document(const core::RebuildDay &day, std::pmr::memory_resource *mr)
{
    Tree tree(mr);
    auto **users = tree.in_key_order(day.users());
    JsonbPair *p = tree.pairs(day.users().size());
    for (uint32_t i = 0; i < day.users().size(); i++) {
        check_for_interrupts();
        user(tree, Tree::at(p, i, users[i]->first), users[i]->first, users[i]->second);
    }
    JsonbValue root;
    Tree::object(root, p, day.users().size());
    return Tree::encode(root);
}

Datum models_document(const core::RebuildDay &day, std::pmr::memory_resource *mr)
{
    Tree tree(mr);
    auto **models = tree.in_key_order(day.models());
    JsonbPair *p = tree.pairs(day.models().size());
    for (uint32_t i = 0; i < day.models().size(); i++) {
        check_for_interrupts();
        model(tree, Tree::at(p, i, models[i]->first), models[i]->second);
    }
    JsonbValue root;
    Tree::object(root, p, day.models().size());
    return Tree::encode(root);
}

Datum totals_document(const core::RebuildDay &day, std::pmr::memory_resource *mr)
{
    Tree tree(mr);
    JsonbValue root;
    tree.metrics(root, day.totals());
    return Tree::encode(root);
}

}  // namespace ducache::pg
