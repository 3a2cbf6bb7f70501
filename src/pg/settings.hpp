// ducache's GUCs. Table names are resolved as relations (never pasted into SQL).
#pragma once

namespace ducache::pg {

void define_settings();

// Current values (never NULL; empty string means "no table").
const char *users_table_setting();
const char *api_keys_table_setting();
// ducache.use_rollups: read functions may answer whole months from fresh rollups.
bool use_rollups_setting();

}  // namespace ducache::pg
