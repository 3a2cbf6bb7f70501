#include "pg/rollup_triggers.hpp"

extern "C" {
#include "access/table.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "utils/reltrigger.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

#include <cstring>

namespace ducache::pg {

namespace {

struct Expected {
    const char *name;
    int16 event;  // TRIGGER_TYPE_INSERT, ...
};

constexpr Expected kTriggers[] = {
    {"ducache_rollups_insert", TRIGGER_TYPE_INSERT},
    {"ducache_rollups_update", TRIGGER_TYPE_UPDATE},
    {"ducache_rollups_delete", TRIGGER_TYPE_DELETE},
    {"ducache_rollups_truncate", TRIGGER_TYPE_TRUNCATE},
};

bool is_ours(const Trigger &t, const Expected &e, Oid nsp)
{
    if (strcmp(t.tgname, e.name) != 0 || t.tgenabled != TRIGGER_FIRES_ALWAYS)
        return false;
    // AFTER ... FOR EACH STATEMENT on exactly this event, calling ducache's function.
    if (TRIGGER_FOR_ROW(t.tgtype) || !TRIGGER_FOR_AFTER(t.tgtype) || (t.tgtype & e.event) == 0)
        return false;
    if (get_func_namespace(t.tgfoid) != nsp)
        return false;
    char *fname = get_func_name(t.tgfoid);
    return fname != nullptr && strcmp(fname, "ducache_rollups_log_changes") == 0;
}

}  // namespace

bool rollup_triggers_in_place(Oid table, Oid nsp)
{
    Relation rel = table_open(table, AccessShareLock);
    bool all = true;
    for (const Expected &e : kTriggers) {
        bool found = false;
        for (int i = 0; rel->trigdesc != nullptr && i < rel->trigdesc->numtriggers && !found; i++)
            found = is_ours(rel->trigdesc->triggers[i], e, nsp);
        all = all && found;
    }
    table_close(rel, NoLock);  // the lock stays until the transaction ends, as the scan's would
    return all;
}

}  // namespace ducache::pg
