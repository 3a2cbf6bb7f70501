// The final function of ducache_shard_partial_bin (src/sql/61_shard_partial_bin.sql): on a
// shard, the request the coordinator pushed down ({"kind", "start", "end", the filters, for
// the documents "filters" and "providers"}) answered by the read of its kind, as bytea. In C:
// it runs once per shard and coordinator call, and the plpgsql it replaces planned an SQL
// function per filter and the shard-list lookup every time (about half a shard's CPU on a
// one-day call). The reads it calls are the SQL-callable functions of the same names, called
// directly with this function's own FmgrInfo (they read only its schema from it).
#include "pg/boundary.hpp"
#include "pg/coordinator_forward.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/jsonb.h"

Datum ducache_shard_read_rows(PG_FUNCTION_ARGS);
Datum ducache_shard_read_partial(PG_FUNCTION_ARGS);
Datum ducache_dashboard_partial(PG_FUNCTION_ARGS);
Datum ducache_filter_options_partial(PG_FUNCTION_ARGS);
}

#include <cstring>

namespace {

using namespace ducache::pg;

// The value of a key of the request object, or nullptr.
JsonbValue *field(Jsonb *state, const char *key, JsonbValue *out)
{
    if (!JB_ROOT_IS_OBJECT(state))
        return nullptr;
    return getKeyJsonValueFromContainer(&state->root, key, strlen(key), out);
}

// state ->> key as a date (NULL when absent or JSON null), as the SQL cast reads it.
Datum date_field(Jsonb *state, const char *key, bool *isnull)
{
    JsonbValue v;
    *isnull = true;
    if (field(state, key, &v) == nullptr || v.type == jbvNull)
        return (Datum)0;
    if (v.type != jbvString)
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("ducache shard request: \"%s\" is not a date", key)));
    *isnull = false;
    return DirectFunctionCall1(date_in, CStringGetDatum(pnstrdup(v.val.string.val, v.val.string.len)));
}

// The text of a JSON scalar or container as ->> gives it (a string unquoted).
Datum element_text(JsonbValue *v)
{
    switch (v->type) {
    case jbvString: return PointerGetDatum(cstring_to_text_with_len(v->val.string.val, v->val.string.len));
    case jbvNumeric: return DirectFunctionCall1(textin, DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
    case jbvBool: return CStringGetTextDatum(v->val.boolean ? "true" : "false");
    case jbvBinary: return CStringGetTextDatum(JsonbToCString(nullptr, v->val.binary.data, v->val.binary.len));
    default: elog(ERROR, "unexpected jsonb value type %d", int(v->type));
    }
}

// The request's filter `key` as text[]: NULL unless an array; elements (JSON null as NULL) in order.
Datum filter_field(Jsonb *state, const char *key, bool *isnull)
{
    JsonbValue v;
    *isnull = true;
    if (field(state, key, &v) == nullptr || v.type != jbvBinary || !JsonContainerIsArray(v.val.binary.data) ||
        JsonContainerIsScalar(v.val.binary.data))
        return (Datum)0;
    int n = JsonContainerSize(v.val.binary.data);
    Datum *elems = static_cast<Datum *>(palloc(sizeof(Datum) * (n + 1)));
    bool *nulls = static_cast<bool *>(palloc(sizeof(bool) * (n + 1)));
    JsonbIterator *it = JsonbIteratorInit(v.val.binary.data);
    JsonbValue e;
    JsonbIteratorToken tok;
    int i = 0;
    while ((tok = JsonbIteratorNext(&it, &e, true)) != WJB_DONE) {
        if (tok != WJB_ELEM || i >= n)
            continue;
        nulls[i] = e.type == jbvNull;
        elems[i] = nulls[i] ? (Datum)0 : element_text(&e);
        i++;
    }
    int dims[1] = {i}, lbs[1] = {1};
    *isnull = false;
    return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
}

// state -> key as jsonb (JSON null included), or NULL when absent.
Datum jsonb_field(Jsonb *state, const char *key, bool *isnull)
{
    JsonbValue v;
    *isnull = field(state, key, &v) == nullptr;
    return *isnull ? (Datum)0 : JsonbPGetDatum(JsonbValueToJsonb(&v));
}

bool kind_is(const JsonbValue *kind, const char *name)
{
    return kind != nullptr && kind->type == jbvString && size_t(kind->val.string.len) == strlen(name) &&
           memcmp(kind->val.string.val, name, kind->val.string.len) == 0;
}

// The read of the request's kind (as the plpgsql final function dispatched it).
Datum answer(FunctionCallInfo fcinfo, Jsonb *state)
{
    JsonbValue kv;
    JsonbValue *kind = field(state, "kind", &kv);
    if (kind != nullptr && kind->type == jbvNull)
        kind = nullptr;
    Datum args[6];
    bool nulls[6] = {};
    PGFunction fn;
    int nargs = 6;
    args[1] = date_field(state, "start", &nulls[1]);
    args[2] = date_field(state, "end", &nulls[2]);
    if (kind_is(kind, "dashboard") || kind_is(kind, "dashboard_providers")) {
        fn = ducache_dashboard_partial;
        nargs = 5;
        args[0] = args[1], nulls[0] = nulls[1];
        args[1] = args[2], nulls[1] = nulls[2];
        args[2] = jsonb_field(state, "filters", &nulls[2]);
        if (nulls[2])
            args[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")), nulls[2] = false;
        args[3] = jsonb_field(state, "providers", &nulls[3]);
        args[4] = BoolGetDatum(kind_is(kind, "dashboard_providers")), nulls[4] = false;
    } else if (kind_is(kind, "filter_options")) {
        if (nulls[1] || nulls[2]) {
            fcinfo->isnull = true;  // the function is STRICT
            return (Datum)0;
        }
        fn = ducache_filter_options_partial;
        nargs = 2;
        args[0] = args[1], nulls[0] = false;
        args[1] = args[2], nulls[1] = false;
    } else {
        bool rows = kind_is(kind, "user") || kind_is(kind, "user_model") || kind_is(kind, "api_key") ||
                    kind_is(kind, "trend");
        fn = rows ? ducache_shard_read_rows : ducache_shard_read_partial;
        nulls[0] = kind == nullptr;
        args[0] = nulls[0] ? (Datum)0 : element_text(kind);
        args[3] = filter_field(state, "user_ids", &nulls[3]);
        args[4] = filter_field(state, "model_ids", &nulls[4]);
        args[5] = filter_field(state, "api_key_aliases", &nulls[5]);
    }
    // Its own FmgrInfo: the callee reads the schema from fn_oid (this function's, the same).
    FmgrInfo *fl = static_cast<FmgrInfo *>(palloc(sizeof(FmgrInfo)));
    *fl = *fcinfo->flinfo;
    fl->fn_addr = fn;
    fl->fn_nargs = short(nargs);
    fl->fn_strict = false;
    fl->fn_retset = false;
    fl->fn_extra = nullptr;
    fl->fn_mcxt = CurrentMemoryContext;
    fl->fn_expr = nullptr;
    LOCAL_FCINFO(call, 6);
    InitFunctionCallInfoData(*call, fl, nargs, InvalidOid, nullptr, nullptr);
    for (int i = 0; i < nargs; i++) {
        call->args[i].value = args[i];
        call->args[i].isnull = nulls[i];
    }
    Datum r = fn(call);
    fcinfo->isnull = call->isnull;
    return r;
}

}  // namespace

// ducache_shard_partial_bin_final(state jsonb) RETURNS bytea.
DUCACHE_FUNCTION(ducache_shard_partial_bin_final)
{
    if (PG_ARGISNULL(0))
        PG_RETURN_NULL();
    // Run here only on a shard: on a coordinator the read below would ask the shards again.
    if (is_coordinator(fcinfo))
        pg_call([] {
            ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                            errmsg("ducache_shard_partial_bin ran on a coordinator, not on a shard"),
                            errhint("postgres_fdw pushes it down only when the server's extensions option lists ducache.")));
        });
    return pg_call([&] {
        fcinfo->isnull = false;
        Datum r = answer(fcinfo, PG_GETARG_JSONB_P(0));
        return r;
    });
}
