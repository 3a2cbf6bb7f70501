// ducache's GUCs. Values name tables; they are resolved as relations (never pasted into SQL).
#pragma once

namespace ducache::pg {

void define_settings();

// Current values (never NULL; empty string means "no table").
const char *users_table_setting();
const char *api_keys_table_setting();

}  // namespace ducache::pg
