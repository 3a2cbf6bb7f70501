// What a month rollup keeps of its users' identity beyond the latest non-empty strings
// (rollup_builder.hpp), so that ducache_dashboard and ducache_filter_options resolve identity
// from a rollup exactly as from its days (CONTRACT §7):
//   aggregated_by_user[U]."~identity": {"username", "email"?, "role"?} of the latest day whose
//       entry had a non-empty string username (the dashboard takes all three from that day);
//   aggregated_by_user[U]."~listed": {"username"?, "email"?}: the latest day whose entry had a
//       "username" member at all, with its username/email where they were strings (filter
//       options: that day's values replace the earlier ones, a non-string making them absent);
//   aggregated_by_user[U]."~seen": 1 when some day's entry had a non-empty string username;
//   aggregated_by_model[M]."~named": {U: 1} for the users[U] objects of the model that had a
//       non-empty string username on some day (filter options list them).
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include "core/json_sink.hpp"

#include <cstdint>
#include <map>
#include <memory_resource>
#include <set>
#include <string>
#include <string_view>

namespace ducache::core {

// One day's aggregated_by_user[U] entry, as filter options read it.
struct UserFacts {
    bool listed = false;                              // it has a "username" member
    bool name_is_string = false, email_is_string = false;
    std::string_view name, email;                     // when strings
};

class RollupIdentities {
public:
    explicit RollupIdentities(std::pmr::memory_resource *mr);
    // user: the builder's slot; username/email/role: the entry's strings (empty when absent).
    void user(uint32_t user, std::string_view username, std::string_view email, std::string_view role,
              const UserFacts &facts);
    void model_user_named(uint32_t model, std::string_view user);
    // The members above of a user / model entry (nothing when there is nothing to say).
    void write_user(JsonSink &w, uint32_t user) const;
    void write_model(JsonSink &w, uint32_t model) const;

private:
    struct Ident {
        bool dashboard = false, listed = false, seen = false;
        std::pmr::string username, email, role;           // "~identity"
        bool name_is_string = false, email_is_string = false;
        std::pmr::string listed_name, listed_email;        // "~listed"
        explicit Ident(std::pmr::memory_resource *mr)
            : username(mr), email(mr), role(mr), listed_name(mr), listed_email(mr)
        {
        }
    };
    std::pmr::memory_resource *mr_;
    std::pmr::map<uint32_t, Ident> users_;
    std::pmr::map<uint32_t, std::pmr::set<std::pmr::string>> named_;
};

}  // namespace ducache::core
