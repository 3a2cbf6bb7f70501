#include "core/shard_partial.hpp"

#include "core/count_sum.hpp"
#include "core/error.hpp"
#include "core/filters.hpp"
#include "core/number.hpp"

#include <algorithm>
#include <cstring>

namespace ducache::core {

namespace {

constexpr char kMagic[4] = {'D', 'U', 'S', 'P'};
constexpr uint8_t kRow = 1, kField = 2, kUsers = 4;
// Day offsets are below 2^31: words past this never hold a day.
constexpr uint64_t kMaxWords = (uint64_t(1) << 31) / 64;

template <typename T>
void put(std::string &out, T v)
{
    // Little-endian on the wire whatever the host.
    for (size_t b = 0; b < sizeof v; b++)
        out.push_back(char(uint64_t(v) >> (8 * b) & 0xff));
}

void put_bytes(std::string &out, std::string_view s)
{
    put<uint32_t>(out, uint32_t(s.size()));
    out.append(s.data(), s.size());
}

class Reader {
public:
    Reader(const char *p, size_t n, int part) : base_(p), p_(p), left_(n), part_(part) {}
    template <typename T>
    T get(const char *what)
    {
        need(sizeof(T), what);
        uint64_t v = 0;
        for (size_t b = 0; b < sizeof(T); b++)
            v |= uint64_t(uint8_t(p_[b])) << (8 * b);
        p_ += sizeof(T);
        left_ -= sizeof(T);
        return T(v);
    }
    std::string_view bytes(const char *what)
    {
        uint32_t n = get<uint32_t>(what);
        need(n, what);
        std::string_view s(p_, n);
        p_ += n;
        left_ -= n;
        return s;
    }
    void need(uint64_t n, const char *what)
    {
        if (n > left_)
            fail(std::string("the buffer ends inside ") + what);
    }
    size_t left() const { return left_; }
    [[noreturn]] void fail(const std::string &why) const
    {
        throw Error("22P03", "invalid ducache shard partial",
                    "Partial " + std::to_string(part_) + ", byte " + std::to_string(p_ - base_) + ": " + why + ".",
                    "Every shard must run the coordinator's ducache version.");
    }

private:
    const char *base_, *p_;
    size_t left_;
    int part_;
};

// A sorted set's members: strictly increasing bytes (so duplicates are refused too).
template <typename F>
void read_set(Reader &r, const char *what, F &&add)
{
    uint32_t n = r.get<uint32_t>(what);
    r.need(uint64_t(n) * 4, what);  // each member has at least its length
    std::string_view prev;
    for (uint32_t k = 0; k < n; k++) {
        std::string_view s = r.bytes(what);
        if (k > 0 && !(prev < s))
            r.fail(std::string(what) + " are not strictly increasing");
        add(s);
        prev = s;
    }
}

void put_days(std::string &out, const DayBits &d)
{
    // Leading and trailing zero words are left out.
    size_t a = 0, b = d.words.size();
    while (a < b && d.words[a] == 0)
        a++;
    while (b > a && d.words[b - 1] == 0)
        b--;
    put<uint32_t>(out, uint32_t(a == b ? 0 : d.first + a));
    put<uint32_t>(out, uint32_t(b - a));
    for (size_t w = a; w < b; w++)
        put<uint64_t>(out, d.words[w]);
}

void read_days(Reader &r, DayBits &d, const std::string &whose)
{
    uint32_t first = r.get<uint32_t>("the days");
    uint32_t words = r.get<uint32_t>("the days");
    if (uint64_t(first) + words > kMaxWords)
        r.fail(whose + " has days past the largest day offset");
    r.need(uint64_t(words) * 8, "the days");
    for (uint32_t w = 0; w < words; w++)
        d.set_word(first + w, r.get<uint64_t>("the days"));
}

}  // namespace

void DayBits::set_word(uint32_t word, uint64_t bits)
{
    if (bits == 0)
        return;
    if (words.empty()) {
        first = word;
        words.push_back(bits);
        return;
    }
    if (word < first) {
        words.insert(words.begin(), first - word, 0);
        first = word;
    } else if (word - first >= words.size()) {
        words.resize(word - first + 1, 0);
    }
    words[word - first] |= bits;
}

void DayBits::add(int32_t base, uint32_t mask)
{
    // A day block is read as its month (pg/cache_scan.cpp): a block late in a month starts the
    // mask before the range; those days are not in it (DaySet::add's rule).
    if (base < 0) {
        mask = base <= -32 ? 0 : mask >> -base;
        base = 0;
    }
    if (mask == 0)
        return;
    uint32_t word = uint32_t(base) / 64;
    unsigned shift = unsigned(base) % 64;
    uint64_t m = mask;
    set_word(word, m << shift);
    if (shift > 32)
        set_word(word + 1, m >> (64 - shift));
}

void DayBits::merge(const DayBits &o)
{
    for (size_t i = 0; i < o.words.size(); i++)
        set_word(uint32_t(o.first + i), o.words[i]);
}

int32_t DayBits::count() const
{
    int32_t n = 0;
    for (uint64_t w : words)
        n += __builtin_popcountll(w);
    return n;
}

int32_t DayBits::last() const
{
    for (size_t i = words.size(); i-- > 0;)
        if (words[i])
            return int32_t((first + i) * 64 + 63 - __builtin_clzll(words[i]));
    return -1;
}

ShardPartial::ShardPartial(PartialKind kind, std::pmr::memory_resource *mr)
    : kind_(kind), mr_(mr), keys_(mr), extra_(mr), seen_(mr), buf_(mr), stamp_(mr), summary_(mr)
{
}

void ShardPartial::offer_top(std::string_view user, const DecimalSum &cost)
{
    Summary &m = summary_;
    if (m.has_top) {
        int c = cost.compare(m.top_cost);
        if (c < 0 || (c == 0 && !(user < m.top_user)))
            return;
    }
    m.has_top = true;
    m.top_user = keys_.store(user.data(), user.size());
    m.top_cost = cost;
}

void ShardPartial::add_totals(size_t i, const Totals &t)
{
    Slot &s = slot(i);
    const FixedLabel where("the shards' partials");
    add_counts_or_throw(s.totals.counts, t.counts, "the shards' partials", s.key_view(), where);
    s.totals.cost.add(t.cost);
    extra_[i].row = true;
}

size_t ShardPartial::index_of(std::string_view key)
{
    Slot &s = keys_.find_or_insert(key.data(), key.size());
    size_t i = size_t(&s - keys_.slots().data());
    while (extra_.size() <= i) {
        extra_.emplace_back(mr_);
        stamp_.push_back(0);
    }
    return i;
}

void ShardPartial::add_usage(size_t i, const EntryValues &v, int32_t base, std::string_view column,
                             std::string_view key, const RowLabel &where)
{
    slot(i).totals.add_or_throw(v.counts, v.cost_seen ? &v.cost : nullptr, column, key, where);
    extra_[i].row = true;
    extra_[i].days.add(base, v.days);
}

void ShardPartial::saw_field(size_t i, int32_t day, std::string_view provider)
{
    Extra &x = extra_[i];
    if (x.field_day > day || (x.field_day == day && x.field <= provider))
        return;
    x.field_day = day;
    if (x.field != provider)
        x.field = keys_.store(provider.data(), provider.size());
}

bool ShardPartial::first_pair(size_t i, char tag, std::string_view member)
{
    buf_.assign(reinterpret_cast<const char *>(&i), sizeof i);
    buf_.push_back(tag);
    buf_.append(member.data(), member.size());
    Slot &s = seen_.find_or_insert(buf_.data(), buf_.size());
    if (s.totals.active_days)
        return false;
    s.totals.active_days = 1;
    return true;
}

void ShardPartial::add_user(size_t i, std::string_view user)
{
    extra_[i].has_users = true;
    if (first_pair(i, 'u', user))
        extra_[i].users.push_back(keys_.store(user.data(), user.size()));
}

void ShardPartial::add_model(size_t i, std::string_view model)
{
    if (first_pair(i, 'm', model))
        extra_[i].models.push_back(keys_.store(model.data(), model.size()));
}

void ShardPartial::finish()
{
    for (size_t i = 0; i < extra_.size(); i++) {
        std::sort(extra_[i].users.begin(), extra_[i].users.end());
        std::sort(extra_[i].models.begin(), extra_[i].models.end());
        slot(i).totals.active_days = extra_[i].days.count();
    }
}

std::string ShardPartial::encode()
{
    finish();
    std::string out(kMagic, 4);
    put<uint8_t>(out, kShardPartialVersion);
    put<uint8_t>(out, uint8_t(kind_));
    put<uint16_t>(out, 0);
    put<uint32_t>(out, uint32_t(keys_.size()));
    for (size_t i = 0; i < keys_.size(); i++) {
        const Slot &s = slot(i);
        const Extra &x = extra_[i];
        put_bytes(out, s.key_view());
        put<uint8_t>(out, uint8_t((x.row ? kRow : 0) | (x.field_day >= 0 ? kField : 0) | (x.has_users ? kUsers : 0)));
        if (x.row) {
            for (int m = 0; m < kCountMetrics; m++)
                put<int64_t>(out, s.totals.counts[m]);
            put_bytes(out, s.totals.cost.to_string());
            put_days(out, x.days);
        }
        if (x.field_day >= 0) {
            put<int32_t>(out, x.field_day);
            put_bytes(out, x.field);
        }
        put<uint32_t>(out, uint32_t(x.users.size()));
        for (std::string_view u : x.users)
            put_bytes(out, u);
        put<uint32_t>(out, uint32_t(x.models.size()));
        for (std::string_view m : x.models)
            put_bytes(out, m);
    }
    if (kind_ == PartialKind::summary) {
        const Summary &m = summary_;
        put<int64_t>(out, m.active_users);
        for (int c = 0; c < kCountMetrics; c++)
            put<int64_t>(out, m.all.counts[c]);
        put_bytes(out, m.all.cost.to_string());
        put_days(out, m.cached);
        put<uint8_t>(out, m.has_top ? 1 : 0);
        if (m.has_top) {
            put_bytes(out, m.top_user);
            put_bytes(out, m.top_cost.to_string());
        }
    }
    return out;
}

void ShardPartial::merge_encoded(const char *data, size_t len, int part)
{
    Reader r(data, len, part);
    r.need(4, "the header");
    if (std::memcmp(data, kMagic, 4) != 0)
        r.fail("it does not start with the ducache shard partial mark");
    r.get<uint32_t>("the header");
    uint8_t version = r.get<uint8_t>("the header");
    if (version != kShardPartialVersion)
        r.fail("version " + std::to_string(version) + " is not the supported version " +
               std::to_string(kShardPartialVersion));
    uint8_t kind = r.get<uint8_t>("the header");
    if (kind != uint8_t(kind_))
        r.fail("kind " + std::to_string(kind) + " where kind " + std::to_string(uint8_t(kind_)) + " was asked for");
    if (r.get<uint16_t>("the header") != 0)
        r.fail("the reserved header bytes are not zero");
    uint32_t n = r.get<uint32_t>("the key count");
    // Each key takes at least 4 + 1 + 4 + 4 bytes.
    r.need(uint64_t(n) * 13, "the keys");
    const FixedLabel where("the shards' partials");
    Decimal cost;
    EntryValues v{};
    for (uint32_t k = 0; k < n; k++) {
        std::string_view key = r.bytes("a key");
        uint8_t flags = r.get<uint8_t>("a key's flags");
        if (flags & ~(kRow | kField | kUsers))
            r.fail("key " + std::to_string(k) + " has unknown flags " + std::to_string(flags));
        size_t i = index_of(key);
        if (stamp_[i] == part + 1)
            r.fail("key " + std::to_string(k) + " repeats an earlier key");
        stamp_[i] = part + 1;
        Extra &x = extra_[i];
        if (flags & kRow) {
            for (int m = 0; m < kCountMetrics; m++)
                v.counts[m] = r.get<int64_t>("a key's counts");
            std::string_view cost_text = r.bytes("a key's cost");
            if (!parse_json_number(cost_text, cost))
                r.fail("key " + std::to_string(k) + " has a cost that is not a number");
            slot(i).totals.add_or_throw(v.counts, &cost, "the shards' partials", key, where);
            x.row = true;
            read_days(r, x.days, "key " + std::to_string(k));
        }
        if (flags & kField) {
            int32_t day = r.get<int32_t>("a key's provider field");
            std::string_view provider = r.bytes("a key's provider field");
            if (day < 0)
                r.fail("key " + std::to_string(k) + " has a negative provider field day");
            saw_field(i, day, provider);
        }
        if (flags & kUsers)
            x.has_users = true;
        read_set(r, "the users", [&](std::string_view u) {
            if (!(flags & kUsers))
                r.fail("key " + std::to_string(k) + " lists users without its users flag");
            add_user(i, u);
        });
        read_set(r, "the models", [&](std::string_view m) { add_model(i, m); });
    }
    if (kind_ == PartialKind::summary) {
        Summary &m = summary_;
        int64_t users = r.get<int64_t>("the summary");
        if (users < 0 || __builtin_add_overflow(m.active_users, users, &m.active_users))
            r.fail("the summary's active users are out of range");
        for (int c = 0; c < kCountMetrics; c++)
            v.counts[c] = r.get<int64_t>("the summary");
        if (!parse_json_number(r.bytes("the summary"), cost))
            r.fail("the summary's cost is not a number");
        m.all.add_or_throw(v.counts, &cost, "the shards' partials", "the period's totals", where);
        read_days(r, m.cached, "the summary");
        uint8_t has_top = r.get<uint8_t>("the summary");
        if (has_top > 1)
            r.fail("the summary's top user flag is " + std::to_string(has_top));
        if (has_top) {
            std::string_view user = r.bytes("the top user");
            DecimalSum top(mr_);
            if (!parse_json_number(r.bytes("the top user"), cost))
                r.fail("the top user's cost is not a number");
            top.add(cost);
            offer_top(user, top);
        }
    }
    if (r.left() != 0)
        r.fail(std::to_string(r.left()) + " bytes follow the " + (kind_ == PartialKind::summary ? "summary" : "last key"));
}

std::string_view ShardPartial::model_provider(size_t i) const
{
    const Extra &x = extra_[i];
    return x.field_day >= 0 ? x.field : provider_from_name(slot(i).key_view());
}

void ShardPartial::group_by_provider(ShardPartial &out) const
{
    const FixedLabel where("the sums by provider");
    for (size_t i = 0; i < keys_.size(); i++) {
        const Extra &x = extra_[i];
        if (!x.row)
            continue;
        const Slot &m = slot(i);
        size_t p = out.index_of(model_provider(i));
        Slot &ps = out.slot(p);
        add_counts_or_throw(ps.totals.counts, m.totals.counts, "the sums by provider", m.key_view(), where);
        ps.totals.cost.add(m.totals.cost);
        Extra &px = out.extra(p);
        px.row = true;
        px.days.merge(x.days);
        out.add_model(p, m.key_view());
        px.has_users = true;
        for (std::string_view u : x.users)
            out.add_user(p, u);
    }
    out.finish();
}

}  // namespace ducache::core
