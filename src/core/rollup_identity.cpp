#include "core/rollup_identity.hpp"

namespace ducache::core {

RollupIdentities::RollupIdentities(std::pmr::memory_resource *mr) : mr_(mr), users_(mr), named_(mr) {}

void RollupIdentities::user(uint32_t user, std::string_view username, std::string_view email,
                            std::string_view role, const UserFacts &facts)
{
    if (username.empty() && !facts.listed)
        return;
    Ident &id = users_.try_emplace(user, mr_).first->second;
    auto set = [](std::pmr::string &dst, std::string_view src) {
        if (dst != src)  // the same identity comes back day after day: copy only a change
            dst.assign(src.data(), src.size());
    };
    if (!username.empty()) {  // the dashboard: a non-empty username brings all three
        id.dashboard = true;
        set(id.username, username);
        set(id.email, email);
        set(id.role, role);
    }
    if (facts.listed) {  // filter options: the latest day with a "username" member
        id.listed = true;
        id.name_is_string = facts.name_is_string;
        id.email_is_string = facts.email_is_string;
        set(id.listed_name, facts.name_is_string ? facts.name : std::string_view());
        set(id.listed_email, facts.email_is_string ? facts.email : std::string_view());
        id.seen = id.seen || (facts.name_is_string && !facts.name.empty());
    }
}

void RollupIdentities::model_user_named(uint32_t model, std::string_view user)
{
    named_.try_emplace(model).first->second.emplace(user);
}

void RollupIdentities::write_user(JsonSink &w, uint32_t user) const
{
    auto it = users_.find(user);
    if (it == users_.end())
        return;
    const Ident &id = it->second;
    if (id.dashboard) {
        w.key("~identity"), w.begin_object();
        w.key("username"), w.string(id.username);
        if (!id.email.empty())
            w.key("email"), w.string(id.email);
        if (!id.role.empty())
            w.key("role"), w.string(id.role);
        w.end_object();
    }
    if (id.listed) {
        w.key("~listed"), w.begin_object();
        if (id.name_is_string)
            w.key("username"), w.string(id.listed_name);
        if (id.email_is_string)
            w.key("email"), w.string(id.listed_email);
        w.end_object();
    }
    if (id.seen)
        w.key("~seen"), w.integer(1);
}

void RollupIdentities::write_model(JsonSink &w, uint32_t model) const
{
    auto it = named_.find(model);
    if (it == named_.end())
        return;
    w.key("~named"), w.begin_object();
    for (const auto &u : it->second)
        w.key(u), w.integer(1);
    w.end_object();
}

}  // namespace ducache::core
