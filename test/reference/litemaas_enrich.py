#!/usr/bin/env python3
"""Reference for ducache_rebuild's 0.2 output (CONTRACT §5.5): what LiteMaaS's
enrichWithUserMapping writes for one day's raw_data, with the evident bugs fixed ("L<n>" =
docs/litemaas.md) and exact sums.

  litemaas_enrich.py RAW.json KEYS.json   -> {"aggregated_by_user", "aggregated_by_model",
                                              "aggregated_by_provider", "total_metrics"}
KEYS.json: [{"key_hash", "user_id", "username", "email", "role", "litellm_key_alias", "name"}],
the rows of api_keys JOIN users (inner join: a key whose user is gone is simply absent);
a NULL role reads "user".
Choices (fixes): model metrics are the sums of their parts (L2); unmapped keys stay under the
Unknown User's api_keys keyed by hash (L15); keys sharing an alias are summed, not overwritten;
successful/failed totals come from the non-skipped keys (L16).
"""
import json, sys
from decimal import Decimal

from litemaas_cells import UNKNOWN_USER_ID, obj, to_json

M7 = ("api_requests", "total_tokens", "prompt_tokens", "completion_tokens", "spend",
      "successful_requests", "failed_requests")
UNKNOWN = {"userId": UNKNOWN_USER_ID, "username": "Unknown User", "email": "unknown@system.local", "role": "user"}


def m7(x=None):
    x = obj(x)
    return {f: (Decimal(str(x.get(f) or 0)) if f == "spend" else int(x.get(f) or 0)) for f in M7}


def add(a, b):
    for f in M7:
        a[f] += b[f]
    return a


def enrich(raw, keys):
    by_hash = {k["key_hash"]: k for k in keys}
    users, models = {}, {}
    skipped = m7()
    for model, md in obj(obj(raw.get("breakdown")).get("models")).items():
        covered = 0
        for h, kd in obj(obj(md).get("api_keys")).items():
            km = m7(obj(kd).get("metrics"))
            if not h.strip():  # empty hash: skipped (health checks, failed auth)
                add(skipped, km)
                covered += km["api_requests"]
                continue
            covered += km["api_requests"]
            k = by_hash.get(h)
            if k:
                ident = {"userId": k["user_id"], "username": k["username"], "email": k["email"],
                         "role": k.get("role") or "user"}
                alias = k.get("litellm_key_alias") or obj(obj(kd).get("metadata")).get("key_alias") or h
                name = k.get("name")
            else:  # L15: kept under the Unknown User, keyed by hash
                ident, alias, name = UNKNOWN, h, "Unknown Key"
            put(users, models, ident, model, km, alias, name)
        rest = int(obj(obj(md).get("metrics")).get("api_requests") or 0) - covered
        if rest > 0:  # requests LiteLLM reports without key detail: Unknown User, requests only
            r = m7({"api_requests": rest})
            put(users, models, UNKNOWN, model, r, None, None)
    for u in list(users):  # users, then models, with 0 requests are dropped, as LiteMaaS does
        if users[u]["metrics"]["api_requests"] == 0:
            del users[u]
            for m in models.values():
                m["users"].pop(u, None)
    for m in list(models):
        if models[m]["metrics"]["api_requests"] == 0:
            del models[m]
            for u in users.values():
                u["models"].pop(m, None)
    total = m7(raw.get("metrics"))
    total["api_requests"] -= skipped["api_requests"]
    # L16: success/failure from the keys kept (LiteMaaS subtracts skipped requests from successful)
    total["successful_requests"] = sum(m["metrics"]["successful_requests"] for m in models.values())
    total["failed_requests"] = sum(m["metrics"]["failed_requests"] for m in models.values())
    return {"aggregated_by_user": users, "aggregated_by_model": models,
            "aggregated_by_provider": obj(obj(raw.get("breakdown")).get("providers")), "total_metrics": total}


def put(users, models, ident, model, km, alias, name):
    uid = ident["userId"]
    u = users.setdefault(uid, dict(ident, metrics=m7(), models={}))
    add(u["metrics"], km)
    um = u["models"].setdefault(model, {"modelName": model, "metrics": m7(), "api_keys": {}})
    add(um["metrics"], km)
    if alias is not None:  # summed: two hashes with one alias must not overwrite each other
        cell = um["api_keys"].setdefault(alias, {"keyAlias": alias, "keyName": name, "metrics": m7()})
        add(cell["metrics"], km)
    mm = models.setdefault(model, {"metrics": m7(), "users": {}})
    add(mm["metrics"], km)  # L2: the model is the sum of its parts (LiteMaaS adds tokens twice)
    mu = mm["users"].setdefault(uid, {"userId": uid, "username": ident["username"], "email": ident["email"],
                                      "metrics": m7()})
    add(mu["metrics"], km)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    raw = json.load(open(sys.argv[1]), parse_float=Decimal)
    keys = json.load(open(sys.argv[2]))
    print(to_json(enrich(raw, keys)))
