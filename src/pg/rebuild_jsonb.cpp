#include "pg/rebuild_jsonb.hpp"

#include "pg/boundary.hpp"

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

// {api_requests, ..., spend}, under the key "metrics" when with_key. Returns what the closing
// push returns (the finished value when the metrics are the root).
JsonbValue *push_metrics(JsonbParseState **ps, const core::Totals &t, bool with_key = true)
{
    std::string cost = t.cost.to_string();
    const char *cost_text = cost.c_str();
    return pg_call([&] {
        if (with_key)
            push_key(ps, "metrics", 7);
        pushJsonbValue(ps, WJB_BEGIN_OBJECT, nullptr);
        for (int m = 0; m < core::kCountMetrics; m++) {
            const char *name = core::nested_metric_name(core::Metric(m));
            push_key(ps, name, strlen(name));
            JsonbValue v;
            v.type = jbvNumeric;
            v.val.numeric = int64_to_numeric(t.counts[m]);
            pushJsonbValue(ps, WJB_VALUE, &v);
        }
        const char *spend = core::nested_metric_name(core::kCost);
        push_key(ps, spend, strlen(spend));
        JsonbValue v;
        v.type = jbvNumeric;
        v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(cost_text),
                                                            ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
        pushJsonbValue(ps, WJB_VALUE, &v);
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

// {"userId", "username", "email"[, "role"]} of one user.
void push_identity(JsonbParseState **ps, const core::PmrString &uid, const core::Owner &who, bool with_role)
{
    pg_call([&] {
        push_string_or_null(ps, "userId", uid, true);
        push_string_or_null(ps, "username", who.username, who.has_username);
        push_string_or_null(ps, "email", who.email, who.has_email);
        if (with_role)
            push_string_or_null(ps, "role", who.role, who.has_role);
    });
}

}  // namespace

Datum users_document(const core::RebuildDay &day)
{
    JsonbParseState *ps = nullptr;
    begin_root(&ps);
    for (const auto &[uid, user] : day.users()) {
        check_for_interrupts();
        open_object(&ps, uid);
        push_identity(&ps, uid, *user.owner, true);
        push_metrics(&ps, user.metrics);
        open_object(&ps, "models");
        for (const auto &[model, user_model] : user.models) {
            open_object(&ps, model);
            pg_call([&] { push_string_or_null(&ps, "modelName", model, true); });
            push_metrics(&ps, user_model.metrics);
            open_object(&ps, "api_keys");
            for (const auto &[alias, cell] : user_model.api_keys) {
                open_object(&ps, alias);
                pg_call([&] {
                    push_string_or_null(&ps, "keyAlias", alias, true);
                    push_string_or_null(&ps, "keyName", cell.key_name, cell.has_key_name);
                });
                push_metrics(&ps, cell.metrics);
                close_objects(&ps, 1);
            }
            close_objects(&ps, 2);  // api_keys, model
        }
        close_objects(&ps, 2);  // models, user
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
        push_metrics(&ps, doc.metrics);
        open_object(&ps, "users");
        for (const auto &[uid, model_user] : doc.users) {
            open_object(&ps, uid);
            push_identity(&ps, uid, *model_user.user->owner, false);
            push_metrics(&ps, model_user.metrics);
            close_objects(&ps, 1);
        }
        close_objects(&ps, 2);  // users, model
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
