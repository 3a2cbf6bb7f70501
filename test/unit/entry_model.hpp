// Test-side models for core/entry_rules.hpp: a plain tree of JSON values with an ObjectView
// over it (members in the order given, like any JSON object), and a naive reference of
// CONTRACT §2 written from the contract's text (alias table as strings, linear lookups,
// numbers as digit strings), independent of the core's planning, classify_key and Decimal.
// Used by test/unit/entry_rules_test.cpp and test/fuzz/fuzz_entry_rules.cpp.
#pragma once

#include "core/decimal.hpp"
#include "core/entry_rules.hpp"
#include "core/error.hpp"
#include "core/number.hpp"
#include "core/object_view.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace entry_model {

using ducache::core::ValueKind;

struct Value;
using Members = std::vector<std::pair<std::string, Value>>;

// One JSON value. Numbers keep their literal text ("NaN" stands for a non-finite numeric,
// which JSONB cannot hold but a corrupt value could).
struct Value {
    ValueKind kind = ValueKind::null;
    std::string text;                  // number literal, string bytes
    std::shared_ptr<Members> members;  // object members (arrays hold none: only kind matters)

    static Value null() { return {}; }
    static Value num(std::string t) { return {ValueKind::number, std::move(t), nullptr}; }
    static Value str(std::string t) { return {ValueKind::string, std::move(t), nullptr}; }
    static Value boolean() { return {ValueKind::boolean, "", nullptr}; }
    static Value array() { return {ValueKind::array, "", nullptr}; }
    static Value object(Members m) { return {ValueKind::object, "", std::make_shared<Members>(std::move(m))}; }
};

// The ObjectView of core/object_view.hpp over Members.
class TreeView {
public:
    explicit TreeView(const Members &m) : m_(&m) {}
    uint32_t size() const { return uint32_t(m_->size()); }
    std::string_view key(uint32_t i) const { return (*m_)[i].first; }
    bool is_null(uint32_t i) const { return at(i).kind == ValueKind::null; }
    ValueKind kind(uint32_t i) const { return at(i).kind; }
    bool number(uint32_t i, ducache::core::Decimal &out) const
    {
        if (at(i).text == "NaN")
            return false;
        return ducache::core::parse_json_number(at(i).text, out);
    }
    // The fast path of a real view: plain short integers only, fractions only when obvious.
    ducache::core::CountFast count(uint32_t i, int64_t &out) const
    {
        const std::string &t = at(i).text;
        size_t start = !t.empty() && t[0] == '-' ? 1 : 0;
        if (t.size() > start && t.size() - start <= 15 && t.find_first_not_of("0123456789", start) == std::string::npos &&
            (t[start] != '0' || t.size() == start + 1)) {
            out = std::stoll(t);
            return ducache::core::CountFast::ok;
        }
        if (t.find_first_of("eE") == std::string::npos && t.find('.') != std::string::npos &&
            t.back() >= '1' && t.back() <= '9')
            return ducache::core::CountFast::fractional;
        return ducache::core::CountFast::slow;
    }
    std::string_view text(uint32_t i) const { return at(i).text; }
    TreeView object(uint32_t i) const { return TreeView(*at(i).members); }

private:
    const Value &at(uint32_t i) const { return (*m_)[i].second; }
    const Members *m_;
};

// Reads an entry with the core's rules, planning every object afresh.
inline void core_read(const Members &entry, const ducache::core::EntrySite &site, bool identity,
                      ducache::core::EntryValues &out)
{
    ducache::core::EntryPlan plans[2];
    ducache::core::read_entry_values(
        TreeView(entry),
        [&](const TreeView &v, bool nested) -> const ducache::core::EntryPlan & {
            ducache::core::plan_entry(v, plans[nested]);
            return plans[nested];
        },
        site, identity, out);
}

// ---- the naive reference -------------------------------------------------------------

// CONTRACT §2, in the contract's order of metrics (requests, total_tokens, prompt_tokens,
// completion_tokens, successful_requests, failed_requests, cost: the core's Metric order).
inline const std::vector<std::vector<std::string>> &aliases()
{
    static const std::vector<std::vector<std::string>> table = {
        {"totalRequests", "api_requests", "requests"},
        {"totalTokens", "total_tokens", "tokens"},
        {"promptTokens", "prompt_tokens"},
        {"completionTokens", "completion_tokens"},
        {"successfulRequests", "successful_requests"},
        {"failedRequests", "failed_requests"},
        {"totalCost", "spend", "cost"},
    };
    return table;
}

inline const Value *find(const Members &m, const std::string &name)
{
    for (const auto &kv : m)
        if (kv.first == name)
            return &kv.second;
    return nullptr;
}

// A JSON number literal as sign, significant digits and a power of ten, plus numeric's
// display scale. nullopt: not a literal.
struct Parsed {
    bool negative = false;
    std::string digits;  // no leading zeros; "" for zero
    long long exp10 = 0;   // value = digits * 10^exp10
    long long dscale = 0;
};

inline std::optional<Parsed> parse_literal(const std::string &t)
{
    size_t i = 0;
    Parsed p;
    if (i < t.size() && t[i] == '-')
        p.negative = true, i++;
    size_t int_start = i;
    while (i < t.size() && isdigit((unsigned char)t[i]))
        i++;
    std::string int_part = t.substr(int_start, i - int_start);
    if (int_part.empty() || (int_part.size() > 1 && int_part[0] == '0'))
        return std::nullopt;
    std::string frac;
    if (i < t.size() && t[i] == '.') {
        size_t s = ++i;
        while (i < t.size() && isdigit((unsigned char)t[i]))
            i++;
        frac = t.substr(s, i - s);
        if (frac.empty())
            return std::nullopt;
    }
    long long e = 0;
    if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < t.size() && (t[i] == '+' || t[i] == '-'))
            eneg = t[i++] == '-';
        size_t s = i;
        while (i < t.size() && isdigit((unsigned char)t[i])) {
            if (e < 1000000000)
                e = e * 10 + (t[i] - '0');
            i++;
        }
        if (i == s)
            return std::nullopt;
        if (eneg)
            e = -e;
    }
    if (i != t.size())
        return std::nullopt;
    p.dscale = std::max(0LL, (long long)frac.size() - e);
    std::string all = int_part + frac;
    size_t nz = all.find_first_not_of('0');
    p.digits = nz == std::string::npos ? "" : all.substr(nz);
    p.exp10 = e - (long long)frac.size();
    // Trailing zeros of the digits move into the exponent.
    while (!p.digits.empty() && p.digits.back() == '0')
        p.digits.pop_back(), p.exp10++;
    return p;
}

// numeric's range: at most 131072 digits before the point and 16383 after (zero always fits).
inline bool in_numeric_range(const Parsed &p)
{
    if (p.digits.empty())
        return true;
    long long int_digits = (long long)p.digits.size() + p.exp10;
    return int_digits <= 131072 && p.dscale <= 16383;
}

// Plain text with exactly dscale fractional digits (the value has no more than that).
inline std::string plain(const Parsed &p)
{
    long long dscale = std::min(p.dscale, 16383LL);
    if (p.digits.empty())
        return dscale ? "0." + std::string(size_t(dscale), '0') : "0";
    // digits * 10^exp10 as an integer scaled by 10^dscale.
    std::string scaled = p.digits + std::string(size_t(p.exp10 + dscale), '0');
    if ((long long)scaled.size() <= dscale)
        scaled.insert(0, size_t(dscale - (long long)scaled.size() + 1), '0');
    if (dscale)
        scaled.insert(scaled.size() - size_t(dscale), 1, '.');
    return (p.negative ? "-" : "") + scaled;
}

// What reading an entry must give: values, or an error.
struct Expected {
    bool error = false;
    std::string sqlstate, field, problem;  // for a bad value
    bool numeric_overflow = false;          // parse_json_number's own 22003 (message not compared)
    int64_t counts[6] = {};
    bool cost_seen = false;
    std::string cost;  // plain text with its display scale
    std::string username, email, role;
};

inline const char *kind_name(ValueKind k)
{
    switch (k) {
    case ValueKind::null: return "null";
    case ValueKind::boolean: return "a boolean";
    case ValueKind::number: return "a number";
    case ValueKind::string: return "a string";
    case ValueKind::object: return "an object";
    case ValueKind::array: return "an array";
    }
    return "?";
}

inline Expected reference(const Members &entry, bool identity)
{
    Expected x;
    auto fail = [&](std::string state, std::string field, std::string problem) {
        x.error = true;
        x.sqlstate = std::move(state);
        x.field = std::move(field);
        x.problem = std::move(problem);
        return x;
    };
    if (identity) {
        for (auto [name, dst] : {std::pair{"username", &x.username}, {"email", &x.email}, {"role", &x.role}}) {
            const Value *v = find(entry, name);
            if (v && v->kind == ValueKind::string)
                *dst = v->text;
        }
    }
    const Members *src = &entry;
    if (const Value *m = find(entry, "metrics"); m && m->kind != ValueKind::null) {
        if (m->kind != ValueKind::object)
            return fail("22023", "metrics", std::string(kind_name(m->kind)) + " is not an object");
        src = m->members.get();
    }
    for (size_t metric = 0; metric < 7; metric++) {
        const Value *v = nullptr;
        std::string field;
        for (const std::string &a : aliases()[metric])
            if (const Value *c = find(*src, a); c && c->kind != ValueKind::null) {
                v = c;
                field = a;
                break;
            }
        if (!v)
            continue;
        std::optional<Parsed> p;
        if (v->kind == ValueKind::number) {
            if (v->text == "NaN")
                return fail("22023", field, "the value is not a finite number");
            p = parse_literal(v->text);
        } else if (v->kind == ValueKind::string) {
            p = parse_literal(v->text);
            if (!p) {
                std::string shown = v->text.substr(0, 200) + (v->text.size() > 200 ? "..." : "");
                return fail("22P02", field, "the string \"" + shown + "\" is not a number");
            }
        } else {
            return fail("22023", field, std::string(kind_name(v->kind)) + " is not a number");
        }
        if (!in_numeric_range(*p)) {
            x.error = x.numeric_overflow = true;
            x.sqlstate = "22003";
            return x;
        }
        if (metric == 6) {
            x.cost_seen = true;
            x.cost = plain(*p);
            continue;
        }
        if (p->digits.empty())
            continue;  // zero
        if (p->exp10 < 0)
            return fail("22023", field, "a count must be a whole number");
        std::string whole = p->digits + std::string(size_t(std::min(p->exp10, 100LL)), '0');
        std::string limit = p->negative ? "9223372036854775808" : "9223372036854775807";
        if (whole.size() > limit.size() || (whole.size() == limit.size() && whole > limit))
            return fail("22003", field, "the count is out of range for type bigint");
        unsigned long long mag = std::stoull(whole);
        x.counts[metric] = p->negative ? int64_t(0 - mag) : int64_t(mag);
    }
    return x;
}

}  // namespace entry_model
