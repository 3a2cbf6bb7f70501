#include "core/decimal.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cstdio>

namespace ducache::core {

namespace {

constexpr uint32_t kBase = 1000000000u;

// 10^0 .. 10^38 fit a signed 128-bit value; sums stay at or below scale 36 for headroom.
struct Pow10Table {
    __int128 p[39];
    constexpr Pow10Table() : p()
    {
        p[0] = 1;
        for (int i = 1; i < 39; i++)
            p[i] = p[i - 1] * 10;
    }
};
constexpr Pow10Table kPow10;


// v *= 10^n, false on overflow. The sum's scale rarely changes, so the common n == 0 costs a
// compare; a 128-bit checked multiply is a library call.
bool mul_pow10(__int128 &v, int n)
{
    if (n == 0 || v == 0)
        return true;
    if (n > 38)
        return false;
    return !__builtin_mul_overflow(v, kPow10.p[n], &v);
}

std::string int128_digits(unsigned __int128 v)
{
    if (v == 0)
        return "0";
    char buf[48];
    int i = 0;
    // 64-bit divisions while the rest fits (a 128-bit one is a library call per digit).
    for (; v > UINT64_MAX; v /= 10)
        buf[i++] = char('0' + int(v % 10));
    for (uint64_t w = uint64_t(v); w; w /= 10)
        buf[i++] = char('0' + int(w % 10));
    std::string s(buf, i);
    std::reverse(s.begin(), s.end());
    return s;
}

// Formats sign + integer digits with `scale` fractional digits as text with exactly dscale.
std::string format_scaled(bool negative, std::string digits, int scale, int dscale)
{
    if (int(digits.size()) <= scale)
        digits.insert(0, size_t(scale - int(digits.size()) + 1), '0');
    std::string ip = digits.substr(0, digits.size() - size_t(scale));
    std::string fp = digits.substr(digits.size() - size_t(scale));
    if (int(fp.size()) > dscale)
        fp.resize(size_t(dscale));  // only zeros lie beyond dscale
    else
        fp.append(size_t(dscale - int(fp.size())), '0');
    bool zero = std::all_of(ip.begin(), ip.end(), [](char c) { return c == '0'; }) &&
                std::all_of(fp.begin(), fp.end(), [](char c) { return c == '0'; });
    std::string out = (negative && !zero) ? "-" : "";
    out += ip;
    if (dscale > 0) {
        out += '.';
        out += fp;
    }
    return out;
}

}  // namespace

__int128 pow10_128(int n)
{
    return kPow10.p[n];
}

// ---- BigDecimal ----

BigDecimal BigDecimal::from_int128(__int128 v, int scale, std::pmr::memory_resource *mr)
{
    BigDecimal b(mr);
    b.negative_ = v < 0;
    unsigned __int128 m = v < 0 ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
    while (m) {
        b.limbs_.push_back(uint32_t(m % kBase));
        m /= kBase;
    }
    b.scale_ = scale;
    return b;
}

BigDecimal BigDecimal::from_plain(const std::string &text, std::pmr::memory_resource *mr)
{
    // Base-1e9 limbs are groups of nine decimal digits counted from the right, so the text maps
    // onto them directly: linear in its length (values can have 100,000+ digits).
    BigDecimal b(mr);
    size_t i = 0;
    if (i < text.size() && text[i] == '-') {
        b.negative_ = true;
        i++;
    }
    std::string digits;
    digits.reserve(text.size());
    int scale = 0;
    bool after_point = false;
    for (; i < text.size(); i++) {
        char c = text[i];
        if (c == '.') {
            after_point = true;
            continue;
        }
        digits.push_back(c);
        if (after_point)
            scale++;
    }
    b.limbs_.reserve(digits.size() / 9 + 1);
    for (size_t end = digits.size(); end > 0;) {
        size_t start = end >= 9 ? end - 9 : 0;
        uint32_t limb = 0;
        for (size_t j = start; j < end; j++)
            limb = limb * 10 + uint32_t(digits[j] - '0');
        b.limbs_.push_back(limb);
        end = start;
    }
    b.scale_ = scale;
    b.trim();
    return b;
}

void BigDecimal::mul_small(uint32_t m)
{
    uint64_t carry = 0;
    for (auto &l : limbs_) {
        uint64_t x = uint64_t(l) * m + carry;
        l = uint32_t(x % kBase);
        carry = x / kBase;
    }
    while (carry) {
        limbs_.push_back(uint32_t(carry % kBase));
        carry /= kBase;
    }
}

void BigDecimal::add_small(uint32_t a)
{
    uint64_t carry = a;
    for (size_t i = 0; carry && i < limbs_.size(); i++) {
        uint64_t x = uint64_t(limbs_[i]) + carry;
        limbs_[i] = uint32_t(x % kBase);
        carry = x / kBase;
    }
    if (carry)
        limbs_.push_back(uint32_t(carry));
}

void BigDecimal::trim()
{
    while (!limbs_.empty() && limbs_.back() == 0)
        limbs_.pop_back();
    if (limbs_.empty())
        negative_ = false;
}

void BigDecimal::rescale(int scale)
{
    if (scale <= scale_)
        return;
    // Times 10^k: whole limbs of nine zeros slide in at the low end, then one small multiply.
    int k = scale - scale_;
    if (!limbs_.empty()) {
        static const uint32_t p10[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
        if (k % 9)
            mul_small(p10[k % 9]);
        limbs_.insert(limbs_.begin(), size_t(k / 9), 0u);
    }
    scale_ = scale;
}

int BigDecimal::compare_magnitude(const BigDecimal &o) const
{
    if (limbs_.size() != o.limbs_.size())
        return limbs_.size() < o.limbs_.size() ? -1 : 1;
    for (size_t i = limbs_.size(); i-- > 0;)
        if (limbs_[i] != o.limbs_[i])
            return limbs_[i] < o.limbs_[i] ? -1 : 1;
    return 0;
}

void BigDecimal::add(const BigDecimal &other_in)
{
    BigDecimal other(other_in.limbs_.get_allocator().resource());
    other = other_in;
    int scale = std::max(scale_, other.scale_);
    rescale(scale);
    other.rescale(scale);
    if (negative_ == other.negative_) {
        uint64_t carry = 0;
        if (limbs_.size() < other.limbs_.size())
            limbs_.resize(other.limbs_.size(), 0);
        for (size_t i = 0; i < limbs_.size(); i++) {
            uint64_t x = uint64_t(limbs_[i]) + (i < other.limbs_.size() ? other.limbs_[i] : 0) + carry;
            limbs_[i] = uint32_t(x % kBase);
            carry = x / kBase;
        }
        if (carry)
            limbs_.push_back(uint32_t(carry));
    } else {
        // Subtract the smaller magnitude from the larger; the sign follows the larger.
        const BigDecimal *big = this, *small = &other;
        if (compare_magnitude(other) < 0)
            std::swap(big, small);
        std::pmr::vector<uint32_t> r(big->limbs_, limbs_.get_allocator());
        int64_t borrow = 0;
        for (size_t i = 0; i < r.size(); i++) {
            int64_t x = int64_t(r[i]) - (i < small->limbs_.size() ? small->limbs_[i] : 0) - borrow;
            borrow = x < 0;
            if (x < 0)
                x += kBase;
            r[i] = uint32_t(x);
        }
        bool neg = big->negative_;
        limbs_ = std::move(r);
        negative_ = neg;
    }
    trim();
}

int BigDecimal::compare(const BigDecimal &other_in) const
{
    BigDecimal a(limbs_.get_allocator().resource()), b(limbs_.get_allocator().resource());
    a = *this;
    b = other_in;
    int scale = std::max(a.scale_, b.scale_);
    a.rescale(scale);
    b.rescale(scale);
    if (a.is_zero() && b.is_zero())
        return 0;
    if (a.negative_ != b.negative_)
        return a.negative_ ? -1 : 1;
    int m = a.compare_magnitude(b);
    return a.negative_ ? -m : m;
}

bool BigDecimal::is_zero() const
{
    return limbs_.empty();
}

std::string BigDecimal::to_string(int dscale) const
{
    std::string digits;
    if (limbs_.empty())
        digits = "0";
    else {
        digits = std::to_string(limbs_.back());
        char buf[16];
        for (size_t i = limbs_.size() - 1; i-- > 0;) {
            std::snprintf(buf, sizeof buf, "%09u", limbs_[i]);
            digits += buf;
        }
    }
    return format_scaled(negative_, digits, scale_, dscale);
}

int BigDecimal::integer_digits() const
{
    std::string s = to_string(0);
    size_t n = s.size() - (s[0] == '-' ? 1 : 0);
    return (s == "0" || s == "-0") ? 0 : int(n);
}

BigDecimal::IntStatus BigDecimal::to_int64(int64_t &out) const
{
    std::string full = to_string(scale_);
    size_t point = full.find('.');
    if (point != std::string::npos &&
        full.find_first_not_of('0', point + 1) != std::string::npos)
        return IntStatus::fractional;
    std::string ip = full.substr(0, point);
    bool neg = !ip.empty() && ip[0] == '-';
    std::string mag = neg ? ip.substr(1) : ip;
    if (mag.size() > 19)
        return IntStatus::out_of_range;
    unsigned __int128 v = 0;
    for (char c : mag)
        v = v * 10 + unsigned(c - '0');
    if ((!neg && v > (unsigned __int128)INT64_MAX) || (neg && v > (unsigned __int128)INT64_MAX + 1))
        return IntStatus::out_of_range;
    out = neg ? int64_t(-(__int128)v) : int64_t(v);
    return IntStatus::ok;
}

// ---- Decimal ----

Decimal::IntStatus Decimal::to_int64(int64_t &out) const
{
    if (big) {
        auto st = BigDecimal::from_plain(big_text, std::pmr::get_default_resource()).to_int64(out);
        return st == BigDecimal::IntStatus::ok         ? IntStatus::ok
               : st == BigDecimal::IntStatus::fractional ? IntStatus::fractional
                                                         : IntStatus::out_of_range;
    }
    __int128 p = pow10_128(scale);
    __int128 q = mantissa / p;
    if (q * p != mantissa)
        return IntStatus::fractional;
    if (q > INT64_MAX || q < INT64_MIN)
        return IntStatus::out_of_range;
    out = int64_t(q);
    return IntStatus::ok;
}

// ---- DecimalSum ----

void DecimalSum::add_general(const Decimal &v)
{
    if (v.dscale > dscale_)
        dscale_ = v.dscale;
    if (v.big)
        add_big(BigDecimal::from_plain(v.big_text, big_.resource()));
    else
        add_fast(v.mantissa, v.scale);
}

void DecimalSum::add_fast(__int128 m, int scale)
{
    if (!is_big_) {
        // The common case: every cost of a column has the same scale.
        if (scale == scale_) {
            __int128 sum;
            if (!__builtin_add_overflow(acc_, m, &sum)) {
                acc_ = sum;
                return;
            }
            add_big(BigDecimal::from_int128(m, scale, big_.resource()));
            return;
        }
        __int128 a = acc_, b = m;
        int s = std::max(scale_, scale);
        if (mul_pow10(a, s - scale_) && mul_pow10(b, s - scale) && s <= kMaxFastScale &&
            !__builtin_add_overflow(a, b, &a)) {
            acc_ = a;
            scale_ = s;
            return;
        }
    }
    add_big(BigDecimal::from_int128(m, scale, big_.resource()));
}

void DecimalSum::add_scaled_general(int64_t m, int scale, int dscale)
{
    if (dscale > dscale_)
        dscale_ = dscale;
    add_fast(m, scale);
}

void DecimalSum::add_big(const BigDecimal &v)
{
    if (!is_big_) {
        big_ = BigDecimal::from_int128(acc_, scale_, big_.resource());
        is_big_ = true;
    }
    big_.add(v);
    if (big_.integer_digits() > kMaxIntDigits)
        throw Error("22003", "value overflows numeric format",
                    "A sum of costs has more than 131072 digits before the decimal point.");
}

void DecimalSum::add(const DecimalSum &other)
{
    if (other.dscale_ > dscale_)
        dscale_ = other.dscale_;
    if (other.is_big_)
        add_big(other.big_);
    else
        add_fast(other.acc_, other.scale_);
}

bool DecimalSum::is_zero() const
{
    return is_big_ ? big_.is_zero() : acc_ == 0;
}

BigDecimal DecimalSum::as_big() const
{
    return is_big_ ? big_ : BigDecimal::from_int128(acc_, scale_, big_.resource());
}

std::string DecimalSum::to_string() const
{
    if (is_big_)
        return big_.to_string(dscale_);
    bool neg = acc_ < 0;
    unsigned __int128 mag = neg ? (unsigned __int128)(-(acc_ + 1)) + 1 : (unsigned __int128)acc_;
    return format_scaled(neg, int128_digits(mag), scale_, dscale_);
}

int DecimalSum::compare_general(const DecimalSum &other) const
{
    if (!is_big_ && !other.is_big_) {
        __int128 a = acc_, b = other.acc_;
        int s = std::max(scale_, other.scale_);
        if (mul_pow10(a, s - scale_) && mul_pow10(b, s - other.scale_))
            return a < b ? -1 : a > b ? 1 : 0;
    }
    return as_big().compare(other.as_big());
}

}  // namespace ducache::core
