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
//                 the days: pg/rollup_retry.hpp). When it is written, each user_totals entry
//                 gets "~keycost" and "~keymag" from the user's pairs (core/key_bounds.hpp).
//   user_pack     bytea (core/user_pack.hpp): what the unfiltered dashboard reads of each
//                 user_totals entry (counts, cost, the two bounds, the identity strings) as
//                 narrow arrays, decoded from user_totals by the dashboard's own readers; NULL
//                 when a value does not fit exactly or an entry is one they refuse (the
//                 dashboard then reads user_totals).
// A month's aggregated_by_user is mostly per-model and per-key cells (at L 90,000 key cells for
// 20,000 user/key pairs), so these are a fraction of the bytes to detoast and the entries to walk
// (pg/dashboard.cpp). Anything that is not an object (a column, a user's or model's entry) is
// copied as it is into the first two, so a reader meets the same value, and error, as before.
#include "core/error.hpp"
#include "core/rollup_derived.hpp"
#include "core/user_pack.hpp"
#include "core/dashboard.hpp"  // pg/dashboard_rollup_columns.hpp's, before any PostgreSQL header
#include "core/entry_rules.hpp"
#include "core/filters.hpp"

#include "pg/cell_walker.hpp"  // before any PostgreSQL header: it includes core headers
#include "pg/dashboard_rollup_columns.hpp"
#include "pg/entry_reader.hpp"
#include "pg/boundary.hpp"
#include "pg/context_resource.hpp"
#include "pg/rollup_derived.hpp"
#include "pg/rollup_jsonb.hpp"

extern "C" {
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/rel.h"
}

#include <optional>
#include <string>
#include <string_view>

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

std::string_view name_of(const JsonbValue &k) { return {k.val.string.val, size_t(k.val.string.len)}; }

// A user's bound members as text (made before pg_call: no C++ object lives across it).
struct BoundText {
    std::string_view user;
    const char *cost, *mag;
};

// doc (an object) with every entry that is an object keeping only the members `keeps` accepts
// (core/rollup_derived.hpp's rules; PostgreSQL calls only: run inside pg_call). with_bounds:
// key_totals was written, every such entry gets "~keycost" and "~keymag" (core/key_bounds.hpp;
// 0 for a user without pairs; bounds come in the document's order).

Jsonb *projected(Jsonb *doc, bool (*keeps)(std::string_view member), bool with_bounds, const BoundText *bounds,
                 size_t nbounds)
{
    JsonbParseState *st = nullptr;
    size_t next_bound = 0;
    auto number = [&](std::string_view name, const char *text) {
        JsonbValue k, v;
        k.type = jbvString;
        k.val.string.val = const_cast<char *>(name.data());
        k.val.string.len = int(name.size());
        v.type = jbvNumeric;
        v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(text),
                                                            ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
        pushJsonbValue(&st, WJB_KEY, &k);
        pushJsonbValue(&st, WJB_VALUE, &v);
    };
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
            if (!keeps(name_of(k)))
                return;
            pushJsonbValue(&st, WJB_KEY, &k);
            pushJsonbValue(&st, WJB_VALUE, &v);
        });
        if (with_bounds) {
            const char *cost = "0", *mag = "0";
            if (next_bound < nbounds && bounds[next_bound].user == name_of(key)) {
                cost = bounds[next_bound].cost;
                mag = bounds[next_bound++].mag;
            }
            number(core::kKeyCostMember, cost);
            number(core::kKeyMagMember, mag);
        }
        pushJsonbValue(&st, WJB_END_OBJECT, nullptr);
    });
    return JsonbValueToJsonb(pushJsonbValue(&st, WJB_END_OBJECT, nullptr));
}

// key_totals as a jsonb datum in the current context, or nothing (see the top of the file).
// bounds: each user's UserKeyBound (core/key_bounds.hpp), in the document's order.
std::optional<Datum> key_totals(const Jsonb *users, ContextResource &mr, std::pmr::vector<core::UserKeyBound> &bounds)
{
    MemoryContext into = mr.context();
    core::Filters none(&mr);
    none.seal();
    const core::FixedLabel where("a rollup row");
    InputRow row{0, 0, "aggregated_by_user", "a rollup row", true};
    try {
        return jsonb_document(into, [&](core::JsonSink &sink) {
            core::KeyTotalsWriter keys(sink, &mr);
            keys.collect_bounds(&bounds);
            walk_cells(users, row, none, core::CellLevel::key,
                       [&](const Cell &c) { keys.add(c.user, c.key, c.values, where); });
            keys.finish();
        });
    } catch (const core::Error &) {
        bounds.clear();
        return std::nullopt;  // the readers' own error (or overflow) stays theirs: read the days
    }
}

int column(TupleDesc desc, const char *name, Oid type = JSONBOID)
{
    int at = SPI_fnumber(desc, name);
    if (at <= 0 || TupleDescAttr(desc, at - 1)->atttypid != type)
        pg_call([&] {
            ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                            errmsg("ducache_rollups_derived() fired on a table without a %s column %s",
                                   type == JSONBOID ? "jsonb" : "bytea", name)));
        });
    return at;
}

// The pack's bytes from user_totals, read entry by entry as pg/dashboard.cpp's range walk reads
// it (the same reader, layout plans and checks): nothing when an entry is refused (core::Error)
// or a value does not fit (core/user_pack.hpp).
std::optional<std::string> user_pack_bytes(const Jsonb *user_totals, ContextResource &mr)
{
    InputRow row{0, 0, "user_totals", "a rollup row", true};
    core::UserPackWriter pack(&mr);
    std::string out;
    try {
        EntryValues ident;
        for_each_entry_item(user_totals, row, false,
                            [&](std::string_view user, const EntryValues &v, uint32, const JsonbItem &item) {
                                JsonbObjectView entry(reinterpret_cast<const JsonbContainer *>(item.data));
                                const core::EntryPlan &plan = last_entry_plan();
                                // The bounds as pg/dashboard_top_key.cpp's read_members reads them.
                                const int32 cost_at = plan.key_cost, mag_at = plan.key_mag;
                                core::Decimal cost;
                                int64_t mag = -1;
                                const bool bounds = cost_at >= 0 && mag_at >= 0 &&
                                                    entry.kind(uint32(cost_at)) == core::ValueKind::number &&
                                                    entry.kind(uint32(mag_at)) == core::ValueKind::number &&
                                                    entry.number(uint32(cost_at), cost);
                                if (bounds && !(entry.count(uint32(mag_at), mag) == core::CountFast::ok && mag >= 0))
                                    mag = -1;
                                rollup_identity_at(entry, identity_member_at(entry, plan.identity), ident);
                                pack.add(user, v, bounds ? &cost : nullptr, mag,
                                         core::PackIdentity{ident.username, ident.email, ident.role});
                            });
    } catch (const core::Error &) {
        return std::nullopt;  // the dashboard's walk of user_totals raises it (then the days)
    }
    if (!pack.finish(out))
        return std::nullopt;
    return out;
}

bool updated(const TriggerData *td, int at)
{
    return td->tg_updatedcols == nullptr || bms_is_member(at - FirstLowInvalidHeapAttributeNumber, td->tg_updatedcols);
}

}  // namespace

namespace ducache::pg {

bytea *user_pack_of(const Jsonb *user_totals)
{
    if (user_totals == nullptr || !is_object(user_totals))
        return nullptr;
    ContextResource mr(CurrentMemoryContext);
    std::optional<std::string> bytes = user_pack_bytes(user_totals, mr);
    if (!bytes)
        return nullptr;
    auto *b = static_cast<bytea *>(palloc_or_throw(CurrentMemoryContext, VARHDRSZ + bytes->size(), "a rollup row's user_pack (bytea)"));
    SET_VARSIZE(b, VARHDRSZ + bytes->size());
    memcpy(VARDATA(b), bytes->data(), bytes->size());
    return b;
}

void rollup_derived_columns(const Jsonb *users, const Jsonb *models, Datum values[kRollupDerived],
                            bool nulls[kRollupDerived])
{
    nulls[kUserTotals] = nulls[kKeyTotals] = nulls[kModelTotals] = nulls[kUserPack] = true;
    if (users != nullptr) {
        // key_totals first: user_totals carries each user's bounds of it.
        ContextResource mr(CurrentMemoryContext);
        std::pmr::vector<core::UserKeyBound> bounds(&mr);
        std::optional<Datum> keys = is_object(users) ? key_totals(users, mr, bounds) : std::nullopt;
        if (keys) {
            values[kKeyTotals] = *keys;
            nulls[kKeyTotals] = false;
        }
        std::pmr::vector<std::string> texts(&mr);
        std::pmr::vector<BoundText> bound_texts(&mr);
        texts.reserve(2 * bounds.size());
        for (const core::UserKeyBound &b : bounds) {
            texts.push_back(b.cost_text());
            texts.push_back(b.mag_text());
        }
        for (size_t i = 0; i < bounds.size(); i++)
            bound_texts.push_back({bounds[i].user, texts[2 * i].c_str(), texts[2 * i + 1].c_str()});
        values[kUserTotals] = pg_call([&] {
            return is_object(users) ? JsonbPGetDatum(projected(const_cast<Jsonb *>(users), core::user_totals_keeps,
                                                               keys.has_value(), bound_texts.data(),
                                                               bound_texts.size()))
                                    : PointerGetDatum(users);
        });
        nulls[kUserTotals] = false;
        const Jsonb *totals = pg_call([&] { return DatumGetJsonbP(values[kUserTotals]); });
        if (bytea *pack = user_pack_of(totals)) {
            values[kUserPack] = PointerGetDatum(pack);
            nulls[kUserPack] = false;
        }
    }
    if (models != nullptr) {
        values[kModelTotals] = pg_call([&] {
            return is_object(models) ? JsonbPGetDatum(projected(const_cast<Jsonb *>(models), core::model_totals_keeps, false, nullptr, 0))
                                     : PointerGetDatum(models);
        });
        nulls[kModelTotals] = false;
    }
}

}  // namespace ducache::pg

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
    int cols[kRollupDerived] = {column(desc, "user_totals"), column(desc, "key_totals"), column(desc, "model_totals"),
                                column(desc, "user_pack", BYTEAOID)};
    // An UPDATE that sets none of these columns leaves them as they were (and consistent).
    if (update && !updated(td, users_at) && !updated(td, models_at) && !updated(td, cols[0]) &&
        !updated(td, cols[1]) && !updated(td, cols[2]) && !updated(td, cols[3]))
        return PointerGetDatum(row);
    auto document = [&](int at) -> const Jsonb * {
        return pg_call([&]() -> const Jsonb * {
            bool isnull;
            Datum d = heap_getattr(row, at, desc, &isnull);
            return isnull ? nullptr : DatumGetJsonbP(d);
        });
    };
    Datum values[kRollupDerived] = {};
    bool nulls[kRollupDerived] = {true, true, true, true};
    rollup_derived_columns(document(users_at), document(models_at), values, nulls);
    return pg_call(
        [&] { return PointerGetDatum(heap_modify_tuple_by_cols(row, desc, kRollupDerived, cols, values, nulls)); });
}
