// A read function on a coordinator: its coordinator version's answer (pg/coordinator_forward.hpp).
// Only moves bytes: the merge rules live in the coordinator versions and the core.
#include "pg/coordinator_forward.hpp"
#include "pg/boundary.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "storage/bufmgr.h"
#include "executor/spi.h"
#include "catalog/pg_collation.h"
#include "funcapi.h"
#include "nodes/execnodes.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"
#include "utils/snapmgr.h"
}

namespace ducache::pg {

namespace {

bool coordinator_check(FunctionCallInfo fcinfo)
{
    Oid nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
    Oid relid = get_relname_relid("ducache_shards", nsp);
    if (!OidIsValid(relid))
        return false;  // an install older than 0.4.0's tables: never a coordinator
    // The owner's catalog: read without the caller's rights (only whether it has a row).
    Relation rel = table_open(relid, AccessShareLock);
    bool found = false;
    if (RelationGetNumberOfBlocks(rel) > 0) {
        SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, GetActiveSnapshot(), 0, nullptr);
        found = HeapTupleIsValid(systable_getnext(scan));
        systable_endscan(scan);
    }
    table_close(rel, AccessShareLock);
    return found;
}

// A set-returning coordinator version called directly (no SPI statement around it: no parse or
// plan of "SELECT * FROM fn(...)", no copy of every row into SPI's table and again into ours).
// The SQL function materializes its rows into a tuplestore in the query's memory, which becomes
// this function's result as it is when the columns match (an older declaration has fewer
// columns: then its first ones are copied). False when the function is not found with exactly
// these argument types: the SPI path below resolves it then.
bool forward_set_direct(FunctionCallInfo fcinfo, const char *schema, const char *coord_fn, int nargs,
                        const Oid *types, const Datum *values, const char *nulls)
{
    auto *rs = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
    if (rs == nullptr || !IsA(rs, ReturnSetInfo) || rs->econtext == nullptr)
        return false;
    Oid fn = LookupFuncName(list_make2(makeString(pstrdup(schema)), makeString(pstrdup(coord_fn))), nargs, types, true);
    if (!OidIsValid(fn))
        return false;
    MemoryContext query = rs->econtext->ecxt_per_query_memory;
    FmgrInfo *fl = static_cast<FmgrInfo *>(MemoryContextAllocZero(query, sizeof(FmgrInfo)));
    fmgr_info_cxt(fn, fl, query);
    ReturnSetInfo inner;
    memset(&inner, 0, sizeof(inner));
    inner.type = T_ReturnSetInfo;
    inner.econtext = rs->econtext;
    inner.allowedModes = SFRM_ValuePerCall | SFRM_Materialize | SFRM_Materialize_Preferred |
                         (rs->allowedModes & SFRM_Materialize_Random);  // the store becomes ours
    inner.returnMode = SFRM_ValuePerCall;
    // The function's own columns (PL/pgSQL builds its store with them and requires them).
    TupleDesc own = nullptr;
    MemoryContext before = MemoryContextSwitchTo(query);
    TypeFuncClass cls = get_func_result_type(fn, nullptr, &own);
    MemoryContextSwitchTo(before);
    if (cls != TYPEFUNC_COMPOSITE || own == nullptr)
        return false;
    inner.expectedDesc = own;
    inner.isDone = ExprSingleResult;
    LOCAL_FCINFO(call, FUNC_MAX_ARGS);
    InitFunctionCallInfoData(*call, fl, nargs, DEFAULT_COLLATION_OID, nullptr, reinterpret_cast<Node *>(&inner));
    for (int i = 0; i < nargs; i++) {
        call->args[i].value = values[i];
        call->args[i].isnull = nulls[i] == 'n';
    }
    (void)FunctionCallInvoke(call);
    if (inner.returnMode != SFRM_Materialize)
        elog(ERROR, "%s did not materialize its rows", coord_fn);
    TupleDesc out_desc = rs->setDesc;
    if (inner.setResult == nullptr)  // no rows
        return true;
    if (inner.setDesc == nullptr || inner.setDesc->natts < out_desc->natts)
        elog(ERROR, "%s returns fewer columns than the caller expects", coord_fn);
    if (inner.setDesc->natts == out_desc->natts) {
        tuplestore_end(rs->setResult);  // InitMaterializedSRF's, still empty
        rs->setResult = inner.setResult;
        return true;
    }
    TupleTableSlot *slot = MakeSingleTupleTableSlot(inner.setDesc, &TTSOpsMinimalTuple);
    while (tuplestore_gettupleslot(inner.setResult, true, false, slot)) {
        CHECK_FOR_INTERRUPTS();
        slot_getallattrs(slot);
        tuplestore_putvalues(rs->setResult, out_desc, slot->tts_values, slot->tts_isnull);
    }
    ExecDropSingleTupleTableSlot(slot);
    tuplestore_end(inner.setResult);
    return true;
}

// The record-returning coordinator version (one row) called directly, like the sets above: its
// row, or its first columns when the caller's older declaration has fewer. False when the
// function is not found with exactly these argument types (the SPI path below then).
bool forward_record_direct(FunctionCallInfo fcinfo, const char *schema, const char *coord_fn, int nargs,
                           const Oid *types, const Datum *values, const char *nulls, TupleDesc out_desc,
                           Datum *result)
{
    Oid fn = LookupFuncName(list_make2(makeString(pstrdup(schema)), makeString(pstrdup(coord_fn))), nargs, types, true);
    if (!OidIsValid(fn) || get_func_retset(fn))
        return false;
    FmgrInfo fl;
    fmgr_info(fn, &fl);
    LOCAL_FCINFO(call, FUNC_MAX_ARGS);
    InitFunctionCallInfoData(*call, &fl, nargs, DEFAULT_COLLATION_OID, nullptr, nullptr);
    for (int i = 0; i < nargs; i++) {
        call->args[i].value = values[i];
        call->args[i].isnull = nulls[i] == 'n';
    }
    Datum row = FunctionCallInvoke(call);
    if (call->isnull) {  // a NULL record: SELECT * FROM fn(...) gave one row of NULLs
        Datum *none = static_cast<Datum *>(palloc0(sizeof(Datum) * out_desc->natts));
        bool *all = static_cast<bool *>(palloc(sizeof(bool) * out_desc->natts));
        memset(all, true, sizeof(bool) * out_desc->natts);
        *result = HeapTupleGetDatum(heap_form_tuple(out_desc, none, all));
        return true;
    }
    HeapTupleHeader td = DatumGetHeapTupleHeader(row);
    TupleDesc in_desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(td), HeapTupleHeaderGetTypMod(td));
    int natts = in_desc->natts;
    if (natts < out_desc->natts) {
        ReleaseTupleDesc(in_desc);
        elog(ERROR, "%s returns %d columns, the caller expects %d", coord_fn, natts, out_desc->natts);
    }
    HeapTupleData tuple;
    tuple.t_len = HeapTupleHeaderGetDatumLength(td);
    ItemPointerSetInvalid(&tuple.t_self);
    tuple.t_tableOid = InvalidOid;
    tuple.t_data = td;
    Datum *cols = static_cast<Datum *>(palloc(sizeof(Datum) * natts));
    bool *col_nulls = static_cast<bool *>(palloc(sizeof(bool) * natts));
    heap_deform_tuple(&tuple, in_desc, cols, col_nulls);
    ReleaseTupleDesc(in_desc);
    *result = HeapTupleGetDatum(heap_form_tuple(out_desc, cols, col_nulls));
    return true;
}

Datum forward(FunctionCallInfo fcinfo, const char *coord_fn, int coord_nargs, bool composite)
{
    Oid nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
    const char *schema = quote_identifier(get_namespace_name(nsp));
    StringInfoData sql;
    initStringInfo(&sql);
    appendStringInfo(&sql, "SELECT * FROM %s.%s(", schema, quote_identifier(coord_fn));
    Oid *types = static_cast<Oid *>(palloc(sizeof(Oid) * coord_nargs));
    Datum *values = static_cast<Datum *>(palloc(sizeof(Datum) * coord_nargs));
    char *nulls = static_cast<char *>(palloc(coord_nargs + 1));
    Oid *decl_types;
    int decl_nargs;
    get_func_signature(fcinfo->flinfo->fn_oid, &decl_types, &decl_nargs);
    int given = PG_NARGS();
    for (int i = 0; i < coord_nargs; i++) {
        appendStringInfo(&sql, "%s$%d", i ? ", " : "", i + 1);
        bool have = i < given && i < decl_nargs;
        types[i] = have ? decl_types[i] : TEXTARRAYOID;  // a missing trailing filter: NULL text[]
        values[i] = have && !PG_ARGISNULL(i) ? PG_GETARG_DATUM(i) : (Datum)0;
        nulls[i] = have && !PG_ARGISNULL(i) ? ' ' : 'n';
    }
    appendStringInfoChar(&sql, ')');

    MemoryContext caller = CurrentMemoryContext;
    TupleDesc out_desc = nullptr;
    ReturnSetInfo *rs = nullptr;
    if (composite) {
        if (get_call_result_type(fcinfo, nullptr, &out_desc) != TYPEFUNC_COMPOSITE)
            elog(ERROR, "%s must return a record", coord_fn);
        out_desc = BlessTupleDesc(out_desc);
        Datum row;
        if (forward_record_direct(fcinfo, get_namespace_name(nsp), coord_fn, coord_nargs, types, values, nulls, out_desc,
                                  &row))
            return row;
    } else {
        InitMaterializedSRF(fcinfo, 0);
        rs = reinterpret_cast<ReturnSetInfo *>(fcinfo->resultinfo);
        out_desc = rs->setDesc;
        if (forward_set_direct(fcinfo, get_namespace_name(nsp), coord_fn, coord_nargs, types, values, nulls))
            return (Datum)0;
    }
    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    if (SPI_execute_with_args(sql.data, coord_nargs, types, values, nulls, true, 0) != SPI_OK_SELECT)
        elog(ERROR, "%s did not answer a SELECT", coord_fn);
    int natts = out_desc->natts;  // an older declaration has fewer columns: its first ones
    if (SPI_tuptable->tupdesc->natts < natts)
        elog(ERROR, "%s returns %d columns, the caller expects %d", coord_fn, SPI_tuptable->tupdesc->natts, natts);
    Datum *row = static_cast<Datum *>(palloc(sizeof(Datum) * SPI_tuptable->tupdesc->natts));
    bool *row_nulls = static_cast<bool *>(palloc(sizeof(bool) * SPI_tuptable->tupdesc->natts));
    Datum result = (Datum)0;
    for (uint64 r = 0; r < SPI_processed; r++) {
        CHECK_FOR_INTERRUPTS();
        heap_deform_tuple(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, row, row_nulls);
        if (composite) {
            MemoryContext spi = MemoryContextSwitchTo(caller);
            result = HeapTupleGetDatum(heap_form_tuple(out_desc, row, row_nulls));
            MemoryContextSwitchTo(spi);
            break;
        }
        tuplestore_putvalues(rs->setResult, out_desc, row, row_nulls);
    }
    if (composite && SPI_processed == 0)
        elog(ERROR, "%s returned no row", coord_fn);
    SPI_finish();
    return result;
}

}  // namespace

bool is_coordinator(FunctionCallInfo fcinfo)
{
    return pg_call([&] { return coordinator_check(fcinfo); });
}

bool forward_to_coordinator(FunctionCallInfo fcinfo, const char *coord_fn, int coord_nargs, bool composite,
                            Datum *result)
{
    if (!is_coordinator(fcinfo))
        return false;
    *result = pg_call([&] { return forward(fcinfo, coord_fn, coord_nargs, composite); });
    return true;
}

void refuse_on_coordinator(FunctionCallInfo fcinfo, const char *fn)
{
    if (!is_coordinator(fcinfo))
        return;
    pg_call([&] {
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("%s is not yet supported on a ducache coordinator", fn),
                        errdetail("This database has shards (ducache_shards); its local daily_usage_cache is not the data."),
                        errhint("Call it on each shard, or see docs/scale-out.md for the coordinator-aware functions.")));
    });
}

}  // namespace ducache::pg
