#!/usr/bin/env python3
"""ducache_dashboard and ducache_filter_options on the rollups fixture (test/reference/
rollups_fixture.sql: several months, gaps, an incomplete day, identity / provider / key names
changing) after ducache_refresh_rollups(), against test/reference's LiteMaaS references over the
same rows: whole months, several months, mid-month ranges, the incomplete month; each with and
without rollups (ducache.use_rollups). Comparison rules as test/shell/dashboard_reference.py.

  rollups_dashboard_reference.py ROWS.json   (reads ducache's answers with psql, PG* environment)
"""
import itertools, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
from dashboard_reference import diff, lit, parse, psql  # noqa: E402
from litemaas_cells import load_rows, obj, providers_of, to_json  # noqa: E402
import litemaas_dashboard, litemaas_breakdowns  # noqa: E402

RANGES = [("2025-02-01", "2025-02-28"),  # one whole month (comparison period: January's days)
          ("2025-01-01", "2025-03-31"),  # three whole months
          ("2025-01-22", "2025-03-09"),  # mid-month to mid-month, February whole
          ("2025-02-13", "2025-02-20"),  # inside one month
          ("2025-03-01", "2025-04-30"),  # March and the incomplete April (comparison: Jan-Feb)
          ("2025-02-10", "2025-03-31")]  # from a gap to a gap


def main():
    rows = load_rows(sys.argv[1])
    models = sorted({m for r in rows for m in obj(r.get("aggregated_by_model"))})
    users = sorted({u for r in rows for u in obj(r.get("aggregated_by_user"))})
    real = [u for u in users if not u.startswith("00000000")]
    unknown = "00000000-0000-0000-0000-000000000000"
    user_sets = [None, [real[2], real[8]], [real[3], unknown]]
    model_sets = [None, ["mistral-7b-instruct", "granite-3.1-8b-instruct"]]
    key_sets = [None, ["u4-ci", "team-shared"]]
    provider_sets = [None, ["mistralai", "openai"]]
    cases = []
    for (s, e), us, ms, ks, ps in itertools.product(RANGES, user_sets, model_sets, key_sets, provider_sets):
        f = {k: v for k, v in (("userIds", us), ("modelIds", ms), ("apiKeyIds", ks), ("providerIds", ps)) if v}
        cases.append((s, e, f))
    values = ",".join(f"({i}, {lit(s)}::date, {lit(e)}::date, {lit(json.dumps(f))}::jsonb)"
                      for i, (s, e, f) in enumerate(cases))
    failures = nonempty = 0
    base_options = os.environ.get("PGOPTIONS", "")
    for setting in ("on", "off"):
        os.environ["PGOPTIONS"] = f"{base_options} -c ducache.use_rollups={setting}"
        got = {int(i): doc for i, doc in psql(
            f"SELECT i, ducache_dashboard(s, e, f) FROM (VALUES {values}) AS c(i, s, e, f) ORDER BY i")}
        for i, (s, e, f) in enumerate(cases):
            ref_f = dict(f)
            if "providerIds" in f:  # the equivalent model filter (a sentinel when no model matches)
                # a model's provider: the latest own "provider" in the range (providers change here)
                prov = providers_of([r for r in rows if s <= str(r["date"]) <= e])
                keep = [m for m in models if prov(m) in f["providerIds"] and m in (f.get("modelIds") or models)]
                ref_f["modelIds"] = keep or ["\x00 no model"]
                del ref_f["providerIds"]
            want = parse(to_json(litemaas_dashboard.dashboard(rows, s, e, ref_f)))
            nonempty += setting == "on" and want["totalRequests"] > 0
            d = diff(parse(got[i]), want)
            if d:
                failures += 1
                print(f"MISMATCH dashboard (rollups {setting}) {s}..{e} {json.dumps(f)}: {d}")
        for s, e in RANGES:
            (_, doc), = psql(f"SELECT 0, ducache_filter_options({lit(s)}, {lit(e)})")
            want = parse(to_json(litemaas_breakdowns.run(rows, s, e, "filter-options")))
            d = diff(parse(doc), want)
            if d:
                failures += 1
                print(f"MISMATCH filter_options (rollups {setting}) {s}..{e}: {d}")
    print(f"dashboard: {len(cases)} cases x rollups on/off ({nonempty} with usage); "
          f"filter_options: {len(RANGES)} ranges x on/off; {failures} mismatches")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
