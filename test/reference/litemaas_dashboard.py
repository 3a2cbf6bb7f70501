#!/usr/bin/env python3
"""Reference for ducache_dashboard (CONTRACT §5.4): LiteMaaS's POST /api/v1/admin/usage/analytics
document, computed the way LiteMaaS's AdminUsageStatsService.getAnalytics does it
(aggregateDailyData, calculateTotals, the trend calculator, findTop*, generateDaily*), with exact
Decimal sums and the evident bugs fixed; each fix is marked "L<n>" = item n of the list in
docs/litemaas.md.

  litemaas_dashboard.py ROWS.json START END ['{"userIds":[..],"modelIds":[..],"apiKeyIds":[..]}']

ROWS.json holds the cached days of both periods (see litemaas_cells.py). Prints the document.
"""
import sys
from datetime import date, timedelta
from decimal import Decimal, ROUND_HALF_UP

from litemaas_cells import (UNKNOWN_USER_ID, Filters, add, in_range, key_cells, load_rows, metrics,
                            obj, passing, providers_of, to_json, zero)

STABILITY_THRESHOLD = Decimal("1.0")  # ADMIN_ANALYTICS_TREND_STABILITY_THRESHOLD default
PRECISION = Decimal("0.01")           # ADMIN_ANALYTICS_TREND_PRECISION default 2
TOP_USERS, TOP_MODELS = 5, 10         # getAnalytics passes 5 and 10 (not the topLimits config)


def identity(days, uid):
    """username/email/role of the latest day in the range whose entry has them (choice: docs)."""
    for d in reversed(days):
        e = obj(obj(d.get("aggregated_by_user")).get(uid))
        if "username" in e:
            return e
    return {}


def aggregate(days, flt):
    """aggregateDailyData + calculateTotals, over the passing cells of CONTRACT §5.2."""
    by_user, by_model, by_provider, total = {}, {}, {}, zero()
    # A model's provider, one for the whole document: its latest own "provider" in the range,
    # else the name rule (docs/litemaas.md, "Provider of a model"; LiteMaaS derives it from the
    # name alone, so a model never has two).
    prov = providers_of(days)
    for d in days:
        for uid, _e, _m, _a, _n, m in passing(d, flt):
            add(by_user.setdefault(uid, zero()), m)
            add(total, m)  # L9: totals = sums of aggregated_by_user (LiteMaaS: of aggregated_by_model when unfiltered)
        if flt.any():  # L7: model figures from the passing cells, never stale model entries
            for _u, _e, model, _a, _n, m in passing(d, flt, need_model=True):
                add(by_model.setdefault(model, zero()), m)
                add(by_provider.setdefault(prov(model), zero()), m)
        else:
            for model, e in obj(d.get("aggregated_by_model")).items():
                add(by_model.setdefault(model, zero()), metrics(obj(e)))
            stored = obj(d.get("aggregated_by_provider"))
            if stored:
                for p, e in stored.items():
                    add(by_provider.setdefault(p, zero()), metrics(obj(e)))
            else:  # L3: LiteMaaS writes {} here, so byProvider was always empty; derive (§5.3)
                for model, e in obj(d.get("aggregated_by_model")).items():
                    # one provider per model for the document (LiteMaaS: extractProviderFromModel)
                    add(by_provider.setdefault(prov(model), zero()), metrics(obj(e)))
    # LiteMaaS drops users and models whose summed api_requests is 0 (kept: it is deliberate)
    by_user = {u: m for u, m in by_user.items() if m["requests"] != 0}
    by_model = {k: m for k, m in by_model.items() if m["requests"] != 0}
    return {"by_user": by_user, "by_model": by_model, "by_provider": by_provider, "total": total,
            "prov": prov}


def trend(metric, cur, prev, have_prev_days):
    """AdminUsageTrendCalculator.calculateTrend / createEmptyTrend; isSignificant is not in the
    served document (the route's TrendDataSchema drops it)."""
    if not have_prev_days:  # no cached day in the comparison period: createEmptyTrend
        return {"metric": metric, "current": cur, "previous": 0, "percentageChange": 0, "direction": "stable"}
    if prev == 0:
        return {"metric": metric, "current": cur, "previous": prev,
                "percentageChange": 100 if cur > 0 else 0, "direction": "up" if cur > 0 else "stable"}
    pct = (Decimal(cur) - Decimal(prev)) / Decimal(prev) * 100
    # direction from the unrounded change; stable when |change| <= threshold
    direction = "stable" if abs(pct) <= STABILITY_THRESHOLD else ("up" if pct > 0 else "down")
    # L8: rounded half away from zero, like SQL round(numeric, 2) (JS Math.round goes half up)
    return {"metric": metric, "current": cur, "previous": prev,
            "percentageChange": pct.quantize(PRECISION, rounding=ROUND_HALF_UP), "direction": direction}


def trends(cur, prev, have_prev_days):
    c, p = cur["total"], prev["total"]
    pairs = [("requestsTrend", "requests", "requests"), ("costTrend", "cost", "cost"),
             ("usersTrend", "users", None), ("totalTokensTrend", "totalTokens", "total_tokens"),
             ("promptTokensTrend", "promptTokens", "prompt_tokens"),
             ("completionTokensTrend", "completionTokens", "completion_tokens")]
    out = {}
    for key, name, field in pairs:
        cv = len(cur["by_user"]) if field is None else c[field]
        pv = len(prev["by_user"]) if field is None else p[field]
        out[key] = trend(name, cv, pv, have_prev_days)
    return out


def user_summary(days, uid, m):
    e = identity(days, uid)
    return {"userId": uid, "username": e.get("username"), "email": e.get("email"), "role": e.get("role"),
            "requests": m["requests"], "tokens": m["total_tokens"], "prompt_tokens": m["prompt_tokens"],
            "completion_tokens": m["completion_tokens"], "cost": m["cost"]}


def model_summary(model, m, provider):
    return {"modelId": model, "modelName": model, "provider": provider, "requests": m["requests"],
            "tokens": m["total_tokens"], "prompt_tokens": m["prompt_tokens"],
            "completion_tokens": m["completion_tokens"], "cost": m["cost"]}


def by_cost(items):
    """Cost descending; L8: ties by key in byte order (LiteMaaS: first in jsonb key order)."""
    return sorted(sorted(items, key=lambda kv: kv[0].encode()), key=lambda kv: kv[1]["cost"], reverse=True)


def top_api_key(days, flt):
    """L5: LiteMaaS's findTopApiKey always returns null; the top key cell by cost instead."""
    acc, names = {}, {}
    for d in days:
        for uid, _e, _m, alias, _n, m in key_cells(d, flt):
            add(acc.setdefault((alias, uid), zero()), m)
    if not acc:
        return None
    (alias, uid), m = sorted(acc.items(), key=lambda kv: (-kv[1]["cost"], kv[0][0].encode(), kv[0][1].encode()))[0]
    return {"keyId": alias, "keyAlias": alias, "userId": uid, "username": identity(days, uid).get("username"),
            "requests": m["requests"], "tokens": m["total_tokens"], "cost": m["cost"]}


def daily_usage(days, flt):
    """L1: every filter applies to the daily series (LiteMaaS ignores apiKeyIds unless userIds is
    set, and reads aggregated_by_model when only modelIds is set)."""
    out = []
    for d in days:
        s = zero()
        for *_x, m in passing(d, flt):
            add(s, m)
        if s["requests"] > 0:
            out.append({"date": d["date"], "requests": s["requests"], "tokens": s["total_tokens"],
                        "prompt_tokens": s["prompt_tokens"], "completion_tokens": s["completion_tokens"],
                        "cost": s["cost"]})
    return out


def daily_model_usage(days, flt, prov):
    out = []
    for d in days:
        per = {}
        if flt.any():  # L1: key filter applied with or without a user filter
            for _u, _e, model, _a, _n, m in passing(d, flt, need_model=True):
                add(per.setdefault(model, zero()), m)
        else:
            for model, e in obj(d.get("aggregated_by_model")).items():
                add(per.setdefault(model, zero()), metrics(obj(e)))
        models = [model_summary(k, m, prov(k))  # L6: same provider rule as everywhere
                  for k, m in sorted(per.items(), key=lambda kv: kv[0].encode()) if m["requests"] > 0]
        models.sort(key=lambda x: x["requests"], reverse=True)  # stable: ties by name (L8)
        if models:
            out.append({"date": d["date"], "models": models})
    return out


def dashboard(rows, start, end, filters_doc=None):
    flt = Filters(filters_doc)
    days = in_range(rows, start, end)
    if not days:
        return empty(start, end)
    cur = aggregate(days, flt)
    n = (date.fromisoformat(end) - date.fromisoformat(start)).days + 1
    pend = date.fromisoformat(start) - timedelta(days=1)
    prev_days = in_range(rows, (pend - timedelta(days=n - 1)).isoformat(), pend.isoformat())
    prev = aggregate(prev_days, flt)
    t = cur["total"]
    users = by_cost(list(cur["by_user"].items()))
    models = by_cost(list(cur["by_model"].items()))
    top_user = next((user_summary(days, u, m) for u, m in users if u != UNKNOWN_USER_ID), None)
    top_users = [user_summary(days, u, m) for u, m in users
                 if not (flt.users and u == UNKNOWN_USER_ID) and m["requests"] > 0][:TOP_USERS]
    return {
        "period": {"startDate": start, "endDate": end},
        "totalUsers": len(cur["by_user"]),
        "activeUsers": sum(1 for m in cur["by_user"].values() if m["requests"] > 0),
        "totalRequests": t["requests"],
        "totalTokens": {"total": t["total_tokens"], "prompt": t["prompt_tokens"], "completion": t["completion_tokens"]},
        "totalCost": {"total": t["cost"],
                      "byProvider": {p: m["cost"] for p, m in by_cost(list(cur["by_provider"].items()))},
                      "byModel": {k: m["cost"] for k, m in models},
                      "byUser": {u: m["cost"] for u, m in users}},
        # success rate is a ratio: compare with a tolerance, not digit for digit
        "successRate": (Decimal(t["successful_requests"]) * 100 / t["requests"]) if t["requests"] > 0 else 0,
        "averageLatency": 0,
        "topMetrics": {"topUser": top_user,
                       "topModel": model_summary(models[0][0], models[0][1], cur["prov"](models[0][0])) if models else None,
                       "topApiKey": top_api_key(days, flt)},
        "trends": trends(cur, prev, bool(prev_days)),
        "dailyUsage": daily_usage(days, flt),
        "dailyModelUsage": daily_model_usage(days, flt, cur["prov"]),
        "topModels": [model_summary(k, m, cur["prov"](k)) for k, m in models][:TOP_MODELS],
        "topUsers": top_users,
    }


def empty(start, end):
    """createEmptyAnalytics: no cached day in the range."""
    zt = {"current": 0, "previous": 0, "percentageChange": 0, "direction": "stable"}
    names = [("requestsTrend", "requests"), ("costTrend", "cost"), ("usersTrend", "users"),
             ("totalTokensTrend", "totalTokens"), ("promptTokensTrend", "promptTokens"),
             ("completionTokensTrend", "completionTokens")]
    return {"period": {"startDate": start, "endDate": end}, "totalUsers": 0, "activeUsers": 0,
            "totalRequests": 0, "totalTokens": {"total": 0, "prompt": 0, "completion": 0},
            "totalCost": {"total": 0, "byProvider": {}, "byModel": {}, "byUser": {}},
            "successRate": 0, "averageLatency": 0,
            "topMetrics": {"topUser": None, "topModel": None, "topApiKey": None},
            "trends": {k: dict(metric=n, **zt) for k, n in names},
            "dailyUsage": [], "dailyModelUsage": [], "topModels": [], "topUsers": []}


if __name__ == "__main__":
    import json
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    f = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    print(to_json(dashboard(load_rows(sys.argv[1]), sys.argv[2], sys.argv[3], f)))
