// CONTRACT §5.2: the three optional filters of the read functions (user ids, model names, API
// key aliases) and the level of usage cells they need; §5.3: the provider of a model.
//
// How to use (adapter side, see pg/cell_walker.hpp):
//   core::Filters f(&memory);
//   f.users.add(id) ... ; f.seal();            // or pg::read_filter_args(fcinfo, 2, f)
//   if (!f.any()) -> the unfiltered path of §3, unchanged
//   core::CellLevel level = f.level(need_model);
//   f.users.contains(user), f.models.contains(model), f.keys.contains(alias)
// An inactive list (NULL or empty argument) contains everything. Matching is byte for byte.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include <cstdint>
#include <memory_resource>
#include <string_view>
#include <vector>

namespace ducache::core {

// Where passing usage is read (§5.1/§5.2): the user entry's own metrics, the user's
// models[M] metrics, or the models[M].api_keys[A] metrics.
enum class CellLevel : int8_t { user = 0, model = 1, key = 2 };

// One filter list: a set of byte strings (views into the caller's argument memory).
class FilterList {
public:
    explicit FilterList(std::pmr::memory_resource *mr = std::pmr::get_default_resource()) : items_(mr) {}
    void add(std::string_view s) { items_.push_back(s); }
    void seal();  // sorts and deduplicates; call once after the last add
    bool active() const { return !items_.empty(); }
    // True when the list is inactive or holds s.
    bool contains(std::string_view s) const;
    const std::pmr::vector<std::string_view> &items() const { return items_; }

private:
    std::pmr::vector<std::string_view> items_;
};

struct Filters {
    explicit Filters(std::pmr::memory_resource *mr = std::pmr::get_default_resource())
        : users(mr), models(mr), keys(mr) {}
    FilterList users, models, keys;

    void seal() { users.seal(); models.seal(); keys.seal(); }
    bool any() const { return users.active() || models.active() || keys.active(); }
    // The level the filters need; need_model: the result is per model (model, provider,
    // user-model breakdowns), so at least the model level.
    CellLevel level(bool need_model = false) const
    {
        if (keys.active())
            return CellLevel::key;
        if (models.active() || need_model)
            return CellLevel::model;
        return CellLevel::user;
    }
};

// §5.3 / LiteMaaS's extractProviderFromModel, by name only: the text before the first '/';
// else "openai" for names starting "gpt", "anthropic" for "claude", "google" for "gemini";
// else "unknown". The result views `model` or a static string.
std::string_view provider_from_name(std::string_view model);

// The full rule: the entry's own string "provider" field when it has one (own != nullptr).
inline std::string_view provider_rule(std::string_view model, const std::string_view *own)
{
    return own ? *own : provider_from_name(model);
}

}  // namespace ducache::core
