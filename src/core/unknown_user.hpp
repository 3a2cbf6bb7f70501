// The Unknown User's id: where LiteMaaS files usage no user is mapped to (a rebuild's unmapped
// keys), and the one id the dashboard never names as its top user. One declaration, for the
// rebuild model and the dashboard alike (a char array: it converts to std::string and
// std::string_view both).
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

namespace ducache::core {

inline constexpr char kUnknownUserId[] = "00000000-0000-0000-0000-000000000000";

}  // namespace ducache::core
