#include "pg/date_text.hpp"

#include <cstdio>

namespace ducache::pg {

std::string date_text(DateADT d)
{
    if (DATE_NOT_FINITE(d))
        return DATE_IS_NOBEGIN(d) ? "-infinity" : "infinity";
    int y, m, day;
    j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
    char buf[32];
    snprintf(buf, sizeof buf, "%04d-%02d-%02d%s", y > 0 ? y : -(y - 1), m, day, y > 0 ? "" : " BC");
    return buf;
}

}  // namespace ducache::pg
