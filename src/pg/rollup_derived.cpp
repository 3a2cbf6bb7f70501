// ducache_rollups_derived(): BEFORE INSERT OR UPDATE trigger on ducache_rollups and
// ducache_rollup_blocks (src/sql/56_rollup_derived.sql). On every write of a rollup row, by
// whoever writes it (the refresh, or a superuser editing the row by hand), it sets three columns
// from the row's own documents, so they can never disagree with them:
//   user_totals   aggregated_by_user without each user's "models": the user level (metrics,
//                 "~days", identity), all a user-level read of the row looks at;
//   model_totals  aggregated_by_model without each model's "users" and "~named" (a month's
//                 distinct users make most of that document; the dashboard reads metrics and
//                 providers only);
//   key_totals    {U: {A: {"metrics"}}}: each user's key cells summed by key alias over its
//                 models, exactly as the dashboard sums them for the top API key; NULL when a
//                 cell is one the readers refuse or a sum overflows (the dashboard then reads
//                 the days: pg/rollup_retry.hpp).
// A month's aggregated_by_user is mostly per-model and per-key cells (at L 90,000 key cells for
// 20,000 user/key pairs), so these are a fraction of the bytes to detoast and the entries to walk
// (pg/dashboard.cpp). Anything that is not an object (a column, a user's or model's entry) is
// copied as it is into the first two, so a reader meets the same value, and error, as before.
#include "core/error.hpp"
#include "core/json_writer.hpp"
#include "core/rollup_builder.hpp"

#include "pg/cell_walker.hpp"  // before any PostgreSQL header: it includes core headers
#include "pg/boundary.hpp"

extern "C" {
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/rel.h"
}

#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace ducache;
using namespace ducache::pg;

// A binary object container's members (nested levels as jbvBinary), each handed to f(key, value).
template <typename F>
void each_member(JsonbContainer *c, F &&f)
{
    JsonbIterator *it = JsonbIteratorInit(c);
    JsonbValue k, v;
    JsonbIteratorToken tok = JsonbIteratorNext(&it, &k, true);  // WJB_BEGIN_OBJECT
    while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE) {
        if (tok != WJB_KEY)
            continue;  // WJB_END_OBJECT
        JsonbIteratorNext(&it, &v, true);  // WJB_VALUE
        f(k, v);
    }
}

bool is_object(const JsonbValue &v)
{
    return v.type == jbvBinary && JsonContainerIsObject(v.val.binary.data) && !JsonContainerIsScalar(v.val.binary.data);
}

bool is_object(const Jsonb *j) { return JsonContainerIsObject(&j->root) && !JsonContainerIsScalar(&j->root); }

bool named(const JsonbValue &k, const char *name)
{
    return size_t(k.val.string.len) == strlen(name) && memcmp(k.val.string.val, name, k.val.string.len) == 0;
}

// doc (an object) with the members `drop` and `drop2` (may be null) left out of every entry that
// is an object (PostgreSQL calls only: run inside pg_call).
Jsonb *without_members(Jsonb *doc, const char *drop, const char *drop2)
{
    JsonbParseState *st = nullptr;
    pushJsonbValue(&st, WJB_BEGIN_OBJECT, nullptr);
    each_member(&doc->root, [&](JsonbValue &key, JsonbValue &entry) {
        CHECK_FOR_INTERRUPTS();
        pushJsonbValue(&st, WJB_KEY, &key);
        if (!is_object(entry)) {
            pushJsonbValue(&st, WJB_VALUE, &entry);
            return;
        }
        pushJsonbValue(&st, WJB_BEGIN_OBJECT, nullptr);
        each_member(entry.val.binary.data, [&](JsonbValue &k, JsonbValue &v) {
            if (named(k, drop) || (drop2 != nullptr && named(k, drop2)))
                return;
            pushJsonbValue(&st, WJB_KEY, &k);
            pushJsonbValue(&st, WJB_VALUE, &v);
        });
        pushJsonbValue(&st, WJB_END_OBJECT, nullptr);
    });
    return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, nullptr));
}

// One key alias of the user being summed.
struct KeySum {
    std::string_view alias;
    core::Totals totals;
    bool cost_seen = false;
};

// key_totals as JSON text, or nothing (see the top of the file).
std::optional<std::string> key_totals_text(const Jsonb *users)
{
    std::pmr::memory_resource *mr = std::pmr::new_delete_resource();
    core::Filters none(mr);
    none.seal();
    core::JsonWriter w;
    const core::FixedLabel where("a rollup row");
    std::string_view user;
    std::vector<KeySum> keys;
    auto flush = [&] {
        if (keys.empty())
            return;
        w.key(user);
        w.begin_object();
        for (const KeySum &k : keys) {
            w.key(k.alias);
            w.begin_object();
            w.key("metrics");
            w.begin_object();
            for (int m = 0; m < core::kCountMetrics; m++) {
                w.key(core::canonical_metric_name(core::Metric(m)));
                w.integer(k.totals.counts[m]);
            }
            if (k.cost_seen) {
                w.key(core::canonical_metric_name(core::kCost));
                w.number_text(k.totals.cost.to_string());
            }
            w.end_object();
            w.end_object();
        }
        w.end_object();
        keys.clear();
    };
    InputRow row{0, 0, "aggregated_by_user", "a rollup row", true};
    try {
        w.begin_object();
        walk_cells(users, row, none, core::CellLevel::key, [&](const Cell &c) {
            if (c.user.data() != user.data() || c.user.size() != user.size()) {
                flush();
                user = c.user;
            }
            KeySum *k = nullptr;
            for (KeySum &s : keys)
                if (s.alias == c.key)
                    k = &s;
            if (k == nullptr)
                k = &keys.emplace_back(KeySum{c.key, core::Totals(mr)});
            k->totals.add_or_throw(c.values.counts, c.values.cost_seen ? &c.values.cost : nullptr,
                                   "a rollup's key totals", c.key, where);
            k->cost_seen |= c.values.cost_seen;
        });
        flush();
        w.end_object();
    } catch (const core::Error &) {
        return std::nullopt;  // the readers' own error (or overflow) stays theirs: read the days
    }
    return w.take();
}

int column(TupleDesc desc, const char *name)
{
    int at = SPI_fnumber(desc, name);
    if (at <= 0 || TupleDescAttr(desc, at - 1)->atttypid != JSONBOID)
        pg_call([&] {
            ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                            errmsg("ducache_rollups_derived() fired on a table without a jsonb column %s", name)));
        });
    return at;
}

bool updated(const TriggerData *td, int at)
{
    return td->tg_updatedcols == nullptr || bms_is_member(at - FirstLowInvalidHeapAttributeNumber, td->tg_updatedcols);
}

}  // namespace

DUCACHE_FUNCTION(ducache_rollups_derived)
{
    TriggerData *td = CALLED_AS_TRIGGER(fcinfo) ? reinterpret_cast<TriggerData *>(fcinfo->context) : nullptr;
    if (td == nullptr || !TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
        !(TRIGGER_FIRED_BY_INSERT(td->tg_event) || TRIGGER_FIRED_BY_UPDATE(td->tg_event)))
        pg_call([] {
            ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                            errmsg("ducache_rollups_derived() must fire BEFORE INSERT OR UPDATE FOR EACH ROW")));
        });
    const bool update = TRIGGER_FIRED_BY_UPDATE(td->tg_event);
    HeapTuple row = update ? td->tg_newtuple : td->tg_trigtuple;
    TupleDesc desc = RelationGetDescr(td->tg_relation);
    const int users_at = column(desc, "aggregated_by_user"), models_at = column(desc, "aggregated_by_model");
    int cols[3] = {column(desc, "user_totals"), column(desc, "key_totals"), column(desc, "model_totals")};
    // An UPDATE that sets none of these columns leaves them as they were (and consistent).
    if (update && !updated(td, users_at) && !updated(td, models_at) && !updated(td, cols[0]) &&
        !updated(td, cols[1]) && !updated(td, cols[2]))
        return PointerGetDatum(row);
    Datum values[3] = {};
    bool nulls[3] = {true, true, true};
    const Jsonb *users = pg_call([&]() -> const Jsonb * {
        bool isnull;
        Datum d = heap_getattr(row, users_at, desc, &isnull);
        return isnull ? nullptr : DatumGetJsonbP(d);
    });
    if (users != nullptr) {
        values[0] = pg_call([&] {
            return is_object(users) ? JsonbPGetDatum(without_members(const_cast<Jsonb *>(users), "models", nullptr))
                                    : PointerGetDatum(users);
        });
        nulls[0] = false;
        std::optional<std::string> keys = is_object(users) ? key_totals_text(users) : std::nullopt;
        if (keys) {
            const char *text = keys->c_str();
            values[1] = pg_call([&] { return DirectFunctionCall1(jsonb_in, CStringGetDatum(text)); });
            nulls[1] = false;
        }
    }
    pg_call([&] {
        bool isnull;
        Datum d = heap_getattr(row, models_at, desc, &isnull);
        if (isnull)
            return;
        Jsonb *models = DatumGetJsonbP(d);
        values[2] = is_object(models) ? JsonbPGetDatum(without_members(models, "users", "~named")) : PointerGetDatum(models);
        nulls[2] = false;
    });
    return pg_call([&] { return PointerGetDatum(heap_modify_tuple_by_cols(row, desc, 3, cols, values, nulls)); });
}
