// Library entry: the module magic block and load-time set-up.
#include "pg/postgres.hpp"
#include "pg/heap_retention.hpp"
#include "pg/settings.hpp"

extern "C" {
_Pragma("GCC visibility push(default)")
PG_MODULE_MAGIC;
void _PG_init(void);
_Pragma("GCC visibility pop")

void _PG_init(void)
{
    ducache::pg::define_settings();  // none in a parallel worker (pg/settings.hpp)
    ducache::pg::settle_heap_thresholds();
}
}
