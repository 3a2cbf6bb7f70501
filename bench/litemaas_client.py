#!/usr/bin/env python3
"""The "client way" of issue 11's dashboard benchmark: what LiteMaaS does today for
POST /analytics — one SELECT per calendar day of both periods (collectDateRangeData, one pooled
connection) and the aggregation in the client — timed wall-clock. The aggregation is the
reference of test/reference/litemaas_dashboard.py (Decimal sums: slower than LiteMaaS's float
sums, so report the fetch and the total separately).

  litemaas_client.py START END ['{"userIds":[..],"modelIds":[..],"apiKeyIds":[..]}'] [RUNS]

Uses psql from PATH with PGHOST/PGPORT/PGDATABASE (public.daily_usage_cache = the dataset, as
bench/run.py swaps it in). Prints "fetch_ms total_ms" medians.
The floor to compare ducache_dashboard with is bench/functions.sql's bench.floor over both
periods: bench.floor('aggregated_by_user', START - n, END) + bench.floor('aggregated_by_model',
START - n, END) (n = days in the range).
"""
import json, os, statistics, subprocess, sys, time
from datetime import date, timedelta
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "reference"))
from litemaas_dashboard import dashboard  # noqa: E402


def fetch(start, end):
    s, e = date.fromisoformat(start), date.fromisoformat(end)
    first = s - (e - s) - timedelta(days=1)
    stmts = "".join(
        "SELECT json_build_object('date', date, 'aggregated_by_user', aggregated_by_user, "
        "'aggregated_by_model', aggregated_by_model, 'aggregated_by_provider', aggregated_by_provider, "
        f"'total_metrics', total_metrics) FROM daily_usage_cache WHERE date = '{first + timedelta(days=i)}';\n"
        for i in range((e - first).days + 1))
    out = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1"], input=stmts,
                         capture_output=True, text=True, check=True).stdout
    return [json.loads(line, parse_float=Decimal) for line in out.splitlines() if line]


def main():
    start, end = sys.argv[1], sys.argv[2]
    filters = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    fetch_ms, total_ms = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        rows = fetch(start, end)
        t1 = time.perf_counter()
        dashboard(rows, start, end, filters)
        t2 = time.perf_counter()
        fetch_ms.append((t1 - t0) * 1000)
        total_ms.append((t2 - t0) * 1000)
    print(f"{statistics.median(fetch_ms):.0f} {statistics.median(total_ms):.0f}")


if __name__ == "__main__":
    main()
