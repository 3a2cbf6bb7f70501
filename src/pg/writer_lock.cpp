#include "pg/writer_lock.hpp"

#include "pg/boundary.hpp"

namespace ducache::pg {

namespace {
// First advisory-lock key: "duca" in ASCII, so ducache's lock is recognisable in pg_locks.
constexpr int32 kLockSpace = 0x64756361;
}  // namespace

void lock_cache_writers(Oid table_oid)
{
    pg_call([&] {
        DirectFunctionCall2(pg_advisory_xact_lock_int4, Int32GetDatum(kLockSpace),
                            Int32GetDatum(int32(table_oid)));
    });
}

}  // namespace ducache::pg
