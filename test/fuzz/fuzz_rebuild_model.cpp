// libFuzzer target: the rebuild model against the naive reference of test/unit. The bytes
// describe one day (models, their keys, counts near and past the bigint edge, costs of any
// scale) and a key -> user mapping; whatever they say, the model's tree equals the reference
// or both refuse the day with 22003.
#include "../unit/rebuild_reference.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <set>

namespace {

struct Reader {
    const uint8_t *p;
    size_t left;
    uint8_t byte() { return left ? (left--, *p++) : 0; }
    int64_t count()
    {
        switch (byte() % 8) {
        case 0: return INT64_MAX - byte();
        case 1: return INT64_MIN + byte();
        case 2: return -int64_t(byte());
        default: return byte();
        }
    }
    // A plain JSON number literal, or "" (no cost).
    std::string cost()
    {
        uint8_t shape = byte();
        if (shape % 4 == 0)
            return "";
        std::string s = shape & 4 ? "-" : "";
        size_t int_digits = 1 + byte() % 24, frac_digits = byte() % 40;
        s.push_back(char('1' + byte() % 9));
        for (size_t i = 1; i < int_digits; i++)
            s.push_back(char('0' + byte() % 10));
        if (frac_digits) {
            s.push_back('.');
            for (size_t i = 0; i < frac_digits; i++)
                s.push_back(char('0' + byte() % 10));
        }
        return s;
    }
    rebuild_ref::Entry entry()
    {
        rebuild_ref::Entry e;
        for (int m = 0; m < ducache::core::kCountMetrics; m++)
            e.counts[m] = byte() & 1 ? count() : 0;
        e.cost = cost();
        return e;
    }
};

// Short names from a small alphabet, so that models, hashes and users collide often.
std::string name(Reader &in, const char *prefix)
{
    static const char kChars[] = "ab\xc3\xa9 \"";
    std::string s = prefix;
    size_t n = in.byte() % 3;
    for (size_t i = 0; i < n; i++)
        s.push_back(kChars[in.byte() % (sizeof kChars - 1)]);
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Reader in{data, size};
    std::map<std::string, std::string> mapping;
    for (int n = in.byte() % 8; n > 0; n--)
        mapping.emplace(name(in, "k"), name(in, "u"));
    std::vector<rebuild_ref::ModelIn> day;
    std::set<std::string> models;
    for (int n = in.byte() % 6; n > 0 && in.left; n--) {
        rebuild_ref::ModelIn m{name(in, "m"), in.entry(), {}};
        if (!models.insert(m.name).second)
            continue;  // JSON object keys are unique
        std::set<std::string> hashes;
        for (int k = in.byte() % 10; k > 0 && in.left; k--) {
            rebuild_ref::KeyIn key{in.byte() % 8 == 0 ? "" : name(in, "k"), in.entry()};
            if (hashes.insert(key.hash).second)
                m.keys.push_back(key);
        }
        day.push_back(m);
    }
    std::string diff = rebuild_ref::check(day, mapping);
    if (!diff.empty()) {
        fprintf(stderr, "rebuild model differs from the reference: %s\n", diff.c_str());
        abort();
    }
    return 0;
}
