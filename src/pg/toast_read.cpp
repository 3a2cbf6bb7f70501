#include "pg/toast_read.hpp"

#include "pg/boundary.hpp"

extern "C" {
#include "access/detoast.h"
#include "access/genam.h"
#include "access/heapam.h"
#include "access/heaptoast.h"
#include "access/table.h"
#include "access/toast_internals.h"
#include "storage/bufmgr.h"
#include "utils/fmgroids.h"
#include "utils/array.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
}

#include <cstring>

namespace ducache::pg {

ToastReadCounts toast_read_counts;

namespace {

// What one value's fetch needs at every chunk.
struct ToastValue {
    Relation rel;
    Oid valueid;
    int32 size;         // the stored bytes (compressed or not), without the varlena header
    int32 total;        // chunks
    char *dst;          // where chunk 0 goes
};

// Copies tup into its place when it is chunk `expected` of the value; false for any other tuple
// (another value's chunk, another chunk number, a size a chunk of this number cannot have, a
// compressed or external chunk).
bool take_chunk(const ToastValue &v, HeapTuple tup, int32 expected)
{
    TupleDesc desc = v.rel->rd_att;
    bool isnull;
    Datum id = fastgetattr(tup, 1, desc, &isnull);
    if (isnull || DatumGetObjectId(id) != v.valueid)
        return false;
    Datum seq = fastgetattr(tup, 2, desc, &isnull);
    if (isnull || DatumGetInt32(seq) != expected)
        return false;
    Pointer chunk = DatumGetPointer(fastgetattr(tup, 3, desc, &isnull));
    if (isnull)
        return false;
    int32 size;
    const char *data;
    if (!VARATT_IS_EXTENDED(chunk)) {
        size = int32(VARSIZE(chunk) - VARHDRSZ);
        data = VARDATA(chunk);
    } else if (VARATT_IS_SHORT(chunk)) {
        size = int32(VARSIZE_SHORT(chunk) - VARHDRSZ_SHORT);
        data = VARDATA_SHORT(chunk);
    } else {
        return false;
    }
    const int32 want = expected < v.total - 1 ? int32(TOAST_MAX_CHUNK_SIZE)
                                              : v.size - (v.total - 1) * int32(TOAST_MAX_CHUNK_SIZE);
    if (size != want)
        return false;
    memcpy(v.dst + size_t(expected) * TOAST_MAX_CHUNK_SIZE, data, size_t(size));
    return true;
}

// Chunk `expected` by the index (the first one, or the next after a chunk not where the one
// before it ended): copied, and its place in the heap returned. A missing or wrong chunk is
// PostgreSQL's own error (data corrupted), as its fetch raises it.
ItemPointerData locate_chunk(const ToastValue &v, Relation index, Snapshot snapshot, int32 expected)
{
    ScanKeyData key[2];
    ScanKeyInit(&key[0], 1, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(v.valueid));
    ScanKeyInit(&key[1], 2, BTGreaterEqualStrategyNumber, F_INT4GE, Int32GetDatum(expected));
    SysScanDesc scan = systable_beginscan_ordered(v.rel, index, snapshot, 2, key);
    HeapTuple tup = systable_getnext_ordered(scan, ForwardScanDirection);
    if (tup == nullptr || !take_chunk(v, tup, expected))
        ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED),
                        errmsg_internal("missing or unexpected chunk number %d for toast value %u in %s", expected,
                                        v.valueid, RelationGetRelationName(v.rel))));
    ItemPointerData at = tup->t_self;
    systable_endscan_ordered(scan);
    return at;
}

// Takes the chunks that follow `after` in the heap while each is the next one; returns the next
// chunk number still to read.
int32 read_in_order(const ToastValue &v, Snapshot snapshot, ItemPointerData after, int32 expected)
{
    const BlockNumber nblocks = RelationGetNumberOfBlocks(v.rel);
    BlockNumber block = ItemPointerGetBlockNumber(&after);
    OffsetNumber off = OffsetNumber(ItemPointerGetOffsetNumber(&after) + 1);
    bool in_order = true;
    while (in_order && expected < v.total && block < nblocks) {
        Buffer buf = ReadBuffer(v.rel, block);
        LockBuffer(buf, BUFFER_LOCK_SHARE);
        Page page = BufferGetPage(buf);
        const OffsetNumber last = PageGetMaxOffsetNumber(page);
        for (; off <= last && expected < v.total; off++) {
            ItemId lp = PageGetItemId(page, off);
            if (!ItemIdIsNormal(lp)) {
                in_order = false;
                break;
            }
            HeapTupleData tup;
            tup.t_data = reinterpret_cast<HeapTupleHeader>(PageGetItem(page, lp));
            tup.t_len = ItemIdGetLength(lp);
            tup.t_tableOid = RelationGetRelid(v.rel);
            ItemPointerSet(&tup.t_self, block, off);
            if (!HeapTupleSatisfiesVisibility(&tup, snapshot, buf) || !take_chunk(v, &tup, expected)) {
                in_order = false;
                break;
            }
            expected++;
            toast_read_counts.in_order++;
        }
        UnlockReleaseBuffer(buf);
        CHECK_FOR_INTERRUPTS();
        block++;
        off = FirstOffsetNumber;
    }
    return expected;
}

// The stored value of an on-disk TOAST pointer (still compressed when it was), palloc'd.
struct varlena *fetch_in_heap_order(struct varlena *attr)
{
    struct varatt_external pointer;
    VARATT_EXTERNAL_GET_POINTER(pointer, attr);
    const int32 size = VARATT_EXTERNAL_GET_EXTSIZE(pointer);
    struct varlena *result = static_cast<struct varlena *>(palloc(size_t(size) + VARHDRSZ));
    if (VARATT_EXTERNAL_IS_COMPRESSED(pointer))
        SET_VARSIZE_COMPRESSED(result, size + VARHDRSZ);
    else
        SET_VARSIZE(result, size + VARHDRSZ);
    if (size == 0)
        return result;
    Relation rel = table_open(pointer.va_toastrelid, AccessShareLock);
    Relation *indexes;
    int nindexes;
    const int valid = toast_open_indexes(rel, AccessShareLock, &indexes, &nindexes);
    SnapshotData snapshot;
    init_toast_snapshot(&snapshot);
    const ToastValue v{rel, pointer.va_valueid, size, (size - 1) / int32(TOAST_MAX_CHUNK_SIZE) + 1, VARDATA(result)};
    int32 expected = 0;
    while (expected < v.total) {
        ItemPointerData at = locate_chunk(v, indexes[valid], &snapshot, expected);
        toast_read_counts.located++;
        expected = read_in_order(v, &snapshot, at, expected + 1);
    }
    toast_close_indexes(indexes, nindexes, AccessShareLock);
    table_close(rel, AccessShareLock);
    return result;
}

}  // namespace

Jsonb *detoast_jsonb(Datum d)
{
    struct varlena *attr = reinterpret_cast<struct varlena *>(DatumGetPointer(d));
    if (!VARATT_IS_EXTERNAL_ONDISK(attr))
        return DatumGetJsonbP(d);
    struct varlena *stored = fetch_in_heap_order(attr);
    if (!VARATT_IS_COMPRESSED(stored))
        return reinterpret_cast<Jsonb *>(stored);
    struct varlena *plain = detoast_attr(stored);  // decompressed (lz4 or pglz) into a new allocation
    pfree(stored);
    return reinterpret_cast<Jsonb *>(plain);
}

}  // namespace ducache::pg

#ifdef DUCACHE_TEST_HOOKS
// Test hook: {chunks read after the one before them, chunks found by the index} since the last
// call; it starts both counts again.
DUCACHE_FUNCTION(ducache_test_toast_chunks)
{
    Datum counts[2] = {Int64GetDatum(int64(ducache::pg::toast_read_counts.in_order)),
                       Int64GetDatum(int64(ducache::pg::toast_read_counts.located))};
    ducache::pg::toast_read_counts = {};
    return ducache::pg::pg_call(
        [&] { return PointerGetDatum(construct_array(counts, 2, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE)); });
}

// Test hook: the value as detoast_jsonb reads it equals PostgreSQL's detoasted value, byte for byte.
DUCACHE_FUNCTION(ducache_test_toast_same)
{
    Datum d = PG_GETARG_DATUM(0);
    Jsonb *ours = ducache::pg::pg_call([&] { return ducache::pg::detoast_jsonb(d); });
    Jsonb *theirs = ducache::pg::pg_call([&] { return DatumGetJsonbP(d); });
    PG_RETURN_BOOL(VARSIZE(ours) == VARSIZE(theirs) && memcmp(ours, theirs, VARSIZE(ours)) == 0);
}

// Test hook: whether the heap-order read takes a chunk tuple (chunk_id, chunk_seq, a chunk of
// `bytes` bytes, made in memory with table t's TOAST relation's row type) as chunk `expected` of
// the value `value_id` of `value_size` stored bytes: each test take_chunk makes, one at a time.
DUCACHE_FUNCTION(ducache_test_toast_take)
{
    const Oid table = PG_GETARG_OID(0), chunk_id = PG_GETARG_OID(1), value_id = PG_GETARG_OID(4);
    const int32 seq = PG_GETARG_INT32(2), bytes = PG_GETARG_INT32(3), expected = PG_GETARG_INT32(5),
                value_size = PG_GETARG_INT32(6);
    const bool taken = ducache::pg::pg_call([&] {
        if (bytes < 0 || value_size <= 0 || expected < 0 ||
            int64(expected) * TOAST_MAX_CHUNK_SIZE + bytes > int64(value_size) + TOAST_MAX_CHUNK_SIZE)
            elog(ERROR, "ducache_test_toast_take: sizes out of range");
        Relation owner = table_open(table, AccessShareLock);
        const Oid toast = owner->rd_rel->reltoastrelid;
        table_close(owner, AccessShareLock);
        Relation rel = table_open(toast, AccessShareLock);
        bytea *data = static_cast<bytea *>(palloc0(size_t(bytes) + VARHDRSZ));
        SET_VARSIZE(data, bytes + VARHDRSZ);
        Datum values[3] = {ObjectIdGetDatum(chunk_id), Int32GetDatum(seq), PointerGetDatum(data)};
        bool nulls[3] = {false, false, false};
        HeapTuple tup = heap_form_tuple(RelationGetDescr(rel), values, nulls);
        char *dst = static_cast<char *>(palloc(size_t(value_size) + TOAST_MAX_CHUNK_SIZE));
        const ducache::pg::ToastValue v{rel, value_id, value_size,
                                        (value_size - 1) / int32(TOAST_MAX_CHUNK_SIZE) + 1, dst};
        const bool r = ducache::pg::take_chunk(v, tup, expected);
        table_close(rel, AccessShareLock);
        return r;
    });
    PG_RETURN_BOOL(taken);
}
#endif
