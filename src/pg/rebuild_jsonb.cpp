#include "pg/rebuild_jsonb.hpp"

#include "pg/boundary.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

namespace ducache::pg {

namespace {

// Each pg_call below holds no C++ object of its own: an ERROR inside skips no destructor.

void push_key(JsonbParseState **ps, const char *s, size_t len)
{
    JsonbValue k;
    k.type = jbvString;
    k.val.string.val = const_cast<char *>(s);
    k.val.string.len = int(len);
    pushJsonbValue(ps, WJB_KEY, &k);
}

void push_string_or_null(JsonbParseState **ps, const char *key, const core::PmrString &s, bool present)
{
    push_key(ps, key, strlen(key));
    JsonbValue v;
    if (present) {
        v.type = jbvString;
        v.val.string.val = const_cast<char *>(s.data());
        v.val.string.len = int(s.size());
    } else {
        v.type = jbvNull;
    }
    pushJsonbValue(ps, WJB_VALUE, &v);
}

// The metrics in the order JSONB keeps object keys (shorter first, then bytewise). Pushed in
// that order, the sort pushJsonbValue runs on every closed object finds them presorted and
// stops after one pass: with seven keys per object it otherwise took a fifth of a rebuild.
const std::array<core::Metric, core::kMetricCount> &metrics_in_jsonb_order()
{
    static const std::array<core::Metric, core::kMetricCount> order = [] {
        std::array<core::Metric, core::kMetricCount> o{};
        for (int m = 0; m < core::kMetricCount; m++)
            o[m] = core::Metric(m);
        std::sort(o.begin(), o.end(), [](core::Metric a, core::Metric b) {
            const char *x = core::nested_metric_name(a), *y = core::nested_metric_name(b);
            size_t lx = strlen(x), ly = strlen(y);
            return lx != ly ? lx < ly : memcmp(x, y, lx) < 0;
        });
        return o;
    }();
    return order;
}

// {api_requests, ..., spend}, under the key "metrics" when with_key. Returns what the closing
// push returns (the finished value when the metrics are the root).
JsonbValue *push_metrics(JsonbParseState **ps, const core::Totals &t, bool with_key = true)
{
    std::string cost = t.cost.to_string();
    const char *cost_text = cost.c_str();
    const auto &order = metrics_in_jsonb_order();
    return pg_call([&] {
        if (with_key)
            push_key(ps, "metrics", 7);
        pushJsonbValue(ps, WJB_BEGIN_OBJECT, nullptr);
        for (core::Metric m : order) {
            const char *name = core::nested_metric_name(m);
            push_key(ps, name, strlen(name));
            JsonbValue v;
            v.type = jbvNumeric;
            if (m == core::kCost)
                v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(cost_text),
                                                                    ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
            else
                v.val.numeric = int64_to_numeric(t.counts[m]);
            pushJsonbValue(ps, WJB_VALUE, &v);
        }
        return pushJsonbValue(ps, WJB_END_OBJECT, nullptr);
    });
}

void open_object(JsonbParseState **ps, std::string_view key)
{
    pg_call([&] {
        push_key(ps, key.data(), key.size());
        pushJsonbValue(ps, WJB_BEGIN_OBJECT, nullptr);
    });
}

void close_objects(JsonbParseState **ps, int n)
{
    pg_call([&] {
        for (int i = 0; i < n; i++)
            pushJsonbValue(ps, WJB_END_OBJECT, nullptr);
    });
}

void begin_root(JsonbParseState **ps)
{
    *ps = nullptr;
    pg_call([&] { pushJsonbValue(ps, WJB_BEGIN_OBJECT, nullptr); });
}

Datum finish_root(JsonbParseState **ps)
{
    return pg_call([&] { return JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(ps, WJB_END_OBJECT, nullptr))); });
}

// Every object below is pushed with its keys in JSONB's order (shorter first, then bytewise),
// for the same reason as metrics_in_jsonb_order(): the sort at each closing push then only
// checks. The order is noted at each object; a key out of order costs time, never a wrong
// document (pushJsonbValue sorts).

}  // namespace

Datum users_document(const core::RebuildDay &day)
{
    JsonbParseState *ps = nullptr;
    begin_root(&ps);
    for (const auto &[uid, user] : day.users()) {
        check_for_interrupts();
        const core::Owner &who = *user.owner;
        open_object(&ps, uid);
        // role, email, models, userId, metrics, username
        pg_call([&] {
            push_string_or_null(&ps, "role", who.role, who.has_role);
            push_string_or_null(&ps, "email", who.email, who.has_email);
        });
        open_object(&ps, "models");
        for (const auto &[model, user_model] : user.models) {
            open_object(&ps, model);
            // metrics, api_keys, modelName
            push_metrics(&ps, user_model.metrics);
            open_object(&ps, "api_keys");
            for (const auto &[alias, cell] : user_model.api_keys) {
                open_object(&ps, alias);
                // keyName, metrics, keyAlias
                pg_call([&] { push_string_or_null(&ps, "keyName", cell.key_name, cell.has_key_name); });
                push_metrics(&ps, cell.metrics);
                pg_call([&] { push_string_or_null(&ps, "keyAlias", alias, true); });
                close_objects(&ps, 1);
            }
            close_objects(&ps, 1);  // api_keys
            pg_call([&] { push_string_or_null(&ps, "modelName", model, true); });
            close_objects(&ps, 1);  // model
        }
        close_objects(&ps, 1);  // models
        pg_call([&] { push_string_or_null(&ps, "userId", uid, true); });
        push_metrics(&ps, user.metrics);
        pg_call([&] { push_string_or_null(&ps, "username", who.username, who.has_username); });
        close_objects(&ps, 1);  // user
    }
    return finish_root(&ps);
}

Datum models_document(const core::RebuildDay &day)
{
    JsonbParseState *ps = nullptr;
    begin_root(&ps);
    for (const auto &[model, doc] : day.models()) {
        check_for_interrupts();
        open_object(&ps, model);
        // users, metrics
        open_object(&ps, "users");
        for (const auto &[uid, model_user] : doc.users) {
            const core::Owner &who = *model_user.user->owner;
            open_object(&ps, uid);
            // email, userId, metrics, username
            pg_call([&] {
                push_string_or_null(&ps, "email", who.email, who.has_email);
                push_string_or_null(&ps, "userId", uid, true);
            });
            push_metrics(&ps, model_user.metrics);
            pg_call([&] { push_string_or_null(&ps, "username", who.username, who.has_username); });
            close_objects(&ps, 1);
        }
        close_objects(&ps, 1);  // users
        push_metrics(&ps, doc.metrics);
        close_objects(&ps, 1);  // model
    }
    return finish_root(&ps);
}

Datum totals_document(const core::RebuildDay &day)
{
    JsonbParseState *ps = nullptr;
    JsonbValue *root = push_metrics(&ps, day.totals(), false);
    return pg_call([&] { return JsonbPGetDatum(JsonbValueToJsonb(root)); });
}

}  // namespace ducache::pg
