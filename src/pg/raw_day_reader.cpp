#include "pg/raw_day_reader.hpp"

#include "pg/boundary.hpp"
#include "pg/entry_reader.hpp"
#include "pg/jsonb_view.hpp"
#include "pg/date_text.hpp"

namespace ducache::pg {

namespace {

bool find_member(const JsonbContainer *obj, std::string_view name, JsonbItem &out)
{
    ObjectWalker w(obj);
    JsonbItem k, v;
    while (w.next(k, v))
        if (std::string_view(k.data, k.len) == name) {
            out = v;
            return true;
        }
    return false;
}

core::RawKind member_kind(const JsonbContainer *obj, std::string_view name, JsonbItem &out)
{
    if (!obj || !find_member(obj, name, out))
        return core::RawKind::absent;
    if (out.type == JENTRY_ISNULL)
        return core::RawKind::null;
    return item_is_object(out) ? core::RawKind::object : core::RawKind::other;
}

// An optional member that must be an object when present.
const JsonbContainer *object_member(const JsonbContainer *obj, std::string_view name, DateADT date,
                                    const std::string &path)
{
    JsonbItem v;
    switch (member_kind(obj, name, v)) {
    case core::RawKind::object:
        return reinterpret_cast<const JsonbContainer *>(v.data);
    case core::RawKind::other:
        core::throw_bad_raw(date_text(date), path, "not a JSON object");
    default:
        return nullptr;
    }
}

const JsonbContainer *raw_root(const Jsonb *raw, DateADT date)
{
    if (!raw || JB_ROOT_IS_SCALAR(raw) || !JB_ROOT_IS_OBJECT(raw))
        core::throw_bad_raw(date_text(date), "raw_data", "not a JSON object");
    return &raw->root;
}

// Walks breakdown.models: on_model(name, model) for each model object, then on_key(hash, entry)
// for each key hash under its api_keys (blank ones too: the rebuild counts them as skipped). Both passes of the rebuild read this way.
template <typename OnModel, typename OnKey>
void walk_models(const Jsonb *raw, DateADT date, OnModel &&on_model, OnKey &&on_key)
{
    const JsonbContainer *root = raw_root(raw, date);
    const JsonbContainer *breakdown = object_member(root, "breakdown", date, "breakdown");
    const JsonbContainer *models = object_member(breakdown, "models", date, "breakdown.models");
    if (!models)
        return;
    ObjectWalker mw(models);
    JsonbItem mk, mv;
    while (mw.next(mk, mv)) {
        std::string path = "breakdown.models.\"" + std::string(mk.data, mk.len) + "\"";
        if (!item_is_object(mv))
            core::throw_bad_raw(date_text(date), path, "not a JSON object");
        std::string_view name(mk.data, mk.len);
        on_model(name, mv);
        const JsonbContainer *keys = object_member(reinterpret_cast<const JsonbContainer *>(mv.data),
                                                   "api_keys", date, path + ".api_keys");
        if (!keys)
            continue;
        ObjectWalker kw(keys);
        JsonbItem kk, kv;
        while (kw.next(kk, kv)) {
            on_key(std::string_view(kk.data, kk.len), kv);
        }
    }
}

Datum copy_container(const JsonbItem &item)
{
    return pg_call([&] {
        JsonbValue v;
        v.type = jbvBinary;
        v.val.binary.data = reinterpret_cast<JsonbContainer *>(const_cast<char *>(item.data));
        v.val.binary.len = int(item.len);
        return JsonbPGetDatum(JsonbValueToJsonb(&v));
    });
}

}  // namespace

void collect_key_hashes(const Jsonb *raw, DateADT date, KeyHashes &hashes)
{
    walk_models(
        raw, date, [](std::string_view, const JsonbItem &) {},
        [&](std::string_view hash, const JsonbItem &) {
            if (core::KeyOwners::counts_key(hash) && hashes.find(hash) == hashes.end())
                hashes.emplace(hash);
        });
}

// A key's metadata.key_alias when it is a string (the alias of a key with no
// api_keys.litellm_key_alias).
static bool metadata_alias(const JsonbItem &key_entry, std::string_view &alias)
{
    if (!item_is_object(key_entry))
        return false;
    JsonbItem meta, a;
    if (!find_member(reinterpret_cast<const JsonbContainer *>(key_entry.data), "metadata", meta) ||
        !item_is_object(meta) || !find_member(reinterpret_cast<const JsonbContainer *>(meta.data), "key_alias", a) ||
        a.type != JENTRY_ISSTRING)
        return false;
    alias = std::string_view(a.data, a.len);
    return true;
}

void feed_raw_day(const Jsonb *raw, DateADT date, core::RebuildDay &day)
{
    InputRow ctx{date, 0, "raw_data breakdown.models"};
    InputRow kctx{date, 0, "raw_data api_keys"};
    EntryValues values;
    walk_models(
        raw, date,
        [&](std::string_view name, const JsonbItem &mv) {
            read_entry(mv, ctx, name, false, values);
            day.add_model(name, values.counts, values.cost_seen ? &values.cost : nullptr);
        },
        [&](std::string_view hash, const JsonbItem &kv) {
            read_entry(kv, kctx, hash, false, values);
            std::string_view alias;
            bool has_alias = metadata_alias(kv, alias);
            day.add_key(hash, has_alias ? &alias : nullptr, values.counts, values.cost_seen ? &values.cost : nullptr);
        });
    JsonbItem item;
    if (core::raw_metrics_present(member_kind(raw_root(raw, date), "metrics", item), date_text(date))) {
        InputRow tctx{date, 0, "raw_data"};
        read_entry(item, tctx, "metrics", false, values);
        day.finish(values.counts, values.cost_seen ? &values.cost : nullptr);
    } else {
        int64_t zeros[core::kCountMetrics] = {};
        day.finish(zeros, nullptr);
    }
}

CopiedMembers copy_raw_members(const Jsonb *raw, DateADT date)
{
    CopiedMembers out{};
    const JsonbContainer *root = raw_root(raw, date);
    const JsonbContainer *breakdown = object_member(root, "breakdown", date, "breakdown");
    JsonbItem item;
    if (core::providers_copy(member_kind(breakdown, "providers", item), date_text(date)) == core::CopyAs::copy) {
        out.providers = copy_container(item);
        out.n_providers = int32(JsonContainerSize(reinterpret_cast<const JsonbContainer *>(item.data)));
    } else {
        out.providers = pg_call([] { return DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")); });
    }
    return out;
}

}  // namespace ducache::pg
