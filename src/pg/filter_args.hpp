// The three optional filter arguments of the read functions (CONTRACT §5.2): user_ids,
// model_ids, api_key_aliases text[] at argument positions first, first+1, first+2. A missing
// argument (a 0.1.0 declaration calling the 0.2 library), SQL NULL or '{}' = no filter. A
// NULL element is 22004 naming the argument and the element. The strings stay in the
// detoasted arrays (the current memory context) for the call.
#pragma once

#include "core/filters.hpp"

#include "pg/postgres.hpp"

namespace ducache::pg {

void read_filter_args(FunctionCallInfo fcinfo, int first, core::Filters &out);

}  // namespace ducache::pg
