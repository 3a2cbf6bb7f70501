// ducache_rebuild: recomputes the breakdown columns of every cached day in a range from the
// gateway's raw_data, in the server. Key hashes become users through the api-keys table (one
// batched lookup for the whole range); output is LiteMaaS's nested shape, sums exact.
#include "core/aggregator.hpp"
#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/metrics.hpp"

#include "pg/boundary.hpp"
#include "pg/cache_scan.hpp"
#include "pg/context_resource.hpp"
#include "pg/entry_reader.hpp"
#include "pg/relation_setting.hpp"
#include "pg/settings.hpp"
#include "pg/srf_output.hpp"
#include "pg/writer_lock.hpp"

#include <map>
#include <memory_resource>
#include <string>
#include <unordered_map>

extern "C" {
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
}

namespace {

using namespace ducache;
using namespace ducache::pg;
using PStr = std::pmr::string;

constexpr const char *kUnknownUserId = "00000000-0000-0000-0000-000000000000";
constexpr const char *kUnknownUserName = "Unknown User";
constexpr int kDaysPerWrite = 8;  // days per UPDATE statement: bounds memory at any scale

// Sums of the seven metrics, written back in the snake_case names LiteMaaS reads.
struct Acc {
    explicit Acc(std::pmr::memory_resource *mr) : cost(mr) {}
    int64_t counts[core::kCountMetrics] = {};
    core::DecimalSum cost;
    void add(const EntryValues &v, const char *what)
    {
        for (int m = 0; m < core::kCountMetrics; m++)
            if (!core::add_count(counts[m], v.counts[m]))
                throw core::Error("22003", std::string("bigint out of range rebuilding ") + what,
                                  "A sum passes 9223372036854775807.");
        if (v.cost_seen)
            cost.add(v.cost);
    }
};

struct Identity {
    PStr user_id, username, email, role;
    bool has_username = false, has_email = false, has_role = false;
};

struct UserOut {
    explicit UserOut(std::pmr::memory_resource *mr) : total(mr), models(mr) {}
    Acc total;
    std::pmr::map<PStr, Acc> models;
    const Identity *who = nullptr;
};

struct ModelOut {
    explicit ModelOut(std::pmr::memory_resource *mr) : metrics(mr), users(mr) {}
    Acc metrics;
    std::pmr::map<PStr, Acc> users;
};

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

[[noreturn]] void bad_raw(DateADT date, const std::string &path, const char *problem)
{
    throw core::Error("22023", "invalid raw_data on " + date_text(date) + " at " + path,
                      "raw_data on " + date_text(date) + ", " + path + ": " + problem + ".");
}

// An optional member that must be an object when present.
const JsonbContainer *object_member(const JsonbContainer *obj, std::string_view name, DateADT date,
                                    const std::string &path)
{
    JsonbItem v;
    if (!obj || !find_member(obj, name, v) || v.type == JENTRY_ISNULL)
        return nullptr;
    if (!item_is_object(v))
        bad_raw(date, path, "not a JSON object");
    return reinterpret_cast<const JsonbContainer *>(v.data);
}

const JsonbContainer *raw_root(const Jsonb *raw, DateADT date)
{
    if (!raw || JB_ROOT_IS_SCALAR(raw) || !JB_ROOT_IS_OBJECT(raw))
        bad_raw(date, "raw_data", "not a JSON object");
    return &raw->root;
}

// ---- JSONB output (each pg_call holds no C++ object of its own) ----

void push_key(JsonbParseState **ps, const char *s, size_t len)
{
    JsonbValue k;
    k.type = jbvString;
    k.val.string.val = const_cast<char *>(s);
    k.val.string.len = int(len);
    pushJsonbValue(ps, WJB_KEY, &k);
}

void push_string_or_null(JsonbParseState **ps, const char *key, const PStr &s, bool present)
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

void push_metrics(JsonbParseState **ps, const Acc &a)
{
    static const char *const names[core::kCountMetrics] = {"api_requests",    "total_tokens",
                                                           "prompt_tokens",   "completion_tokens",
                                                           "successful_requests", "failed_requests"};
    std::string cost = a.cost.to_string();
    const char *cost_text = cost.c_str();
    pg_call([&] {
        push_key(ps, "metrics", 7);
        pushJsonbValue(ps, WJB_BEGIN_OBJECT, nullptr);
        for (int m = 0; m < core::kCountMetrics; m++) {
            push_key(ps, names[m], strlen(names[m]));
            JsonbValue v;
            v.type = jbvNumeric;
            v.val.numeric = int64_to_numeric(a.counts[m]);
            pushJsonbValue(ps, WJB_VALUE, &v);
        }
        push_key(ps, "spend", 5);
        JsonbValue v;
        v.type = jbvNumeric;
        v.val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(cost_text),
                                                            ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
        pushJsonbValue(ps, WJB_VALUE, &v);
        pushJsonbValue(ps, WJB_END_OBJECT, nullptr);
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
void push_identity(JsonbParseState **ps, const PStr &uid, const Identity &who, bool with_role)
{
    pg_call([&] {
        push_string_or_null(ps, "userId", uid, true);
        push_string_or_null(ps, "username", who.username, who.has_username);
        push_string_or_null(ps, "email", who.email, who.has_email);
        if (with_role)
            push_string_or_null(ps, "role", who.role, who.has_role);
    });
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

Datum empty_object()
{
    return pg_call([] { return DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")); });
}

// ---- identity lookup ----

using IdentityMap = std::pmr::unordered_map<PStr, Identity>;

void lookup_key_owners(const std::pmr::map<PStr, bool> &hashes, IdentityMap &owners)
{
    if (hashes.empty())
        return;
    const char *keys_guc = "ducache.api_keys_table", *users_guc = "ducache.users_table";
    ResolvedTable keys = resolve_table_setting(keys_guc, api_keys_table_setting(), "api_keys");
    if (!OidIsValid(keys.relid))
        return;  // no mapping at all: every hash is the Unknown User
    for (const char *col : {"key_hash", "user_id"})
        if (!OidIsValid(column_type(keys.relid, col)))
            missing_column(keys_guc, keys, col);
    ResolvedTable users = resolve_table_setting(users_guc, users_table_setting(), "users");
    const char *join = "", *cols = "NULL::pg_catalog.text, NULL::pg_catalog.text, NULL::pg_catalog.text";
    if (OidIsValid(users.relid)) {
        for (const char *col : {"id", "username", "email"})
            if (!OidIsValid(column_type(users.relid, col)))
                missing_column(users_guc, users, col);
        bool has_role = OidIsValid(column_type(users.relid, "role"));
        if (!has_role && !OidIsValid(column_type(users.relid, "roles")))
            missing_column(users_guc, users, "role\" or \"roles");
        join = pg_call([&] {
            return (const char *)psprintf("LEFT JOIN %s AS u ON u.id::pg_catalog.text OPERATOR(pg_catalog.=) "
                                          "k.user_id::pg_catalog.text",
                                          users.qualified);
        });
        cols = has_role ? "u.username::pg_catalog.text, u.email::pg_catalog.text, u.role::pg_catalog.text"
                        : "u.username::pg_catalog.text, u.email::pg_catalog.text, (u.roles)[1]::pg_catalog.text";
    }
    size_t n = hashes.size();
    Datum *elems = static_cast<Datum *>(palloc_or_throw(CurrentMemoryContext, n * sizeof(Datum)));
    size_t i = 0;
    for (const auto &h : hashes) {
        const PStr &s = h.first;
        elems[i++] = pg_call([&] { return PointerGetDatum(cstring_to_text_with_len(s.data(), int(s.size()))); });
    }
    pg_call([&] {
        char *sql = psprintf("SELECT k.key_hash::pg_catalog.text, k.user_id::pg_catalog.text, %s FROM %s AS k %s "
                             "WHERE k.key_hash::pg_catalog.text OPERATOR(pg_catalog.=) ANY ($1)",
                             cols, keys.qualified, join);
        ArrayType *arr = construct_array(elems, int(n), TEXTOID, -1, false, TYPALIGN_INT);
        Oid argtypes[1] = {TEXTARRAYOID};
        Datum args[1] = {PointerGetDatum(arr)};
        int rc = SPI_execute_with_args(sql, 1, argtypes, args, nullptr, true, 0);
        if (rc != SPI_OK_SELECT)
            elog(ERROR, "api keys lookup failed: %s", SPI_result_code_string(rc));
    });
    SPITupleTable *tt = SPI_tuptable;
    uint64 rows = SPI_processed;
    for (uint64 r = 0; r < rows; r++) {
        char *v[5];
        pg_call([&] {
            for (int c = 0; c < 5; c++)
                v[c] = SPI_getvalue(tt->vals[r], tt->tupdesc, c + 1);
        });
        if (!v[0] || !v[1] || owners.count(PStr(v[0], owners.get_allocator().resource())))
            continue;
        Identity who{PStr(v[1], owners.get_allocator().resource()), PStr(owners.get_allocator().resource()),
                     PStr(owners.get_allocator().resource()), PStr(owners.get_allocator().resource())};
        if (v[2]) { who.username = v[2]; who.has_username = true; }
        if (v[3]) { who.email = v[3]; who.has_email = true; }
        if (v[4]) { who.role = v[4]; who.has_role = true; }
        owners.emplace(PStr(v[0], owners.get_allocator().resource()), std::move(who));
    }
}

// Walks raw_data's breakdown.models: on_model(name, model) for each model object, then
// on_key(hash, entry) for each non-empty key hash under its api_keys (the empty hash is the
// gateway's bucket for requests without a key). Both passes of the rebuild read this way.
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
            bad_raw(date, path, "not a JSON object");
        std::string_view name(mk.data, mk.len);
        on_model(name, mv);
        const JsonbContainer *keys = object_member(reinterpret_cast<const JsonbContainer *>(mv.data),
                                                   "api_keys", date, path + ".api_keys");
        if (!keys)
            continue;
        ObjectWalker kw(keys);
        JsonbItem kk, kv;
        while (kw.next(kk, kv))
            if (kk.len > 0)
                on_key(std::string_view(kk.data, kk.len), kv);
    }
}

// ---- one day ----

struct DayResult {
    Datum users, models, providers, total;
    bool total_null;
    int32 n_users, n_models, n_providers;
};

DayResult rebuild_day(DateADT date, const Jsonb *raw, const IdentityMap &owners, const Identity &unknown,
                      std::pmr::memory_resource *mr)
{
    std::pmr::map<PStr, UserOut> users(mr);
    std::pmr::map<PStr, ModelOut> models(mr);
    DayContext ctx{date, 0, "raw_data breakdown.models"};
    DayContext kctx{date, 0, "raw_data api_keys"};
    EntryValues values;
    ModelOut *mo = nullptr;
    PStr model(mr);
    walk_models(
        raw, date,
        [&](std::string_view name, const JsonbItem &mv) {
            read_entry(mv, ctx, name, false, values);
            model.assign(name.data(), name.size());
            mo = &models.try_emplace(model, mr).first->second;
            mo->metrics.add(values, "model metrics");
        },
        [&](std::string_view hash, const JsonbItem &kv) {
            read_entry(kv, kctx, hash, false, values);
            auto owner = owners.find(PStr(hash.data(), hash.size(), mr));
            const Identity &who = owner == owners.end() ? unknown : owner->second;
            UserOut &uo = users.try_emplace(who.user_id, mr).first->second;
            uo.who = &who;
            uo.total.add(values, "user metrics");
            uo.models.try_emplace(model, mr).first->second.add(values, "user model metrics");
            mo->users.try_emplace(who.user_id, mr).first->second.add(values, "model user metrics");
        });

    DayResult out{};
    out.n_users = int32(users.size());
    out.n_models = int32(models.size());
    // aggregated_by_user
    JsonbParseState *ps = nullptr;
    begin_root(&ps);
    for (const auto &[uid, uo] : users) {
        check_for_interrupts();
        open_object(&ps, uid);
        push_identity(&ps, uid, *uo.who, true);
        push_metrics(&ps, uo.total);
        open_object(&ps, "models");
        for (const auto &[model, acc] : uo.models) {
            open_object(&ps, model);
            pg_call([&] { push_string_or_null(&ps, "modelName", model, true); });
            push_metrics(&ps, acc);
            close_objects(&ps, 1);
        }
        close_objects(&ps, 2);  // models, user
    }
    out.users = finish_root(&ps);

    // aggregated_by_model
    begin_root(&ps);
    for (const auto &[model, mo] : models) {
        check_for_interrupts();
        open_object(&ps, model);
        push_metrics(&ps, mo.metrics);
        open_object(&ps, "users");
        for (const auto &[uid, acc] : mo.users) {
            open_object(&ps, uid);
            push_identity(&ps, uid, *users.find(uid)->second.who, false);
            push_metrics(&ps, acc);
            close_objects(&ps, 1);
        }
        close_objects(&ps, 2);  // users, model
    }
    out.models = finish_root(&ps);

    // providers and totals: as the gateway reported them.
    const JsonbContainer *root = raw_root(raw, date);
    const JsonbContainer *breakdown = object_member(root, "breakdown", date, "breakdown");
    JsonbItem item;
    if (breakdown && find_member(breakdown, "providers", item) && item.type != JENTRY_ISNULL) {
        if (!item_is_object(item))
            bad_raw(date, "breakdown.providers", "not a JSON object");
        out.providers = copy_container(item);
        out.n_providers = int32(JsonContainerSize(reinterpret_cast<const JsonbContainer *>(item.data)));
    } else {
        out.providers = empty_object();
    }
    out.total_null = true;
    if (find_member(root, "metrics", item) && item.type != JENTRY_ISNULL) {
        if (!item_is_object(item))
            bad_raw(date, "metrics", "not a JSON object");
        out.total = copy_container(item);
        out.total_null = false;
    }
    return out;
}

struct PendingWrites {
    int n = 0;
    Datum dates[kDaysPerWrite], users[kDaysPerWrite], models[kDaysPerWrite], providers[kDaysPerWrite],
        totals[kDaysPerWrite];
    bool total_nulls[kDaysPerWrite];
};

void flush(PendingWrites &w, SPIPlanPtr plan)
{
    if (w.n == 0)
        return;
    pg_call([&] {
        MemoryContext caller = CurrentMemoryContext;  // SPI would leave its own context current
        int dims[1] = {w.n}, lbs[1] = {1};
        bool no_nulls[kDaysPerWrite] = {};
        Datum args[5] = {
            PointerGetDatum(construct_md_array(w.dates, no_nulls, 1, dims, lbs, DATEOID, 4, true, TYPALIGN_INT)),
            PointerGetDatum(construct_md_array(w.users, no_nulls, 1, dims, lbs, JSONBOID, -1, false, TYPALIGN_INT)),
            PointerGetDatum(construct_md_array(w.models, no_nulls, 1, dims, lbs, JSONBOID, -1, false, TYPALIGN_INT)),
            PointerGetDatum(construct_md_array(w.providers, no_nulls, 1, dims, lbs, JSONBOID, -1, false, TYPALIGN_INT)),
            PointerGetDatum(construct_md_array(w.totals, w.total_nulls, 1, dims, lbs, JSONBOID, -1, false, TYPALIGN_INT))};
        int rc = SPI_execute_plan(plan, args, nullptr, false, 0);
        if (rc != SPI_OK_UPDATE)
            elog(ERROR, "ducache_rebuild: update failed: %s", SPI_result_code_string(rc));
        MemoryContextSwitchTo(caller);
    });
    w.n = 0;
}

}  // namespace

DUCACHE_FUNCTION(ducache_rebuild)
{
    DateADT start = PG_GETARG_DATEADT(0), end = PG_GETARG_DATEADT(1);
    check_date_range(start, end);
    init_materialized_srf(fcinfo);
    Oid table = cache_table_oid(fcinfo);
    const char *table_name = cache_table_name(fcinfo);
    const char *ts = timestamp_column(table);
    lock_cache_writers(table);

    MemoryContext work = new_work_context("ducache rebuild");
    MemoryContext day_cxt = new_work_context("ducache rebuild day");
    {
        ContextResource memory(work);
        // Pass 1: every key hash of the range, for one batched owner lookup.
        std::pmr::map<PStr, bool> hashes(&memory);
        {
            CacheScan scan(table_name, "raw_data", 1, start, end, true);
            DateADT date;
            const Jsonb *raw = nullptr;
            while (scan.next(date, &raw))
                walk_models(
                    raw, date, [](std::string_view, const JsonbItem &) {},
                    [&](std::string_view hash, const JsonbItem &) {
                        hashes.try_emplace(PStr(hash.data(), hash.size(), &memory), true);
                    });
            scan.finish();
        }
        IdentityMap owners(&memory);
        pg_call([] {
            if (SPI_connect() != SPI_OK_CONNECT)
                elog(ERROR, "SPI_connect failed");
        });
        lookup_key_owners(hashes, owners);
        pg_call([] { SPI_finish(); });
        Identity unknown{PStr(kUnknownUserId, &memory), PStr(kUnknownUserName, &memory), PStr(&memory),
                         PStr(&memory), true, false, false};

        // Pass 2: rebuild and write back, a few days per UPDATE.
        CacheScan scan(table_name, "raw_data", 1, start, end, true);
        SPIPlanPtr plan = pg_call([&] {
            char *sql = psprintf(
                "UPDATE %s AS t SET aggregated_by_user = u.au, aggregated_by_model = u.am, "
                "aggregated_by_provider = u.ap, total_metrics = u.tm, %s = pg_catalog.now() "
                "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), pg_catalog.unnest($3), "
                "pg_catalog.unnest($4), pg_catalog.unnest($5)) AS u(d, au, am, ap, tm) "
                "WHERE t.date OPERATOR(pg_catalog.=) u.d",
                table_name, quote_identifier(ts));
            Oid types[5] = {DATEARRAYOID, JSONBARRAYOID, JSONBARRAYOID, JSONBARRAYOID, JSONBARRAYOID};
            MemoryContext caller = CurrentMemoryContext;
            SPIPlanPtr p = SPI_prepare(sql, 5, types);
            if (!p)
                elog(ERROR, "ducache_rebuild: prepare failed: %s", SPI_result_code_string(SPI_result));
            MemoryContextSwitchTo(caller);
            return p;
        });
        PendingWrites pending;
        DateADT date;
        const Jsonb *raw = nullptr;
        // The rebuilt JSONB of the pending days lives in batch_cxt, freed after every write:
        // memory stays bounded by kDaysPerWrite days whatever the range.
        MemoryContext batch_cxt = new_work_context("ducache rebuild batch");
        // One day's JSON is built in json_cxt (pushJsonbValue's intermediate trees are several
        // times the size of the result), then only the finished values move to batch_cxt.
        // A sibling, not a child: resetting batch_cxt after each write would delete a child.
        MemoryContext json_cxt = new_work_context("ducache rebuild json");
        MemoryContext outer = MemoryContextSwitchTo(batch_cxt);
        while (scan.next(date, &raw)) {
            DayResult r;
            MemoryContextSwitchTo(json_cxt);
            {
                ContextResource day_memory(day_cxt);
                r = rebuild_day(date, raw, owners, unknown, &day_memory);
            }
            MemoryContextSwitchTo(batch_cxt);
            pg_call([&] {
                pending.users[pending.n] = datumCopy(r.users, false, -1);
                pending.models[pending.n] = datumCopy(r.models, false, -1);
                pending.providers[pending.n] = datumCopy(r.providers, false, -1);
                pending.totals[pending.n] = r.total_null ? (Datum)0 : datumCopy(r.total, false, -1);
                MemoryContextReset(json_cxt);
                MemoryContextReset(day_cxt);
            });
            pending.dates[pending.n] = DateADTGetDatum(date);
            pending.total_nulls[pending.n] = r.total_null;
            pending.n++;
            Datum values[4] = {DateADTGetDatum(date), Int32GetDatum(r.n_users), Int32GetDatum(r.n_models),
                               Int32GetDatum(r.n_providers)};
            bool nulls[4] = {};
            put_row(fcinfo, values, nulls);
            if (pending.n == kDaysPerWrite) {
                flush(pending, plan);
                pg_call([&] { MemoryContextReset(batch_cxt); });
            }
        }
        flush(pending, plan);
        MemoryContextSwitchTo(outer);
        delete_context(json_cxt);
        delete_context(batch_cxt);
        scan.finish();
    }
    delete_context(day_cxt);
    delete_context(work);
    return (Datum)0;
}
