#include "core/filter_options.hpp"

#include "core/filters.hpp"
#include "core/json_sink.hpp"

#include <algorithm>
#include <vector>

namespace ducache::core {

FilterOptionsBuilder::FilterOptionsBuilder(std::pmr::memory_resource *mr)
    : mr_(mr), models_(mr), users_(mr), idents_(mr)
{
}

void FilterOptionsBuilder::model(std::string_view name, const std::string_view *own_provider)
{
    Model &m = models_.try_emplace(std::pmr::string(name, mr_)).first->second;
    if (own_provider) {
        m.own = true;
        m.day = day_;
        m.provider.assign(own_provider->data(), own_provider->size());
    }
}

void FilterOptionsBuilder::user_seen(std::string_view user_id) { users_.emplace(user_id); }

void FilterOptionsBuilder::identity(std::string_view user_id, const std::string_view *username,
                                    const std::string_view *email)
{
    Ident &id = idents_.try_emplace(std::pmr::string(user_id, mr_)).first->second;
    id.day = day_;
    id.has_username = username != nullptr;
    id.username.assign(username ? *username : std::string_view());
    id.has_email = email != nullptr;
    id.email.assign(email ? *email : std::string_view());
}

std::string FilterOptionsBuilder::document() const
{
    JsonTextSink text;
    document(text);
    return text.take();
}

void FilterOptionsBuilder::document(JsonSink &w) const
{
    w.begin_object();
    w.key("models"), w.begin_array();
    for (const auto &[name, m] : models_) {  // std::map over std::string: byte order
        w.begin_object();
        w.key("id"), w.string(name);
        w.key("name"), w.string(name);
        w.key("provider"), w.string(m.own ? std::string_view(m.provider) : provider_from_name(name));
        w.end_object();
    }
    w.end_array();
    struct Row {
        std::string_view id;
        const Ident *ident;
        std::string_view username() const
        {
            return ident && ident->has_username ? std::string_view(ident->username) : std::string_view();
        }
    };
    std::vector<Row> rows;
    for (const auto &u : users_) {
        auto it = idents_.find(u);
        rows.push_back({u, it == idents_.end() ? nullptr : &it->second});
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Row &a, const Row &b) {
        if (a.username() != b.username())
            return a.username() < b.username();
        return a.id < b.id;
    });
    w.key("users"), w.begin_array();
    for (const Row &r : rows) {
        w.begin_object();
        w.key("userId"), w.string(r.id);
        w.key("username"), w.string_or_null(r.username(), r.ident && r.ident->has_username);
        w.key("email"), w.string(r.ident && r.ident->has_email ? std::string_view(r.ident->email) : "");
        w.end_object();
    }
    w.end_array();
    w.end_object();
}

}  // namespace ducache::core
