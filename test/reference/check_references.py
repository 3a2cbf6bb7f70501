#!/usr/bin/env python3
"""Cross-check the two independent references on the rows of daily_usage_cache: the Python
dashboard (litemaas_dashboard.py, LiteMaaS's code paths) against the plain-SQL cell references
(cells.sql, loaded into the database), for every filter combination. Needs psql on PATH with
PGHOST/PGPORT/PGDATABASE set. Prints one line per check; exits 1 on any mismatch.

  check_references.py START END
"""
import itertools, json, subprocess, sys
from decimal import Decimal

from litemaas_breakdowns import run
from litemaas_dashboard import dashboard

FAILS = []


def psql(sql):
    out = subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def q(sql):
    return json.loads(psql(f"SELECT coalesce(json_agg(t), '[]') FROM ({sql}) t"), parse_float=Decimal)


def arr(xs):
    return "NULL" if xs is None else "ARRAY[" + ",".join("'" + x.replace("'", "''") + "'" for x in xs) + "]::text[]"


def check(name, got, want):
    ok = got == want
    if not ok:
        FAILS.append(name)
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else f"\n  python: {got}\n  sql:    {want}"))


def main(start, end):
    rows = json.loads(psql("SELECT json_agg(json_build_object('date', date, 'aggregated_by_user', aggregated_by_user, "
                           "'aggregated_by_model', aggregated_by_model, 'aggregated_by_provider', aggregated_by_provider, "
                           "'total_metrics', total_metrics) ORDER BY date) FROM daily_usage_cache"), parse_float=Decimal)
    users = q(f"SELECT user_id FROM litemaas_ref.user_breakdown('{start}', '{end}') ORDER BY user_id COLLATE \"C\"")
    models = q(f"SELECT model FROM litemaas_ref.model_breakdown('{start}', '{end}') ORDER BY model COLLATE \"C\"")
    keys = q(f"SELECT DISTINCT key_alias COLLATE \"C\" AS key_alias FROM litemaas_ref.api_key_breakdown('{start}', '{end}') ORDER BY 1")
    u = [x["user_id"] for x in users]
    m = [x["model"] for x in models]
    k = [x["key_alias"] for x in keys]
    # u[0] is the Unknown User in the fixture (no key cells): mixed with real users
    choices = {"userIds": [None, u[1:2], u[:1] + u[3:5] + ["no-such-user"]],
               "modelIds": [None, m[:1], m[2:5]],
               "apiKeyIds": [None, k[:1], k[1:4] + ["team-shared"]]}
    has_prev = psql(f"SELECT count(*) FROM daily_usage_cache WHERE date BETWEEN date '{start}' - (date '{end}' - date '{start}' + 1) AND date '{start}' - 1") != "0"
    for uf, mf, kf in itertools.product(*choices.values()):
        flt = {n: v for n, v in zip(choices, (uf, mf, kf)) if v is not None}
        args = f"'{start}', '{end}', {arr(uf)}, {arr(mf)}, {arr(kf)}"
        tag = f"[u={len(uf or [])} m={len(mf or [])} k={len(kf or [])}]"
        doc = dashboard(rows, start, end, flt)
        a = q(f"SELECT * FROM litemaas_ref.analytics({args})")[0]
        check(f"{tag} totals", (doc["totalRequests"], doc["totalTokens"]["total"], doc["totalTokens"]["prompt"],
                                doc["totalTokens"]["completion"], doc["totalCost"]["total"], doc["activeUsers"]),
              (a["total_requests"], a["total_tokens"], a["prompt_tokens"], a["completion_tokens"],
               a["total_cost"], a["active_users"]))
        for key, col in (("requestsTrend", "requests_change_pct"), ("costTrend", "cost_change_pct"),
                         ("totalTokensTrend", "tokens_change_pct"), ("usersTrend", "users_change_pct")):
            t = doc["trends"][key]
            # zero previous: 100 (or 0 when current is 0); no cached day at all before: 0 (createEmptyTrend)
            want = a[col] if a[col] is not None else (100 if t["current"] > 0 and has_prev else 0)
            check(f"{tag} {key}", Decimal(t["percentageChange"]), Decimal(want))
        ub = q(f"SELECT user_id, total_cost FROM litemaas_ref.user_breakdown({args})")
        check(f"{tag} byUser", doc["totalCost"]["byUser"], {r["user_id"]: r["total_cost"] for r in ub})
        mb = q(f"SELECT model, total_cost FROM litemaas_ref.model_breakdown({args})")
        check(f"{tag} byModel", doc["totalCost"]["byModel"], {r["model"]: r["total_cost"] for r in mb})
        pb = q(f"SELECT provider, total_cost FROM litemaas_ref.provider_breakdown({args})")
        check(f"{tag} byProvider", doc["totalCost"]["byProvider"], {r["provider"]: r["total_cost"] for r in pb})
        dt = q(f"SELECT date, total_requests, total_cost FROM litemaas_ref.daily_trend({args}) WHERE total_requests > 0")
        check(f"{tag} dailyUsage", [(d["date"], d["requests"], d["cost"]) for d in doc["dailyUsage"]],
              [(r["date"], r["total_requests"], r["total_cost"]) for r in dt])
        um = q(f"SELECT model, sum(total_requests) AS r FROM litemaas_ref.user_model_breakdown({args}) GROUP BY model")
        if flt:
            daily = {}
            for d in doc["dailyModelUsage"]:
                for x in d["models"]:
                    daily[x["modelId"]] = daily.get(x["modelId"], 0) + x["requests"]
            check(f"{tag} dailyModelUsage", daily, {r["model"]: int(r["r"]) for r in um})
        kb = q(f"SELECT key_alias, user_id, total_cost FROM litemaas_ref.api_key_breakdown({args}) LIMIT 1")
        top = doc["topMetrics"]["topApiKey"]
        check(f"{tag} topApiKey", (top["keyAlias"], top["userId"], top["cost"]) if top else None,
              (kb[0]["key_alias"], kb[0]["user_id"], kb[0]["total_cost"]) if kb else None)
        check_breakdowns(rows, start, end, flt, args, tag)
    fo = run(rows, start, end, "filter-options")
    check("filter-options models", [x["id"] for x in fo["models"]],
          [r["model"] for r in q(f"SELECT DISTINCT m.key COLLATE \"C\" AS model FROM daily_usage_cache d, "
                                 f"jsonb_object_keys(litemaas_ref.obj(d.aggregated_by_model)) m(key) "
                                 f"WHERE d.date BETWEEN '{start}' AND '{end}' ORDER BY 1")])
    print(f"{len(FAILS)} mismatches")
    sys.exit(1 if FAILS else 0)


def check_breakdowns(rows, start, end, flt, args, tag):
    bu = run(rows, start, end, "by-user", flt)
    ub = q(f"SELECT user_id, total_requests, total_cost, last_active FROM litemaas_ref.user_breakdown({args})")
    check(f"{tag} by-user", [(x["userId"], x["metrics"]["requests"], x["metrics"]["cost"], x["metrics"]["lastActive"][:10])
                             for x in bu],
          [(r["user_id"], r["total_requests"], r["total_cost"], r["last_active"]) for r in ub])
    um = q(f"SELECT user_id, model, total_requests, total_cost FROM litemaas_ref.user_model_breakdown({args})")
    check(f"{tag} by-user models", sorted((x["userId"], y["modelId"], y["requests"], y["cost"])
                                          for x in bu for y in x["metrics"]["models"]),
          sorted((r["user_id"], r["model"], r["total_requests"], r["total_cost"]) for r in um))
    kb = q(f"SELECT user_id, key_alias, total_requests, total_cost, last_used FROM litemaas_ref.api_key_breakdown({args})")
    check(f"{tag} by-user apiKeys", sorted((x["userId"], y["keyAlias"], y["requests"], y["cost"], y["lastUsed"][:10])
                                           for x in bu for y in x["metrics"]["apiKeys"]),
          sorted((r["user_id"], r["key_alias"], r["total_requests"], r["total_cost"], r["last_used"]) for r in kb))
    bm = run(rows, start, end, "by-model", flt)
    mb = q(f"SELECT model, total_requests, total_cost, users, provider FROM litemaas_ref.model_breakdown({args})")
    check(f"{tag} by-model", [(x["modelId"], x["metrics"]["requests"], x["metrics"]["cost"], x["metrics"]["users"],
                               x["provider"]) for x in bm],
          [(r["model"], r["total_requests"], r["total_cost"], r["users"], r["provider"]) for r in mb])
    bp = run(rows, start, end, "by-provider", flt)
    pb = q(f"SELECT provider, total_requests, total_cost, models, users FROM litemaas_ref.provider_breakdown({args})")
    check(f"{tag} by-provider", [(x["provider"], x["metrics"]["requests"], x["metrics"]["cost"], x["metrics"]["models"],
                                  x["metrics"]["users"]) for x in bp],
          [(r["provider"], r["total_requests"], r["total_cost"], r["models"], r["users"]) for r in pb])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
