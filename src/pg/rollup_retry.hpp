// A ducache error (core::Error) raised while rollup rows were being summed names a month where
// the days would name a day (e.g. a bigint overflow reached only when months are added up).
// CONTRACT §7 wants every answer, errors included, to be the days' own: such a call is run
// once more reading the days only, and that run's result or error is the answer.
#pragma once

#include "core/error.hpp"

#include "pg/cache_scan.hpp"
#include "pg/postgres.hpp"

namespace ducache::pg {

// While one of these lives, rollup_access() answers "days only".
class DaysOnly {
public:
    DaysOnly() { ++active_; }
    ~DaysOnly() { --active_; }
    DaysOnly(const DaysOnly &) = delete;
    DaysOnly &operator=(const DaysOnly &) = delete;
    static bool active() { return active_ > 0; }

private:
    static inline int active_ = 0;
};

// Runs body(); if it throws core::Error after reading any rollup row, runs it again on the days.
// body must start its result from scratch (e.g. call init_materialized_srf itself).
template <typename F>
Datum with_days_retry(F &&body)
{
    const uint64 before = CacheScan::rollup_rows_read();
    try {
        return body();
    } catch (const core::Error &) {
        if (CacheScan::rollup_rows_read() == before || DaysOnly::active())
            throw;
    }
    DaysOnly days_only;
    return body();
}

}  // namespace ducache::pg
