// The rebuild model's documents as JSONB, in LiteMaaS's nested shape (CONTRACT §3):
//   users  {user_id: {userId, username, email, role, metrics, models: {M: {modelName, metrics}}}}
//   models {M: {metrics, users: {user_id: {userId, username, email, metrics}}}}
// metrics = {api_requests, ..., spend} (core::nested_metric_name). The per-key cells of the
// model are not written in 0.1.
#pragma once

#include "core/rebuild_model.hpp"

#include "pg/postgres.hpp"

namespace ducache::pg {

Datum users_document(const core::RebuildDay &day);
Datum models_document(const core::RebuildDay &day);

}  // namespace ducache::pg
