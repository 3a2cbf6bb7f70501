// The document of ducache_filter_options: LiteMaaS's GET /filter-options
// ({"models":[{id,name,provider}],"users":[{userId,username,email}]}, docs/litemaas.md §6),
// sorted in byte order (L14; LiteMaaS: localeCompare).
//
// How to use: for the days of the range in date order, model() for every key of
// aggregated_by_model, user_seen() for every user entry with a non-empty username (under
// aggregated_by_model[M].users and in aggregated_by_user), identity() for every
// aggregated_by_user entry that has a "username" member; then document().
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include <map>
#include <memory_resource>
#include <set>
#include <string>
#include <string_view>

namespace ducache::core {

class FilterOptionsBuilder {
public:
    explicit FilterOptionsBuilder(std::pmr::memory_resource *mr);
    // own_provider: the entry's own string "provider" (latest day wins), or nullptr.
    void model(std::string_view name, const std::string_view *own_provider);
    void user_seen(std::string_view user_id);
    // username/email: nullptr when absent or not a string. Latest call wins.
    void identity(std::string_view user_id, const std::string_view *username, const std::string_view *email);
    std::string document() const;

private:
    struct Ident {
        bool has_username = false, has_email = false;
        std::pmr::string username, email;
    };
    std::pmr::memory_resource *mr_;
    std::pmr::map<std::pmr::string, std::pmr::string> models_;  // name -> own provider ("" = rule)
    std::pmr::set<std::pmr::string> own_;                      // models with an own provider
    std::pmr::set<std::pmr::string> users_;
    std::pmr::map<std::pmr::string, Ident> idents_;
};

}  // namespace ducache::core
