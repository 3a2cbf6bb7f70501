// The rebuild model's documents as JSONB, in LiteMaaS's nested shape (CONTRACT §3, §5.5):
//   users  {user_id: {userId, username, email, role, metrics,
//                     models: {M: {modelName, metrics, api_keys: {A: {keyAlias, keyName, metrics}}}}}}
//   models {M: {metrics, users: {user_id: {userId, username, email, metrics}}}}
//   total_metrics = metrics
// metrics = {api_requests, ..., spend} (core::nested_metric_name). The JsonbValue tree is built in
// mr (the day's arena), the document in CurrentMemoryContext.
#pragma once

#include "core/rebuild_model.hpp"

#include "pg/postgres.hpp"

#include <memory_resource>

namespace ducache::pg {

Datum users_document(const core::RebuildDay &day, std::pmr::memory_resource *mr);
Datum models_document(const core::RebuildDay &day, std::pmr::memory_resource *mr);
Datum totals_document(const core::RebuildDay &day, std::pmr::memory_resource *mr);

}  // namespace ducache::pg
