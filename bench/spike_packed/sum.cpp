// Round 13 spike (docs/rollups.md "Round 13 (spike): a packed per-user column"): the cost of
// what a dashboard call would do with packed per-user columns instead of walking user_totals.
// Not part of the extension. Reads the packed rows (hex, one per line, as
// bench/spike_packed/export.sh writes them: "range|cmp <tab> users|pairs <tab> hex"), converts
// them to native little-endian arrays outside the measured function, then in work() (the only
// function counted: callgrind --toggle-collect='*work*'):
//   range rows: sum the 6 counts, the scaled cost and the top key bounds (~keycost, ~keymag) per
//     user; with pairs: sum requests, tokens and scaled cost per key pair, take the first pair
//     by cost;
//   comparison rows: sum the 6 counts and the cost per user, count users with requests != 0;
//   then the document's user facts: users with requests != 0, active users, the top user and
//   the top 5 users by cost (ties by dictionary id here; the real order is by user id bytes).
// Exact: each array's header carries its largest value; while the sum of the largest values of
// the rows summed so far fits in int64 the adds are plain (vectorized), else checked.
//   g++ -O2 -std=c++17 -o /tmp/spike_sum bench/spike_packed/sum.cpp
//   valgrind --tool=callgrind --toggle-collect='*work*' /tmp/spike_sum FILE [with-pairs]
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Array {
    int width = 8;
    int64_t max = 0;
    size_t n = 0;
    std::vector<unsigned char> bytes;  // native little-endian values of `width` bytes
};
struct Row {
    bool range = false, pairs = false;
    std::vector<Array> arrays;
};

int64_t be(const unsigned char *p, int w)
{
    uint64_t v = 0;
    for (int i = 0; i < w; i++)
        v = (v << 8) | p[i];
    if (w < 8 && (v >> (8 * w - 1)) & 1)
        v |= ~uint64_t(0) << (8 * w);  // sign-extend
    return int64_t(v);
}

Row parse(const std::string &kind, const std::string &what, const std::string &hex)
{
    std::vector<unsigned char> b(hex.size() / 2);
    for (size_t i = 0; i < b.size(); i++)
        b[i] = (unsigned char)std::stoi(hex.substr(2 * i, 2), nullptr, 16);
    Row r;
    r.range = kind == "range";
    r.pairs = what == "pairs";
    int n = int(be(b.data(), 4));
    size_t at = 4;
    r.arrays.resize(size_t(n));
    size_t total_width = 0;
    for (int j = 0; j < n; j++) {
        r.arrays[size_t(j)].width = int(be(&b[at + 2], 2));
        r.arrays[size_t(j)].max = be(&b[at + 4], 8);
        total_width += size_t(r.arrays[size_t(j)].width);
        at += 12;
    }
    size_t entries = (b.size() - at) / total_width;
    for (Array &a : r.arrays) {
        a.n = entries;
        a.bytes.resize(entries * size_t(a.width));
        for (size_t i = 0; i < entries; i++) {
            int64_t v = be(&b[at + i * size_t(a.width)], a.width);
            std::memcpy(&a.bytes[i * size_t(a.width)], &v, size_t(a.width));  // little-endian host
        }
        at += entries * size_t(a.width);
    }
    return r;
}

template <class T>
void add_plain(int64_t *acc, const unsigned char *bytes, size_t n)
{
    const T *v = reinterpret_cast<const T *>(bytes);
    for (size_t i = 0; i < n; i++)
        acc[i] += v[i];
}
template <class T>
bool add_checked(int64_t *acc, const unsigned char *bytes, size_t n)
{
    const T *v = reinterpret_cast<const T *>(bytes);
    bool ok = true;
    for (size_t i = 0; i < n; i++)
        ok &= !__builtin_add_overflow(acc[i], int64_t(v[i]), &acc[i]);
    return ok;
}

struct Sums {
    std::vector<std::vector<int64_t>> acc;
    std::vector<int64_t> bound;  // the sum of the rows' largest values, per array (saturating)
    bool ok = true;
    void add(const Row &r, size_t arrays)
    {
        if (acc.size() < arrays)
            acc.resize(arrays), bound.resize(arrays, 0);
        for (size_t j = 0; j < arrays; j++) {
            const Array &a = r.arrays[j];
            if (acc[j].size() < a.n)
                acc[j].resize(a.n, 0);
            bool plain = !__builtin_add_overflow(bound[j], a.max < 0 ? -a.max : a.max, &bound[j]);
            int64_t *p = acc[j].data();
            if (plain) {
                switch (a.width) {
                case 2: add_plain<int16_t>(p, a.bytes.data(), a.n); break;
                case 4: add_plain<int32_t>(p, a.bytes.data(), a.n); break;
                default: add_plain<int64_t>(p, a.bytes.data(), a.n); break;
                }
            } else {
                bound[j] = INT64_MAX;
                switch (a.width) {
                case 2: ok &= add_checked<int16_t>(p, a.bytes.data(), a.n); break;
                case 4: ok &= add_checked<int32_t>(p, a.bytes.data(), a.n); break;
                default: ok &= add_checked<int64_t>(p, a.bytes.data(), a.n); break;
                }
            }
        }
    }
};

struct Result {
    int64_t users = 0, active = 0, prev_users = 0, top_user = -1, top_pair = -1;
    int64_t top5[5] = {-1, -1, -1, -1, -1};
    bool ok = true;
};

__attribute__((noinline)) Result work(const std::vector<Row> &rows)
{
    Sums range, cmp, pairs;
    for (const Row &r : rows) {
        if (r.pairs)
            pairs.add(r, 3);
        else if (r.range)
            range.add(r, 9);  // 6 counts, cost, ~keycost, ~keymag
        else
            cmp.add(r, 7);  // 6 counts, cost
    }
    Result out;
    out.ok = range.ok && cmp.ok && pairs.ok;
    const std::vector<int64_t> &req = range.acc[0], &cost = range.acc[6];
    std::vector<uint32_t> listed;
    listed.reserve(req.size());
    for (size_t i = 0; i < req.size(); i++)
        if (req[i] != 0)
            listed.push_back(uint32_t(i));
    out.users = int64_t(listed.size());
    for (uint32_t i : listed)
        out.active += req[i] > 0;
    auto by_cost = [&](uint32_t a, uint32_t b) { return cost[a] != cost[b] ? cost[a] > cost[b] : a < b; };
    size_t n_top = std::min<size_t>(5, listed.size());
    std::partial_sort(listed.begin(), listed.begin() + std::ptrdiff_t(n_top), listed.end(), by_cost);
    for (size_t i = 0; i < n_top; i++)
        out.top5[i] = listed[i];
    out.top_user = n_top ? listed[0] : -1;
    for (int64_t v : cmp.acc.empty() ? std::vector<int64_t>() : cmp.acc[0])
        out.prev_users += v != 0;
    if (!pairs.acc.empty()) {
        const std::vector<int64_t> &pc = pairs.acc[2];
        size_t best = 0;
        for (size_t i = 1; i < pc.size(); i++)
            if (pc[i] > pc[best])
                best = i;
        out.top_pair = int64_t(best);
    }
    return out;
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::cerr << "usage: spike_sum FILE [with-pairs]\n";
        return 2;
    }
    bool with_pairs = argc > 2 && std::string(argv[2]) == "with-pairs";
    std::ifstream in(argv[1]);
    std::string line;
    std::vector<Row> rows;
    size_t bytes = 0;
    while (std::getline(in, line)) {
        std::istringstream s(line);
        std::string kind, what, hex;
        std::getline(s, kind, '\t');
        std::getline(s, what, '\t');
        std::getline(s, hex, '\t');
        if (what == "pairs" && !with_pairs)
            continue;
        bytes += hex.size() / 2;
        rows.push_back(parse(kind, what, hex));
    }
    Result r = work(rows);
    std::printf("rows %zu, bytes %zu; ok %d users %lld active %lld prev_users %lld top user id %lld top pair id %lld; top5",
                rows.size(), bytes, int(r.ok), (long long)r.users, (long long)r.active, (long long)r.prev_users,
                (long long)r.top_user, (long long)r.top_pair);
    for (int64_t t : r.top5)
        std::printf(" %lld", (long long)t);
    std::printf("\n");
    return 0;
}
