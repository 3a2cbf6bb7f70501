// The byte layer of the aggregate states that never leave one server (ducache_merge's state,
// the parallel user breakdown's partials): fixed-width values in the machine's byte order and
// u32-length-prefixed byte strings. The reader never reads past its buffer: a short buffer calls
// the state's own `corrupt` (which throws its 22P03). The coordinator's partials, which cross
// machines, use core/partial_wire.hpp (little-endian) instead.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ducache::core::state_bytes {

template <typename T>
void put(std::string &out, T v)
{
    out.append(reinterpret_cast<const char *>(&v), sizeof v);
}

inline void put_bytes(std::string &out, std::string_view s)
{
    put<uint32_t>(out, uint32_t(s.size()));
    out.append(s.data(), s.size());
}

class Reader {
public:
    using Corrupt = void (*)(const std::string &why);  // must throw
    Reader(const char *p, size_t n, Corrupt corrupt) : p_(p), left_(n), corrupt_(corrupt) {}
    template <typename T>
    T get()
    {
        need(sizeof(T));
        T v;
        std::memcpy(&v, p_, sizeof v);
        p_ += sizeof v;
        left_ -= sizeof v;
        return v;
    }
    std::string_view bytes()
    {
        uint32_t n = get<uint32_t>();
        need(n);
        std::string_view s(p_, n);
        p_ += n;
        left_ -= n;
        return s;
    }
    // n bytes at once, one bounds check for a fixed block of fields: their start.
    const char *take(size_t n)
    {
        need(n);
        const char *s = p_;
        p_ += n;
        left_ -= n;
        return s;
    }
    size_t left() const { return left_; }

private:
    void need(size_t n)
    {
        if (n > left_) {
            corrupt_("the buffer ends early");
            __builtin_unreachable();
        }
    }
    const char *p_;
    size_t left_;
    Corrupt corrupt_;
};

}  // namespace ducache::core::state_bytes
