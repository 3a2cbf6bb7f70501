// libFuzzer target: the alias table and the key aggregator against a naive reference.
// The bytes are read as a list of operations "add <number> as <field> to <key> at <position>";
// whatever they say, classify_key only ever recognises the contract's names, and every key's
// sums (bigint counts with overflow refusal, exact cost) equal a reference kept in plain
// std::map + BigDecimal, also after splitting the work over two aggregators and merging them.
#include "core/aggregator.hpp"
#include "core/decimal.hpp"
#include "core/error.hpp"
#include "core/metrics.hpp"
#include "core/number.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

using namespace ducache::core;

namespace {

// CONTRACT §2's names, plus near misses, so that most operations reach the aggregator.
const char *const kFields[] = {
    "totalRequests", "api_requests", "requests", "totalTokens", "total_tokens", "tokens",
    "promptTokens", "prompt_tokens", "completionTokens", "completion_tokens", "totalCost",
    "spend", "cost", "successfulRequests", "successful_requests", "failedRequests",
    "failed_requests", "metrics", "username", "email", "role", "Cost", "cost ", "request",
};
constexpr int kFieldCount = sizeof kFields / sizeof kFields[0];

struct Reader {
    const uint8_t *p;
    size_t left;
    uint8_t byte() { return left ? (left--, *p++) : 0; }
    std::string text(const char *alphabet, size_t alphabet_len, size_t max_len)
    {
        std::string out;
        size_t n = byte() % (max_len + 1);
        for (size_t i = 0; i < n && left; i++)
            out.push_back(alphabet[byte() % alphabet_len]);
        return out;
    }
};

struct Reference {
    __int128 counts[kCountMetrics] = {};
    BigDecimal cost;
    int dscale = 0;
    bool has_cost = false;
};

// Only the contract's spellings map to a metric, and to the right one.
void check_classify(std::string_view name)
{
    KeyClass c = classify_key(name.data(), name.size());
    if (c.kind != KeyKind::metric)
        return;
    static const struct { const char *name; Metric m; } table[] = {
        {"totalRequests", kRequests}, {"api_requests", kRequests}, {"requests", kRequests},
        {"totalTokens", kTotalTokens}, {"total_tokens", kTotalTokens}, {"tokens", kTotalTokens},
        {"promptTokens", kPromptTokens}, {"prompt_tokens", kPromptTokens},
        {"completionTokens", kCompletionTokens}, {"completion_tokens", kCompletionTokens},
        {"totalCost", kCost}, {"spend", kCost}, {"cost", kCost},
        {"successfulRequests", kSuccessfulRequests}, {"successful_requests", kSuccessfulRequests},
        {"failedRequests", kFailedRequests}, {"failed_requests", kFailedRequests},
    };
    for (const auto &t : table)
        if (name == t.name) {
            if (c.metric != t.m)
                abort();
            return;
        }
    abort();  // a metric that the contract does not name
}

// KeyAggregator::known_keys (round 14 of issue 13): the bytes read as a few key lists (objects)
// read in turns, each by known_keys' hints and remember_keys, by positions only, or stopped
// midway without remember_keys; every slot an entry gets is its key's (find()'s), and each key's
// count of entries equals a plain map's.
void check_known_keys(const uint8_t *data, size_t size, const char *key_chars, size_t key_chars_len)
{
    Reader in{data, size};
    std::vector<std::vector<std::string>> objects(size_t(in.byte() % 6 + 1));
    for (auto &o : objects) {
        size_t n = in.byte() % 12 + 1;
        for (size_t i = 0; i < n; i++)
            o.push_back(in.text(key_chars, key_chars_len, 4));
    }
    std::pmr::monotonic_buffer_resource arena;
    KeyAggregator agg(&arena);
    std::map<std::string, int64_t> ref;
    for (int turn = 0; turn < 24; turn++) {
        const std::vector<std::string> &o = objects[size_t(in.byte()) % objects.size()];
        const uint8_t mode = in.byte() % 4;  // 0-1: known or read and remembered; 2: positions only; 3: stopped
        std::vector<uint32_t> lengths;
        std::string bytes;
        for (const std::string &k : o) {
            lengths.push_back(uint32_t(k.size()));
            bytes += k;
        }
        const uint32_t n = uint32_t(o.size());
        const uint32_t *hints = mode == 2 ? nullptr
                                          : agg.known_keys(o[0].data(), o[0].size(), lengths.data(), lengths.size() * 4,
                                                           bytes.data(), bytes.size(), n);
        const uint32_t stop = mode == 3 ? n / 2 : n;
        for (uint32_t p = 0; p < stop; p++) {
            Slot &s = hints ? agg.slot_at(hints[p]) : agg.find_or_insert_at(o[p].data(), o[p].size(), p);
            if (s.key_view() != o[p] || &s != agg.find(o[p].data(), o[p].size()))
                abort();
            s.totals.counts[0]++;
            ref[o[p]]++;
        }
        if (mode < 2 && !hints)
            agg.remember_keys(lengths.data(), lengths.size() * 4, bytes.data(), bytes.size(), n);
    }
    for (const auto &[key, count] : ref)
        if (agg.find(key.data(), key.size())->totals.counts[0] != count)
            abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char kNumberChars[] = "0123456789.-eE+0123456789";
    static const char kKeyChars[] = "abcxyz-_.\xc3\xa9 \"\\";
    check_known_keys(data, size, kKeyChars, sizeof kKeyChars - 1);
    Reader in{data, size};
    std::pmr::monotonic_buffer_resource arena;
    KeyAggregator whole(&arena), left(&arena), right(&arena);
    std::map<std::string, Reference> ref;

    int ops = 0;
    while (in.left && ops++ < 256) {
        uint8_t field_pick = in.byte();
        std::string field = field_pick < 240 ? kFields[field_pick % kFieldCount]
                                             : in.text(kKeyChars, sizeof kKeyChars - 1, 20);
        check_classify(field);
        KeyClass c = classify_key(field.data(), field.size());
        std::string key = in.text(kKeyChars, sizeof kKeyChars - 1, 6);
        uint32_t position = in.byte();
        bool to_left = in.byte() & 1;
        std::string literal = in.text(kNumberChars, sizeof kNumberChars - 1, 24);
        if (c.kind != KeyKind::metric)
            continue;
        Decimal d;
        try {
            if (!parse_json_number(literal, d))
                continue;
        } catch (const Error &) {
            continue;  // beyond numeric's range: refused, as numeric_in would
        }
        int64_t counts[kCountMetrics] = {};
        const Decimal *cost = nullptr;
        if (c.metric == kCost) {
            cost = &d;
        } else if (d.to_int64(counts[c.metric]) != Decimal::IntStatus::ok) {
            continue;  // fractional or past bigint: an ERROR in the adapter
        }
        Reference &r = ref[key];
        __int128 next = r.counts[c.metric == kCost ? 0 : c.metric] + counts[c.metric == kCost ? 0 : c.metric];
        bool overflows = c.metric != kCost && (next > INT64_MAX || next < INT64_MIN);

        Slot &w = whole.find_or_insert_at(key.data(), key.size(), position);
        if (w.key_view() != key)
            abort();
        Metric bad = w.totals.add(counts, cost);
        if (overflows != (bad != kMetricCount))
            abort();
        if (overflows)
            continue;  // nothing was added anywhere
        Slot &half = (to_left ? left : right).find_or_insert(key.data(), key.size());
        if (half.totals.add(counts, cost) != kMetricCount) {
            // a half's partial sum can overflow where the whole does not: skip the comparison
            return 0;
        }
        if (c.metric == kCost) {
            DecimalSum one;
            one.add(d);
            BigDecimal v = BigDecimal::from_plain(one.to_string(), std::pmr::get_default_resource());
            r.cost.add(v);
            r.dscale = std::max(r.dscale, one.dscale());
            r.has_cost = true;
        } else {
            r.counts[c.metric] = next;
        }
    }

    try {
        left.merge(right);
    } catch (const Error &) {
        return 0;  // a merged count overflowed; the whole never saw that order of additions
    }
    if (whole.size() != ref.size() || left.size() != ref.size())
        abort();
    for (const auto &[key, r] : ref) {
        for (KeyAggregator *agg : {&whole, &left}) {
            const Slot *s = agg->find(key.data(), key.size());
            if (!s)
                abort();
            for (int m = 0; m < kCountMetrics; m++)
                if (s->totals.counts[m] != r.counts[m])
                    abort();
            std::string expect = r.has_cost ? r.cost.to_string(r.dscale) : "0";
            if (s->totals.cost.to_string() != expect)
                abort();
        }
    }
    // Ordering: cost DESC, then key in byte order.
    auto sorted = whole.sorted();
    for (size_t i = 1; i < sorted.size(); i++) {
        int c = sorted[i - 1]->totals.cost.compare(sorted[i]->totals.cost);
        if (c < 0 || (c == 0 && !(sorted[i - 1]->key_view() < sorted[i]->key_view())))
            abort();
    }
    return 0;
}
