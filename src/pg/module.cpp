// Library entry: the module magic block and load-time set-up.
#include "pg/postgres.hpp"
#include "pg/fdw_gather.hpp"
#include "pg/heap_retention.hpp"
#include "pg/settings.hpp"
#include "pg/shard_xact.hpp"

extern "C" {
_Pragma("GCC visibility push(default)")
PG_MODULE_MAGIC;
void _PG_init(void);
_Pragma("GCC visibility pop")

void _PG_init(void)
{
    ducache::pg::define_shard_settings();
    ducache::pg::define_fdw_gather_settings();  // before define_settings reserves the prefix
    ducache::pg::define_settings();
    ducache::pg::settle_heap_thresholds();
}
}
