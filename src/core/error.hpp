// Errors raised by the pure C++ core. The PostgreSQL adapter turns them into ERRORs with the
// same SQLSTATE, message, detail and hint, so the core decides the error class, not the glue.
#pragma once

#ifdef POSTGRES_H
#error "core is pure C++"
#endif

#include <cstring>
#include <exception>
#include <string>

namespace ducache::core {

class Error : public std::exception {
public:
    Error(const char *sqlstate, std::string message, std::string detail = {}, std::string hint = {})
        : message(std::move(message)), detail(std::move(detail)), hint(std::move(hint))
    {
        // Five characters or up to a shorter string's end (a loop: gcc's -Wstringop-truncation
        // flags strncpy of a five-character literal once inlined).
        size_t i = 0;
        for (; i < 5 && sqlstate[i] != '\0'; i++)
            this->sqlstate[i] = sqlstate[i];
        this->sqlstate[i] = '\0';
    }
    const char *what() const noexcept override { return message.c_str(); }

    char sqlstate[6];
    std::string message;
    std::string detail;
    std::string hint;
};

}  // namespace ducache::core
