// The binary partial of ducache_dashboard on a coordinator (docs/scale-out.md): a shard's
// core::DashboardState as bytes (bytea), merged on the coordinator (DashboardState::merge).
// Layout (core/partial_wire.hpp: little-endian, strings as u32 length + bytes), version 1:
//   "DUCP" u8 version u8 kind=1 | u8 flags (bit 0 has_current, bit 1 has_previous) |
//   totals total | totals prev_total |
//   keys users | keys prev_users | keys models | keys providers | keys unprovided | keys keys |
//   u32 n, n x (user, username, email, role) |
//   u32 n, n x (model, i32 day, provider)               own providers, models ascending |
//   u32 n, n x (date, totals, keys models)              days, dates ascending
// totals = six i64 counts + the cost as JSON number text; keys = u32 n, n x (key, totals).
// Anything else (short, trailing bytes, a key twice, days out of order, a cost that is not a
// number, another version) is 22P03 "invalid ducache dashboard partial", never a read out of
// bounds (test/fuzz/fuzz_dashboard_partial.cpp).
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/dashboard_state.hpp"

#include <string>

namespace ducache::core {

std::string serialize_dashboard_state(const DashboardState &s);
// Reads a partial into `out`, which must be empty (freshly made).
void deserialize_dashboard_state(const char *data, size_t len, DashboardState &out);

}  // namespace ducache::core
