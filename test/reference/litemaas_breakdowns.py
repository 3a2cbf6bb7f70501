#!/usr/bin/env python3
"""References for LiteMaaS's /by-user, /by-model, /by-provider (unpaginated, LiteMaaS's item
shapes) and /filter-options, with every filter applied (LiteMaaS aggregates these unfiltered and
only cuts the list: docs/litemaas.md L12) and exact sums. "L<n>" = item n of that list.

  litemaas_breakdowns.py ROWS.json START END by-user|by-model|by-provider|filter-options ['{filters}']

Rows sorted by cost descending, ties by id in byte order (L8).
"""
import json, sys
from decimal import Decimal

from litemaas_cells import (Filters, add, in_range, key_cells, load_rows, metrics, obj, passing,
                            provider_rule, providers_of, to_json, zero)
from litemaas_dashboard import by_cost, identity

TOP = 5


def tokens(m):
    return {"total": m["total_tokens"], "prompt": m["prompt_tokens"], "completion": m["completion_tokens"]}


def rate(m):  # successful / (successful + failed), as LiteMaaS's aggregateByModel
    n = m["successful_requests"] + m["failed_requests"]
    return Decimal(m["successful_requests"]) * 100 / n if n else 0


def by_user(days, flt):
    prov = providers_of(days)
    tot, last, models, keys = {}, {}, {}, {}
    for d in days:
        for uid, _e, _m, _a, _n, m in passing(d, flt):
            add(tot.setdefault(uid, zero()), m)
            last[uid] = d["date"]  # L13: latest day with passing usage
        for uid, _e, model, _a, _n, m in passing(d, flt, need_model=True):
            add(models.setdefault(uid, {}).setdefault(model, zero()), m)
        for uid, _e, _m, alias, _n, m in key_cells(d, flt):
            k = keys.setdefault(uid, {}).setdefault(alias, {"m": zero(), "last": None})
            add(k["m"], m)
            k["last"] = d["date"]
    out = []
    for uid, m in by_cost(list(tot.items())):
        e = identity(days, uid)
        out.append({"userId": uid, "username": e.get("username"), "email": e.get("email"), "role": e.get("role"),
                    "metrics": {"requests": m["requests"], "tokens": tokens(m), "cost": m["cost"],
                                "models": [{"modelId": k, "modelName": k, "provider": prov(k), "requests": v["requests"],
                                            "tokens": tokens(v), "cost": v["cost"],
                                            "successRate": rate(v),  # L12: LiteMaaS: constant 100
                                            "averageLatency": 0}
                                           for k, v in by_cost(list(models.get(uid, {}).items()))],
                                # L5: per-key usage (LiteMaaS: always [])
                                "apiKeys": [{"keyId": a, "keyAlias": a, "requests": v["m"]["requests"],
                                             "tokens": tokens(v["m"]), "cost": v["m"]["cost"],
                                             "lastUsed": v["last"] + "T00:00:00.000Z"}
                                            for a, v in sorted(keys.get(uid, {}).items(),
                                                               key=lambda kv: (-kv[1]["m"]["cost"], kv[0].encode()))],
                                "lastActive": last[uid] + "T00:00:00.000Z"}})
    return out


def model_rows(days, flt):
    """model -> (metrics, {user: metrics} or None when no per-user detail)."""
    acc = {}
    for d in days:
        if flt.any():
            for uid, _e, model, _a, _n, m in passing(d, flt, need_model=True):
                mm, us = acc.setdefault(model, (zero(), {}))
                add(mm, m)
                add(us.setdefault(uid, zero()), m)  # L4: only users with passing usage
        else:
            for model, e in obj(d.get("aggregated_by_model")).items():
                mm, us = acc.setdefault(model, (zero(), None))
                add(mm, metrics(obj(e)))
                if isinstance(obj(e).get("users"), dict):
                    if us is None:
                        us = {}
                        acc[model] = (mm, us)
                    for uid, ue in e["users"].items():
                        add(us.setdefault(uid, zero()), metrics(obj(ue)))
    return acc


def by_model(days, flt):
    prov = providers_of(days)
    out = []
    rows = model_rows(days, flt)
    for model, m in by_cost([(k, v[0]) for k, v in rows.items()]):
        us = rows[model][1]
        top = [{"userId": u, "username": identity(days, u).get("username"), "email": identity(days, u).get("email"),
                "role": identity(days, u).get("role") or "user", "requests": v["requests"], "tokens": v["total_tokens"],
                "prompt_tokens": v["prompt_tokens"], "completion_tokens": v["completion_tokens"], "cost": v["cost"]}
               for u, v in by_cost(list((us or {}).items()))][:TOP]
        out.append({"modelId": model, "modelName": model, "provider": prov(model),
                    "metrics": {"requests": m["requests"], "tokens": tokens(m), "cost": m["cost"],
                                "users": None if us is None else len(us), "successRate": rate(m)},
                    "pricing": {"promptCostPerToken": 0, "completionCostPerToken": 0, "currency": "USD"},
                    "topUsers": top})
    return out


def by_provider(days, flt):
    """L3: derived from the models on days whose aggregated_by_provider is {} or NULL."""
    prov = providers_of(days)
    acc, models, users = {}, {}, {}
    for d in days:
        stored = obj(d.get("aggregated_by_provider"))
        if not flt.any() and stored:
            for p, e in stored.items():
                add(acc.setdefault(p, zero()), metrics(obj(e)))
            continue
        one = [d]
        for model, (m, us) in model_rows(one, flt).items():
            p = prov(model) if flt.any() else provider_rule(model, obj(obj(d.get("aggregated_by_model")).get(model)).get("provider"))
            add(acc.setdefault(p, zero()), m)
            models.setdefault(p, {}).setdefault(model, zero())
            add(models[p][model], m)
            if us is not None:
                users.setdefault(p, set()).update(us)
    out = []
    for p, m in by_cost(list(acc.items())):
        out.append({"provider": p,
                    "metrics": {"requests": m["requests"], "tokens": tokens(m), "cost": m["cost"],
                                "models": len(models[p]) if p in models else None,
                                "users": len(users[p]) if p in users else None,
                                "successRate": rate(m), "averageLatency": 0},
                    "topModels": [{"modelId": k, "modelName": k, "provider": p, "requests": v["requests"],
                                   "tokens": v["total_tokens"], "prompt_tokens": v["prompt_tokens"],
                                   "completion_tokens": v["completion_tokens"], "cost": v["cost"]}
                                  for k, v in by_cost(list(models.get(p, {}).items()))][:TOP]})
    return out


def filter_options(days):
    prov = providers_of(days)
    model_names, uids = set(), set()
    for d in days:
        for model, e in obj(d.get("aggregated_by_model")).items():
            model_names.add(model)
            uids.update(u for u, ue in obj(obj(e).get("users")).items() if obj(ue).get("username"))
        uids.update(u for u, ue in obj(d.get("aggregated_by_user")).items() if obj(ue).get("username"))
    users = [{"userId": u, "username": identity(days, u).get("username"), "email": identity(days, u).get("email") or ""}
             for u in uids]
    return {"models": [{"id": m, "name": m, "provider": prov(m)} for m in sorted(model_names, key=str.encode)],
            # L14: byte order (LiteMaaS: localeCompare); identity of the latest day (docs §8)
            "users": sorted(users, key=lambda x: ((x["username"] or "").encode(), x["userId"].encode()))}


def run(rows, start, end, what, filters_doc=None):
    days, flt = in_range(rows, start, end), Filters(filters_doc)
    if what == "filter-options":
        return filter_options(days)
    return {"by-user": by_user, "by-model": by_model, "by-provider": by_provider}[what](days, flt)


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    f = json.loads(sys.argv[5]) if len(sys.argv) > 5 else {}
    print(to_json(run(load_rows(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], f)))
