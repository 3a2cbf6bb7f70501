// The binary partial of ducache_dashboard on a coordinator (docs/scale-out.md): a shard's
// core::DashboardState as bytes (bytea), merged on the coordinator (DashboardState::merge).
// Layout (core/partial_wire.hpp: little-endian, strings as u32 length + bytes), version 1 (as
// changed in 0.4.0, round 6: shards and coordinator run one ducache version):
//   "DUCP" u8 version u8 kind=1 | u8 flags (bit 0 has_current, bit 1 has_previous) |
//   totals total | totals prev_total | keys users |
//   i64 previous users (the comparison period's users with requests != 0: users are disjoint
//       across shards, and the document shows only their count) |
//   keys models | keys providers | keys unprovided |
//   keys API keys: at most one, the shard's first by cost (the document shows only the top
//       key, and (alias, user) pairs are disjoint across shards) |
//   u32 n, n x (user, username, email, role): only the users the document can name: the
//       shard's first two users by cost with requests != 0 (topUser), its first kTopUsers + 1
//       with requests > 0 (topUsers, one more for the Unknown User) and its top key's user |
//   u32 n, n x (model, i32 day, provider)               own providers, models ascending |
//   u32 n, n x (date, totals, keys models)              days, dates ascending
// totals = six i64 counts + the cost as JSON number text; keys = u32 n, n x (key, totals).
// (Round 5 sent every previous user, API key pair and identity: ~3/4 of the bytes at S, each
// written, parsed and hashed twice on the coordinator.)
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
