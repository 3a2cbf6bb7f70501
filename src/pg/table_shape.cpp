#include "pg/table_shape.hpp"

#include "pg/boundary.hpp"
#include "pg/cache_table.hpp"

extern "C" {
#include "access/relation.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "storage/lmgr.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
}

namespace ducache::pg {

namespace {

// The columns ducache reads or writes and the types it accepts (CONTRACT §1). Data, so the
// install-time check and the per-call check are the same rule.
struct ColumnRule {
    const char *column;
    Oid types[2];          // accepted types (InvalidOid: unused slot)
    const char *expected;  // as the ERROR shows it
};
const ColumnRule kColumns[] = {
    {"date", {DATEOID, InvalidOid}, "date"},
    {"raw_data", {JSONBOID, InvalidOid}, "jsonb"},
    {"aggregated_by_user", {JSONBOID, InvalidOid}, "jsonb"},
    {"aggregated_by_model", {JSONBOID, InvalidOid}, "jsonb"},
    {"aggregated_by_provider", {JSONBOID, InvalidOid}, "jsonb"},
    {"total_metrics", {JSONBOID, InvalidOid}, "jsonb"},
    {"is_complete", {BOOLOID, InvalidOid}, "boolean"},
};
// ducache only ever writes now() into it: either timestamp type takes that.
const ColumnRule kCachedAt = {"cached_at", {TIMESTAMPTZOID, TIMESTAMPOID}, "timestamp with time zone"};
const ColumnRule kUpdatedAt = {"updated_at", {TIMESTAMPTZOID, TIMESTAMPOID}, "timestamp with time zone"};

// Verdicts of tables that passed, until a relcache invalidation of them. A database has one
// cache table per ducache install, so a few slots are plenty (a miss only re-checks).
struct Verdict {
    Oid relid;
    const char *timestamp_column;
};
constexpr int kSlots = 4;
Verdict verdicts[kSlots];
int next_slot = 0;
bool callback_registered = false;

void forget_verdict(Datum, Oid relid)
{
    for (Verdict &v : verdicts)
        if (relid == InvalidOid || v.relid == relid)
            v.relid = InvalidOid;
}

// Runs inside pg_call.
void check_column(Oid relid, const char *table, const ColumnRule &rule)
{
    AttrNumber att = get_attnum(relid, rule.column);
    if (att == InvalidAttrNumber)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("%s has no column \"%s\"", table, rule.column),
                        errdetail("ducache reads and writes %s as %s.", rule.column, rule.expected)));
    Oid type = get_atttype(relid, att);
    for (Oid ok : rule.types)
        if (OidIsValid(ok) && type == ok)
            return;
    ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                    errmsg("column \"%s\" of %s has type %s, but ducache needs %s", rule.column, table,
                           format_type_be(type), rule.expected),
                    errdetail("ducache reads and writes %s as %s%s.", rule.column, rule.expected,
                              rule.types[1] == TIMESTAMPOID ? " (or timestamp without time zone)" : ""),
                    errhint("ALTER TABLE %s ALTER COLUMN %s TYPE %s USING ...", table,
                            quote_identifier(rule.column), rule.expected)));
}

// A unique index ON CONFLICT (date) can use as its arbiter: valid, immediate, non-partial,
// keyed on exactly the date column.
bool date_is_unique(Oid relid, AttrNumber date_att)
{
    Relation rel = relation_open(relid, NoLock);  // the caller holds a lock
    List *indexes = RelationGetIndexList(rel);
    bool found = false;
    ListCell *lc;
    foreach (lc, indexes) {
        HeapTuple tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
        if (!HeapTupleIsValid(tup))
            continue;
        Form_pg_index ix = (Form_pg_index)GETSTRUCT(tup);
        found = ix->indisunique && ix->indimmediate && ix->indisvalid && ix->indnkeyatts == 1 &&
                ix->indkey.values[0] == date_att && heap_attisnull(tup, Anum_pg_index_indpred, nullptr) &&
                heap_attisnull(tup, Anum_pg_index_indexprs, nullptr);
        ReleaseSysCache(tup);
        if (found)
            break;
    }
    list_free(indexes);
    relation_close(rel, NoLock);
    return found;
}

// The whole check; returns the timestamp column. Runs inside pg_call.
const char *check_now(Oid relid)
{
    const char *name = get_rel_name(relid);
    if (name == nullptr)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("daily_usage_cache was dropped")));
    const char *table = psprintf("%s.%s", quote_identifier(get_namespace_name(get_rel_namespace(relid))),
                                 quote_identifier(name));
    char kind = get_rel_relkind(relid);
    if (kind == RELKIND_PARTITIONED_TABLE)
        ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                        errmsg("%s is a partitioned table, which ducache does not support", table),
                        errdetail("ducache's upsert uses INSERT .. ON CONFLICT .. RETURNING xmax, which "
                                  "partitioned tables do not support."),
                        errhint("Use a plain table.")));
    if (kind != RELKIND_RELATION)
        ereport(ERROR, (errcode(ERRCODE_WRONG_OBJECT_TYPE), errmsg("%s is not a table", table),
                        errdetail("ducache needs a plain table named daily_usage_cache.")));
    for (const ColumnRule &rule : kColumns)
        check_column(relid, table, rule);
    const ColumnRule &ts = get_attnum(relid, "cached_at") != InvalidAttrNumber ? kCachedAt : kUpdatedAt;
    if (&ts == &kUpdatedAt && get_attnum(relid, "updated_at") == InvalidAttrNumber)
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("%s has neither a \"cached_at\" nor an \"updated_at\" column", table),
                        errdetail("ducache writes the time of each write there.")));
    check_column(relid, table, ts);
    if (!date_is_unique(relid, get_attnum(relid, "date")))
        ereport(ERROR, (errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
                        errmsg("%s has no unique index on (date)", table),
                        errdetail("ducache keeps one row per day and upserts with ON CONFLICT (date): it needs "
                                  "a valid, non-partial, non-deferrable unique index or primary key on exactly (date)."),
                        errhint("ALTER TABLE %s ADD PRIMARY KEY (date)", table)));
    return ts.column;
}

}  // namespace

const char *check_cache_table_shape(Oid relid)
{
    return pg_call([&] {
        if (!callback_registered) {
            CacheRegisterRelcacheCallback(forget_verdict, (Datum)0);
            callback_registered = true;
        }
        // Locking accepts pending invalidations: a verdict that survives it is current.
        LockRelationOid(relid, AccessShareLock);
        for (const Verdict &v : verdicts)
            if (v.relid == relid)
                return v.timestamp_column;
        const char *ts = check_now(relid);
        verdicts[next_slot] = {relid, ts};
        next_slot = (next_slot + 1) % kSlots;
        return ts;
    });
}

void check_result_column(TupleDesc desc, int attno, Oid expected)
{
    Form_pg_attribute att = TupleDescAttr(desc, attno - 1);
    if (att->atttypid == expected)
        return;
    pg_call([&] {
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("column \"%s\" of daily_usage_cache has type %s, but ducache needs %s",
                               NameStr(att->attname), format_type_be(att->atttypid), format_type_be(expected))));
    });
}

}  // namespace ducache::pg

// Called by the install script once the table exists: an adopted table of the wrong shape
// stops CREATE EXTENSION. Also callable later, to check a table after ALTERing it.
DUCACHE_FUNCTION(ducache_table_check)
{
    ducache::pg::cache_table_oid(fcinfo);  // finds the table and checks it
    PG_RETURN_VOID();
}
