// DashboardBuilder::api_keys(): the pairs summed so far, for the top API key from per-user
// bounds (core/key_bounds.hpp, pg/dashboard_top_key.cpp).
#include "core/dashboard_impl.hpp"

namespace ducache::core {

const KeyAggregator &DashboardBuilder::api_keys() const { return impl_->keys; }

}  // namespace ducache::core
