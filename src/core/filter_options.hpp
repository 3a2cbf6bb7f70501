// The document of ducache_filter_options: LiteMaaS's GET /filter-options
// ({"models":[{id,name,provider}],"users":[{userId,username,email}]}, docs/litemaas.md §6),
// sorted in byte order (L14; LiteMaaS: localeCompare).
//
// How to use: for the rows of the range in date order, begin_day() (the row's day number; a
// rollup: its first day), then model() for every key of
// aggregated_by_model, user_seen() for every user entry with a non-empty username (under
// aggregated_by_model[M].users and in aggregated_by_user), identity() for every
// aggregated_by_user entry that has a "username" member; then document().
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include <climits>
#include <cstdint>
#include <map>
#include <memory_resource>
#include <set>
#include <string>
#include <string_view>

namespace ducache::core {

class JsonSink;

class FilterOptionsBuilder {
public:
    explicit FilterOptionsBuilder(std::pmr::memory_resource *mr);
    void begin_day(int32_t day) { day_ = day; }
    // own_provider: the entry's own string "provider" (latest day wins), or nullptr.
    void model(std::string_view name, const std::string_view *own_provider);
    void user_seen(std::string_view user_id);
    // username/email: nullptr when absent or not a string. Latest call wins.
    void identity(std::string_view user_id, const std::string_view *username, const std::string_view *email);
    void document(JsonSink &out) const;
    std::string document() const;  // as JSON text (core::JsonTextSink)

    // Scale-out (docs/scale-out.md): a shard's builder as a binary partial (version 1, layout in
    // core/filter_options_partial.cpp), and the coordinator's merge of one (malformed: 22P03).
    // Models and users unite; an own provider and an identity: the later day wins.
    std::string partial() const;
    void merge_partial(const char *data, size_t len);

private:
    struct Ident {
        bool has_username = false, has_email = false;
        int32_t day = INT32_MIN;
        std::pmr::string username, email;
    };
    struct Model {
        bool own = false;  // has an own provider (else the name rule)
        int32_t day = INT32_MIN;
        std::pmr::string provider;
    };
    std::pmr::memory_resource *mr_;
    int32_t day_ = INT32_MIN;
    std::pmr::map<std::pmr::string, Model> models_;
    std::pmr::set<std::pmr::string> users_;
    std::pmr::map<std::pmr::string, Ident> idents_;
};

}  // namespace ducache::core
