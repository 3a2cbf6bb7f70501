#!/usr/bin/env python3
"""ducache_dashboard and ducache_filter_options against test/reference's LiteMaaS references
(litemaas_dashboard.py, litemaas_breakdowns.py) on the same rows: for several ranges (the
comparison period cached, partly cached, not cached; no cached day) and many filter
combinations. Costs compared as exact decimals, successRate with a tolerance, everything else
equal (jsonb reorders object keys, so documents are compared as parsed trees).

  dashboard_reference.py ROWS.json   (reads ducache's answers with psql, PG* environment)

providerIds: the reference does not apply it (LiteMaaS does not, L11); ducache applies it as
"the model's provider is in the list", so the reference gets the equivalent modelIds.
"""
import itertools, json, os, subprocess, sys
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
from litemaas_cells import load_rows, obj, providers_of, to_json  # noqa: E402
import litemaas_dashboard, litemaas_breakdowns  # noqa: E402

RANGES = [("2025-03-06", "2025-03-10"),  # comparison period 03-01..05: all cached
          ("2025-03-04", "2025-03-08"),  # comparison period 02-28..03-03: partly cached
          ("2025-03-01", "2025-03-03"),  # comparison period not cached: empty trends
          ("2025-03-09", "2025-03-12"),  # range partly cached
          ("2025-03-05", "2025-03-05"),  # one day
          ("2025-04-01", "2025-04-30")]  # no cached day: LiteMaaS's empty analytics


def parse(text):
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def psql(sql):
    out = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-F", "\t", "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [line.split("\t", 1) for line in out.splitlines()]


def lit(s):
    return "'" + s.replace("'", "''") + "'"


def diff(a, b, path="$"):
    """First difference between ducache's tree a and the reference's b, or None."""
    if path.endswith(".successRate"):
        return None if abs(Decimal(a) - Decimal(b)) <= Decimal("1e-9") * max(1, abs(Decimal(b))) else path
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return f"{path}: keys {sorted(set(a) ^ set(b))}"
        for k in b:
            d = diff(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = diff(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {a!r} vs {b!r}"


def main():
    rows = load_rows(sys.argv[1])
    models = sorted({m for r in rows for m in obj(r.get("aggregated_by_model"))})
    users = sorted({u for r in rows for u in obj(r.get("aggregated_by_user"))})
    real = [u for u in users if not u.startswith("00000000")]
    unknown = "00000000-0000-0000-0000-000000000000"
    user_sets = [None, [real[0]], [real[1], unknown], ["no-such-user"]]
    model_sets = [None, ["openai/gpt-4o-mini"], ["gpt-4o", "mistral-7b-instruct", "no-such-model"]]
    key_sets = [None, ["team-shared"], ["u1-ci", "u2-laptop"]]
    provider_sets = [None, ["mistralai"], ["openai", "google", "anthropic"]]
    cases = []
    for (s, e), us, ms, ks, ps in itertools.product(RANGES, user_sets, model_sets, key_sets, provider_sets):
        f = {k: v for k, v in (("userIds", us), ("modelIds", ms), ("apiKeyIds", ks), ("providerIds", ps)) if v}
        cases.append((s, e, f))
    values = ",".join(f"({i}, {lit(s)}::date, {lit(e)}::date, {lit(json.dumps(f))}::jsonb)"
                      for i, (s, e, f) in enumerate(cases))
    got = {int(i): doc for i, doc in psql(
        f"SELECT i, ducache_dashboard(s, e, f) FROM (VALUES {values}) AS c(i, s, e, f) ORDER BY i")}
    failures = nonempty = 0
    for i, (s, e, f) in enumerate(cases):
        ref_f = dict(f)
        if "providerIds" in f:  # the equivalent model filter (a sentinel when no model matches)
            prov = providers_of([r for r in rows if s <= str(r["date"]) <= e])  # the range's latest
            keep = [m for m in models if prov(m) in f["providerIds"] and m in (f.get("modelIds") or models)]
            ref_f["modelIds"] = keep or ["\x00 no model"]
            del ref_f["providerIds"]
        want = parse(to_json(litemaas_dashboard.dashboard(rows, s, e, ref_f)))
        nonempty += want["totalRequests"] > 0
        d = diff(parse(got[i]), want)
        if d:
            failures += 1
            print(f"MISMATCH dashboard {s}..{e} {json.dumps(f)}: {d}")
    print(f"dashboard: {len(cases)} cases ({nonempty} with usage), {failures} mismatches")
    opt_ranges = [("2025-03-01", "2025-03-10"), ("2025-03-04", "2025-03-06"), ("2025-04-01", "2025-04-02")]
    for s, e in opt_ranges:
        (_, doc), = psql(f"SELECT 0, ducache_filter_options({lit(s)}, {lit(e)})")
        want = parse(to_json(litemaas_breakdowns.run(rows, s, e, "filter-options")))
        d = diff(parse(doc), want)
        if d:
            failures += 1
            print(f"MISMATCH filter_options {s}..{e}: {d}")
    print(f"filter_options: {len(opt_ranges)} ranges")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
