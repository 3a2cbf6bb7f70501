// A date as text for messages: "2025-10-14", "-infinity", "0044-03-15 BC".
#pragma once

#include "pg/postgres.hpp"

#include <string>

namespace ducache::pg {

// Same rendering as the ISO DateStyle, without calling into PostgreSQL (cannot fail, so it is
// safe to call while building a C++ exception's message).
std::string date_text(DateADT d);

}  // namespace ducache::pg
