#include "core/error.hpp"
#include "core/filters.hpp"

#include "pg/boundary.hpp"
#include "pg/filter_args.hpp"

extern "C" {
#include "utils/array.h"
#include "utils/lsyscache.h"
}

#include <string>

namespace ducache::pg {

namespace {

struct Elements {
    Datum *values;
    bool *nulls;
    int count;
};

void read_list(FunctionCallInfo fcinfo, int arg, const char *name, core::FilterList &out)
{
    if (PG_NARGS() <= arg || PG_ARGISNULL(arg))
        return;
    Elements e = pg_call([&] {
        ArrayType *a = DatumGetArrayTypeP(PG_GETARG_DATUM(arg));
        Elements r{};
        deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &r.values, &r.nulls, &r.count);
        return r;
    });
    for (int i = 0; i < e.count; i++) {
        if (e.nulls[i])
            throw core::Error("22004", std::string("null element in the filter ") + name,
                              std::string(name) + " element " + std::to_string(i + 1) +
                                  " is NULL; a filter lists ids, and NULL or '{}' means no filter.");
        text *t = reinterpret_cast<text *>(pg_call([&] { return PointerGetDatum(PG_DETOAST_DATUM_PACKED(e.values[i])); }));
        out.add(std::string_view(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
    }
}

}  // namespace

void read_filter_args(FunctionCallInfo fcinfo, int first, core::Filters &out)
{
    read_list(fcinfo, first, "user_ids", out.users);
    read_list(fcinfo, first + 1, "model_ids", out.models);
    read_list(fcinfo, first + 2, "api_key_aliases", out.keys);
    out.seal();
}

}  // namespace ducache::pg
